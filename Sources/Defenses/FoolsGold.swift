import Federated
import Foundation
import Synchronization

/// FoolsGold (Fung et al. 2020): clients whose update histories point the same way (sybils pushing one goal)
/// are down-weighted; each update's weight comes from its history's largest cosine similarity to another
/// client's, with the paper's pardoning and logit steps, and the aggregate is the weighted mean.
///
/// Histories are count sketches (`sketchSize` signed buckets from a seeded hash of the coordinate), so memory
/// does not grow with the model; sketches preserve inner products in expectation. The histories are the rule's
/// state: the simulation checkpoints and restores them (`persistentState`).
public final class FoolsGold: Aggregator, @unchecked Sendable {
  public let sketchSize: Int
  public let seed: UInt64
  let histories = Mutex<[Int: [Float]]>([:])
  /// The sketch's layout, hashed once for the model's size (the same every round).
  let layout = Mutex<CountSketch?>(nil)

  public init(sketchSize: Int = 4096, seed: UInt64 = 0) {
    precondition(sketchSize >= 16, "the sketch needs at least 16 buckets")
    self.sketchSize = sketchSize
    self.seed = seed
  }

  public var name: String { "FoolsGold" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let ordered = updates.sorted { $0.client < $1.client }
    let sketches = ordered.map { sketch($0.delta) }
    let current: [[Float]] = histories.withLock { stored in
      for (update, sketch) in zip(ordered, sketches) {
        var history = stored[update.client] ?? [Float](repeating: 0, count: sketchSize)
        for k in 0..<sketchSize { history[k] += sketch[k] }
        stored[update.client] = history
      }
      return ordered.map { stored[$0.client]! }
    }
    let weights = Self.weights(histories: current)
    let total = weights.reduce(0, +)
    var delta = [Float](repeating: 0, count: ordered[0].delta.count)
    if total > 0 {
      for (update, weight) in zip(ordered, weights) where weight > 0 { ParameterVector.add(update.delta, scaledBy: Float(weight / total), to: &delta) }
    }
    return AggregationResult(
      delta: delta,
      verdicts: Dictionary(uniqueKeysWithValues: zip(ordered, weights).map { update, weight in
        (update.client, weight == 0 ? .excluded : weight < 0.5 ? .downWeighted : .kept)
      }))
  }

  /// The paper's weights (Algorithm 1) from the clients' histories, in [0, 1].
  static func weights(histories: [[Float]]) -> [Double] {
    let n = histories.count
    guard n > 1 else { return [1] }
    let norms = histories.map { ParameterVector.norm($0) }
    var similarity = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n {
      for j in 0..<n where i != j {
        similarity[i][j] = norms[i] > 0 && norms[j] > 0 ? ParameterVector.dot(histories[i], histories[j]) / (norms[i] * norms[j]) : 0
      }
    }
    let maximum = (0..<n).map { i in (0..<n).filter { $0 != i }.map { similarity[i][$0] }.max()! }
    // Pardoning: honest clients that merely resemble a sybil are scaled back.
    for i in 0..<n {
      for j in 0..<n where i != j && maximum[i] < maximum[j] && maximum[j] > 0 {
        similarity[i][j] *= maximum[i] / maximum[j]
      }
    }
    var weights = (0..<n).map { i in min(1, max(0, 1 - (0..<n).filter { $0 != i }.map { similarity[i][$0] }.max()!)) }
    let largest = weights.max()!
    guard largest > 0 else { return weights.map { _ in 0 } }
    weights = weights.map { $0 / largest }.map { $0 == 1 ? 0.99 : $0 }
    return weights.map { value in
      let logit = log(value / (1 - value)) + 0.5
      return logit.isInfinite || logit > 1 ? 1 : logit.isNaN || logit < 0 ? 0 : logit
    }
  }

  /// Count sketch of `x` (`CountSketch`, seeded with the rule's seed).
  func sketch(_ x: [Float]) -> [Float] {
    let sketcher = layout.withLock { layout in
      if layout?.dimension != x.count { layout = CountSketch(size: sketchSize, dimension: x.count, seed: seed) }
      return layout!
    }
    return sketcher(x)
  }

  public var persistentState: [String: [Float]] {
    histories.withLock { stored in Dictionary(uniqueKeysWithValues: stored.map { ("history.\($0.key)", $0.value) }) }
  }

  public func restore(_ state: [String: [Float]]) {
    histories.withLock { stored in
      stored = [:]
      for (key, value) in state where key.hasPrefix("history.") {
        if let client = Int(key.dropFirst("history.".count)), value.count == sketchSize { stored[client] = value }
      }
    }
  }
}
