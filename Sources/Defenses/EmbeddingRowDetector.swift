import Federated

/// A text-specific detector: rare-word and rare-embedding backdoors concentrate an update on a few embedding
/// rows that almost no other client touches (the trigger's). For each client, the score is its largest
/// update-row norm among rows that at most `maximumSharers` clients of the round moved; a client scoring more
/// than `factor` × the round's median score is excluded, and `inner` combines the rest.
public struct EmbeddingRowDetector: Aggregator {
  /// Where the embedding matrix [rows, dimension] lies in the flattened parameter vector.
  public var embeddingRange: Range<Int>
  public var dimension: Int
  public var factor: Double
  public var maximumSharers: Int
  public var inner: any Aggregator

  public init(embeddingRange: Range<Int>, dimension: Int, factor: Double = 4, maximumSharers: Int = 2, inner: any Aggregator = FederatedAveraging()) {
    precondition(dimension > 0 && embeddingRange.count % dimension == 0, "the embedding range must hold whole rows")
    self.embeddingRange = embeddingRange
    self.dimension = dimension
    self.factor = factor
    self.maximumSharers = maximumSharers
    self.inner = inner
  }

  public var name: String { "EmbeddingRowDetector + \(inner.name)" }

  /// Each client's score (largest norm on a rarely shared row), in the order of `updates`.
  public func scores(_ updates: [ClientUpdate]) -> [Double] {
    let rows = embeddingRange.count / dimension
    var rowNorms = [[Float]](repeating: [], count: updates.count)
    var sharers = [Int](repeating: 0, count: rows)
    for (index, update) in updates.enumerated() {
      precondition(update.delta.count >= embeddingRange.upperBound, "the update is smaller than the embedding range")
      var norms = [Float](repeating: 0, count: rows)
      update.delta.withUnsafeBufferPointer { delta in
        for row in 0..<rows {
          let start = embeddingRange.lowerBound + row * dimension
          var sum: Float = 0
          for k in 0..<dimension { sum += delta[start + k] * delta[start + k] }
          norms[row] = sum.squareRoot()
          if sum > 0 { sharers[row] += 1 }
        }
      }
      rowNorms[index] = norms
    }
    return rowNorms.map { norms in
      var best: Float = 0
      for row in 0..<rows where sharers[row] <= maximumSharers && norms[row] > best { best = norms[row] }
      return Double(best)
    }
  }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let ordered = updates.sorted { $0.client < $1.client }
    let scores = scores(ordered)
    let median = scores.sorted()[(scores.count - 1) / 2]
    let flagged = Set(ordered.indices.filter { scores[$0] > factor * max(median, 1e-12) }.map { ordered[$0].client })
    let kept = ordered.filter { !flagged.contains($0.client) }
    var result = try inner.aggregate(kept.isEmpty ? ordered : kept, round: round)
    for client in flagged where !kept.isEmpty { result.verdicts[client] = .excluded }
    return result
  }
}
