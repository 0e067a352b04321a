import Foundation
import Synchronization
import Testing

@testable import Tensors

/// Counts how often each part ran.
private final class PartCounts: Sendable {
  let counts: Mutex<[Int]>
  init(_ parts: Int) { counts = Mutex(Array(repeating: 0, count: parts)) }
  func hit(_ part: Int) { counts.withLock { $0[part] += 1 } }
  var values: [Int] { counts.withLock { $0 } }
}

@Test func poolRunsEveryPartOnceWhateverTheThreadCount() {
  for threads in [1, 2, 3] {
    ComputeThreads.withMaximum(threads) {
      for parts in [0, 1, 2, 7, 64] {
        let counts = PartCounts(parts)
        ComputePool.shared.run(parts: parts) { counts.hit($0) }
        #expect(counts.values == Array(repeating: 1, count: parts), "\(threads) threads, \(parts) parts")
      }
    }
  }
}

@Test func nestedAndConcurrentRegionsFinish() {
  ComputeThreads.withMaximum(2) {
    // A region inside a region runs on its own thread; regions from several threads at once share the pool.
    let inner = PartCounts(4 * 5)
    ComputePool.shared.run(parts: 4) { outer in
      ComputePool.shared.run(parts: 5) { inner.hit(outer * 5 + $0) }
    }
    #expect(inner.values == Array(repeating: 1, count: 20))
    let concurrent = PartCounts(6 * 9)
    DispatchQueue.concurrentPerform(iterations: 6) { caller in
      for _ in 0..<50 { ComputePool.shared.run(parts: 9) { _ in } }
      ComputePool.shared.run(parts: 9) { concurrent.hit(caller * 9 + $0) }
    }
    #expect(concurrent.values == Array(repeating: 1, count: 54))
  }
}

@Test func eachCallerSeesOnlyTheThreadCountItBound() async {
  #expect(ComputeThreads.maximum == 1, "nothing bound: one thread")
  await withTaskGroup(of: Bool.self) { group in
    for threads in 1...4 {
      group.addTask {
        ComputeThreads.withMaximum(threads) {
          (0..<2_000).allSatisfy { _ in ComputeThreads.maximum == threads && chunkCount(of: 100) == threads }
        }
      }
    }
    for await sawItsOwn in group { #expect(sawItsOwn, "a caller saw another caller's thread count") }
  }
  #expect(ComputeThreads.withMaximum(0) { ComputeThreads.maximum } == 1, "at least one thread")
  #expect(ComputeThreads.maximum == 1, "a binding ends with its scope")
}

@Test func everyPartRunsInTheCallersInstructionSetScope() {
  ComputeThreads.withMaximum(2) {
    // A first region starts the worker; the parts are slow enough that it claims some of every region after it (unless
    // another test holds the pool, when the caller runs them all: the check then holds trivially).
    ComputePool.shared.run(parts: 2) { _ in usleep(1_000) }
    for level in InstructionSet.runnable {
      InstructionSet.withMaximum(level) {
        let seen = Mutex([String: [InstructionSet]]())
        ComputePool.shared.run(parts: 16) { _ in
          usleep(2_000)
          seen.withLock { $0["\(pthread_self())", default: []].append(InstructionSet.current) }
        }
        let byThread = seen.withLock { $0 }
        #expect(byThread.values.joined().allSatisfy { $0 == level }, "scope \(level): \(byThread)")
      }
    }
  }
}
