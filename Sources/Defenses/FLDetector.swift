import Federated
import Foundation
import Randomness
import Synchronization

/// FLDetector (Zhang et al., KDD 2022): a client's update should be predictable from its previous one and how the
/// global model has moved since; a poisoner's is not. The server keeps the last `window` pairs (s = change of the
/// global model, y = change of the aggregate pseudo-gradient g = −Δ) and approximates the Hessian with L-BFGS
/// (`LBFGSHessian`); client i's update at round t is predicted as ĝᵢ = gᵢ(τ) + B·(w_(t−1) − w_(τ−1)), τ its last round.
/// The prediction errors ‖ĝᵢ − gᵢ‖ of a round are normalised (divided by their median), a client's suspicious score is
/// the mean of its last `window` errors, and when the gap statistic (`GapStatistic`) finds more than one group among
/// the round's scores, 2-means splits them and the higher cluster is excluded, then and in every later round. The
/// aggregate is the mean (`inner`) of the updates kept.
///
/// Where the lab departs from the paper (docs/defenses.md): the paper has every client in every round (τ = t − 1);
/// here a client is predicted from its last round when that lies within the window, so it works under client
/// sampling; and a round's errors are divided by their median, not their sum: with every client in every round the
/// paper's sum scales all clients alike, but under sampling a round whose sum the attackers inflate would make its
/// honest clients look unusually predictable for the rest of the window. Errors are measured on count sketches (`CountSketch`, `sketchSize` buckets) of the updates, so the
/// memory per client is fixed; the L-BFGS pairs are kept whole. The paper, once it detects, rolls the model back and
/// restarts training without the detected clients; the lab keeps the model and excludes them from then on. k-means
/// is solved exactly (`LineKMeans`) rather than by Lloyd's iterations.
///
/// Memory: 2·(window + 1) model-sized vectors, plus sketchSize floats for each client seen in the last `window` rounds
/// and `window` floats for every client seen. All of it is the rule's checkpointed state.
public final class FLDetector: GlobalChangeObserver, @unchecked Sendable {
  public let window: Int
  public let sketchSize: Int
  public let seed: UInt64
  let inner: FederatedAveraging
  let gapStatistic = GapStatistic()
  let memory = Mutex(Memory())

  /// What the rule remembers of one client.
  struct ClientTrace: Equatable {
    /// The round of its latest update, and that update's sketch (dropped once the round leaves the window).
    var round: Int
    var sketch: [Float]?
    /// Its normalised prediction errors, newest last, at most `window`.
    var errors: [Float] = []

    var score: Double { errors.isEmpty ? 0 : errors.reduce(0) { $0 + Double($1) } / Double(errors.count) }
  }

  struct Memory {
    /// Round r → the change the server applied after round r.
    var changes: [Int: [Float]] = [:]
    /// Round r → g_r − g_(r−1), the change of the aggregate pseudo-gradient (paired with changes[r − 1]).
    var gradientDifferences: [Int: [Float]] = [:]
    /// The latest round's aggregate (Δ).
    var lastAggregate: (round: Int, delta: [Float])?
    var clients: [Int: ClientTrace] = [:]
    var excluded: Set<Int> = []
    var sketcher: CountSketch?
  }

  public init(window: Int = 10, sketchSize: Int = 4096, seed: UInt64 = 0, weighting: FederatedAveraging.Weighting = .examples) {
    precondition(window >= 1, "FLDetector's window must hold at least one round")
    precondition(sketchSize >= 16, "the sketch needs at least 16 buckets")
    self.window = window
    self.sketchSize = sketchSize
    self.seed = seed
    inner = FederatedAveraging(weighting: weighting)
  }

  public var name: String { "FLDetector" }

  public func observe(appliedChange: [Float], round: Int) {
    memory.withLock { memory in
      memory.changes[round] = appliedChange
      // Kept: rounds round − window … round (the pairs' s and the vectors from a client's last round to now).
      memory.changes = memory.changes.filter { $0.key >= round - window }
    }
  }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let ordered = updates.sorted { $0.client < $1.client }
    let dimension = ordered[0].delta.count
    for update in ordered where update.delta.count != dimension {
      throw .sizeMismatch(client: update.client, expected: dimension, got: update.delta.count)
    }
    return memory.withLock { memory in
      if memory.sketcher?.dimension != dimension { memory.sketcher = CountSketch(size: sketchSize, dimension: dimension, seed: seed) }
      let sketcher = memory.sketcher!
      let active = ordered.filter { !memory.excluded.contains($0.client) }
      let sketches = active.map { sketcher($0.delta) }

      // Prediction errors of the clients whose last round lies within the window.
      var errors: [(client: Int, error: Double)] = []
      if let predictor = Predictor(memory: memory, round: round, window: window, sketcher: sketcher) {
        for (update, sketch) in zip(active, sketches) {
          guard let trace = memory.clients[update.client], let previous = trace.sketch, trace.round < round,
            let correction = predictor.sketchedCorrection(since: trace.round)
          else { continue }
          // Δ̂ − Δ = Δ(τ) − B·v − Δ (the prediction in g = −Δ is g(τ) + B·v).
          var squared = 0.0
          for k in 0..<sketchSize {
            let difference = Double(previous[k]) - correction[k] - Double(sketch[k])
            squared += difference * difference
          }
          errors.append((update.client, squared.squareRoot()))
        }
      }
      let typicalError = median(errors.map(\.error))
      if typicalError > 0, typicalError.isFinite {
        for (client, error) in errors {
          memory.clients[client]!.errors.append(Float(error / typicalError))
          memory.clients[client]!.errors = Array(memory.clients[client]!.errors.suffix(window))
        }
      }

      // Detection, in rounds that measured errors: the round's scored clients, split when they form groups.
      var flagged: Set<Int> = []
      let scored = active.compactMap { update in memory.clients[update.client].flatMap { $0.errors.isEmpty ? nil : (update.client, $0.score) } }
      if !errors.isEmpty, scored.count >= 3 {
        var generator = SplitMix64(seed: seed, stream: [0x464C_4454, UInt64(round)])  // "FLDT"
        if gapStatistic.groupCount(scored.map(\.1), generator: &generator) >= 2 {
          let split = LineKMeans.cluster(scored.map(\.1), k: 2)
          let threshold = split.sorted[split.starts[1]]
          flagged = Set(scored.filter { $0.1 >= threshold }.map(\.0))
        }
      }
      memory.excluded.formUnion(flagged)

      let kept = active.filter { !flagged.contains($0.client) }
      let zero = [Float](repeating: 0, count: dimension)
      let delta = kept.isEmpty ? zero : (try? inner.aggregate(kept, round: round))?.delta ?? zero

      // This round's pair half (y), its aggregate, and the clients' traces.
      if let last = memory.lastAggregate, last.round == round - 1 {
        memory.gradientDifferences[round] = ParameterVector.difference(last.delta, delta)  // g_t − g_(t−1) with g = −Δ
      }
      memory.gradientDifferences = memory.gradientDifferences.filter { $0.key > round - window }
      memory.lastAggregate = (round, delta)
      for (update, sketch) in zip(active, sketches) {
        var trace = memory.clients[update.client] ?? ClientTrace(round: round)
        trace.round = round
        trace.sketch = flagged.contains(update.client) ? nil : sketch
        memory.clients[update.client] = trace
      }
      for (client, trace) in memory.clients where trace.sketch != nil && trace.round < round + 1 - window {
        memory.clients[client]!.sketch = nil
      }
      return AggregationResult(
        delta: delta, verdicts: Dictionary(uniqueKeysWithValues: ordered.map { ($0.client, memory.excluded.contains($0.client) ? .excluded : .kept) }))
    }
  }

  /// One round's Hessian approximation and the sketched corrections B·(w_(t−1) − w_(τ−1)) it gives, per τ.
  struct Predictor {
    let hessian: LBFGSHessian
    let changes: [Int: [Float]]
    let round: Int
    let sketcher: CountSketch
    let sketchedPairs: (s: [[Float]], y: [[Float]])

    /// nil until the window holds a full set of pairs, or when they give no usable approximation.
    init?(memory: Memory, round: Int, window: Int, sketcher: CountSketch) {
      let pairRounds = Array((round - window)..<round)
      guard pairRounds.first! >= 2 else { return nil }
      var s: [[Float]] = [], y: [[Float]] = []
      for r in pairRounds {
        guard let change = memory.changes[r - 1], let difference = memory.gradientDifferences[r] else { return nil }
        s.append(change)
        y.append(difference)
      }
      guard let hessian = LBFGSHessian(s: s, y: y) else { return nil }
      self.hessian = hessian
      self.changes = memory.changes
      self.round = round
      self.sketcher = sketcher
      sketchedPairs = (s.map { sketcher($0) }, y.map { sketcher($0) })
    }

    /// The sketch of B·v for v = w_(t−1) − w_(τ−1), the sum of the changes of rounds τ … t − 1; nil when one of
    /// them has left the window.
    func sketchedCorrection(since lastRound: Int) -> [Double]? {
      guard var v = changes[lastRound] else { return nil }
      for r in stride(from: lastRound + 1, to: round, by: 1) {
        guard let change = changes[r] else { return nil }
        ParameterVector.add(change, to: &v)
      }
      guard let (sCoefficients, yCoefficients) = hessian.coefficients(for: v) else { return nil }
      var correction = sketcher(v).map { hessian.sigma * Double($0) }
      for (coefficient, column) in zip(sCoefficients + yCoefficients, sketchedPairs.s + sketchedPairs.y) {
        for k in 0..<correction.count { correction[k] += coefficient * Double(column[k]) }
      }
      return correction
    }
  }

  public var persistentState: [String: [Float]] {
    memory.withLock { memory in
      var state: [String: [Float]] = [:]
      for (round, change) in memory.changes { state["change.\(round)"] = change }
      for (round, difference) in memory.gradientDifferences { state["gradient_difference.\(round)"] = difference }
      if let last = memory.lastAggregate { state["aggregate.\(last.round)"] = last.delta }
      for (client, trace) in memory.clients {
        state["client.\(client).round"] = [Float(trace.round)]
        if let sketch = trace.sketch { state["client.\(client).sketch"] = sketch }
        if !trace.errors.isEmpty { state["client.\(client).errors"] = trace.errors }
      }
      if !memory.excluded.isEmpty { state["excluded"] = memory.excluded.sorted().map(Float.init) }
      return state
    }
  }

  public func restore(_ state: [String: [Float]]) {
    memory.withLock { memory in
      memory = Memory()
      for (key, value) in state {
        let parts = key.split(separator: ".").map(String.init)
        switch (parts.first, parts.count) {
        case ("change", 2): if let round = Int(parts[1]) { memory.changes[round] = value }
        case ("gradient_difference", 2): if let round = Int(parts[1]) { memory.gradientDifferences[round] = value }
        case ("aggregate", 2): if let round = Int(parts[1]) { memory.lastAggregate = (round, value) }
        case ("excluded", 1): memory.excluded = Set(value.map { Int($0) })
        case ("client", 3):
          guard let client = Int(parts[1]) else { continue }
          var trace = memory.clients[client] ?? ClientTrace(round: 0)
          switch parts[2] {
          case "round": trace.round = Int(value.first ?? 0)
          case "sketch": trace.sketch = value.count == sketchSize ? value : nil
          case "errors": trace.errors = value
          default: break
          }
          memory.clients[client] = trace
        default: break
        }
      }
    }
  }
}
