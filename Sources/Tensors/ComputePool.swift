import Foundation
import Synchronization

/// The threads that run the parts of the kernels' parallel regions: the calling thread and
/// `ComputeThreads.maximum − 1` workers that spin for a millisecond after each region before they sleep.
///
/// Why not `DispatchQueue.concurrentPerform`: waking a dispatch worker costs 25–50 µs on this 2-core
/// machine, about what one elementwise op or a small product takes, so a training step of a few hundred
/// short regions gained almost nothing from a second thread. A spinning worker picks a region up within a
/// microsecond or so (OpenMP runtimes, PyTorch's included, spin the same way).
///
/// Which part computes what is fixed by the caller; the pool only decides which thread runs a part, so
/// results never depend on it. A region started while another is running (a nested one, or one from
/// another thread, e.g. federated clients trained concurrently) runs its parts on its own thread, in order.
final class ComputePool: @unchecked Sendable {
  static let shared = ComputePool()

  /// How long an idle worker spins before it sleeps.
  static let spinNanoseconds: UInt64 = 1_000_000

  /// One parallel region: its parts are claimed one at a time by whichever thread comes first.
  private final class Region: @unchecked Sendable {
    /// Set while the region runs; only read by a thread that has claimed a part, and cleared by the caller once
    /// every part has finished.
    var body: ((Int) -> Void)?
    let parts: Int
    /// The caller's instruction-set scope (`InstructionSet.withMaximum`, a task-local value the workers do not
    /// inherit), so that every part runs the kernels the caller would.
    let instructionSetScope = InstructionSet.scopedMaximum
    let nextPart = Atomic<Int>(0)
    let finishedParts = Atomic<Int>(0)

    init(parts: Int, body: @escaping (Int) -> Void) {
      self.parts = parts
      self.body = body
    }

    /// Not inlined, so the closure's context is released before the part is counted as finished (the caller
    /// checks that the closure did not escape once all parts are done).
    @inline(never) private func run(_ part: Int) { InstructionSet.$scopedMaximum.withValue(instructionSetScope) { body!(part) } }

    func work() {
      while true {
        let part = nextPart.wrappingAdd(1, ordering: .relaxed).oldValue
        guard part < parts else { return }
        run(part)
        finishedParts.wrappingAdd(1, ordering: .releasing)
      }
    }
  }

  private let busy = Atomic<Bool>(false)
  private let generation = Atomic<Int>(0)
  private let sleepers = Atomic<Int>(0)
  /// Guards `current`, `workerCount` and the workers' sleep.
  private let condition = NSCondition()
  private var current: Region?
  private var workerCount = 0

  /// Runs `body(0..<parts)`, each part once, on up to `parts` threads; returns when all have finished.
  func run(parts: Int, _ body: (Int) -> Void) {
    guard parts > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
      for part in 0..<parts { body(part) }
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    startWorkers(upTo: Swift.min(parts, ComputeThreads.maximum) - 1)
    withoutActuallyEscaping(body) { body in
      let region = Region(parts: parts, body: body)
      condition.lock()
      current = region
      condition.unlock()
      generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        condition.lock()
        condition.broadcast()
        condition.unlock()
      }
      region.work()
      while region.finishedParts.load(ordering: .acquiring) < parts {}
      condition.lock()
      current = nil
      condition.unlock()
      region.body = nil
    }
  }

  private func startWorkers(upTo count: Int) {
    condition.lock()
    defer { condition.unlock() }
    while workerCount < count {
      workerCount += 1
      let thread = Thread { [unowned self] in self.workerLoop() }
      thread.name = "compute \(workerCount)"
      thread.start()
    }
  }

  private func workerLoop() {
    var seen = generation.load(ordering: .acquiring)
    while true {
      var spins = 0
      var spinStart: UInt64 = 0
      while generation.load(ordering: .acquiring) == seen {
        spins += 1
        guard spins & 1023 == 0 else { continue }
        let now = DispatchTime.now().uptimeNanoseconds
        if spinStart == 0 {
          spinStart = now
        } else if now - spinStart > Self.spinNanoseconds {
          condition.lock()
          sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
          while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
          sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
          condition.unlock()
        }
      }
      seen = generation.load(ordering: .acquiring)
      condition.lock()
      let region = current
      condition.unlock()
      region?.work()
    }
  }
}
