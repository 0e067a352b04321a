import Federated

/// Krum (Blanchard et al. 2017): each update's score is the sum of squared distances to its n − f − 2 nearest
/// others; the lowest score wins. `keep > 1` is Multi-Krum: the `keep` lowest scores, averaged with example
/// weights (as Flower's `aggregate_krum` with `to_keep`). Needs n ≥ 2f + 3. Exact ties (two updates that are each
/// other's nearest neighbour) go to the lowest client id.
public struct Krum: Aggregator {
  public var assumedByzantine: Int
  public var keep: Int

  public init(assumedByzantine: Int, keep: Int = 1) {
    precondition(assumedByzantine >= 0 && keep >= 1, "f ≥ 0 and keep ≥ 1")
    self.assumedByzantine = assumedByzantine
    self.keep = keep
  }

  public var name: String { keep > 1 ? "MultiKrum(f \(assumedByzantine), keep \(keep))" : "Krum(f \(assumedByzantine))" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    let minimum = max(2 * assumedByzantine + 3, keep)
    guard updates.count >= minimum else { throw .tooFewUpdates(rule: name, round: round, minimum: minimum, got: updates.count) }
    let ordered = updates.sorted { $0.client < $1.client }
    let scores = Self.scores(squaredDistances(ordered.map(\.delta)), assumedByzantine: assumedByzantine)
    let chosen = Array(scores.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(keep))
    let delta =
      keep == 1
      ? ordered[chosen[0]].delta
      : ParameterVector.weightedMean(chosen.map { ordered[$0].delta }, weights: chosen.map { Double(max(ordered[$0].exampleCount, 1)) })
    let kept = Set(chosen)
    return AggregationResult(
      delta: delta, verdicts: Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1.client, kept.contains($0) ? .kept : .excluded) }))
  }

  /// Krum scores from a matrix of squared distances.
  static func scores(_ distances: [[Double]], assumedByzantine: Int) -> [Double] {
    let n = distances.count
    let closest = max(1, n - assumedByzantine - 2)
    return (0..<n).map { i in
      let others = (0..<n).filter { $0 != i }.map { distances[i][$0] }.sorted()
      return others.prefix(closest).reduce(0, +)
    }
  }
}

/// Bulyan (El Mhamdi et al. 2018), as Flower's `aggregate_bulyan` with Krum: θ = n − 2f updates chosen by
/// repeated Krum (each pick removed before the next), then per coordinate the mean of the β = θ − 2f values
/// closest to the chosen updates' median. Needs n ≥ 4f + 3.
public struct Bulyan: Aggregator {
  public var assumedByzantine: Int

  public init(assumedByzantine: Int) {
    precondition(assumedByzantine >= 0, "f ≥ 0")
    self.assumedByzantine = assumedByzantine
  }

  public var name: String { "Bulyan(f \(assumedByzantine))" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    let f = assumedByzantine
    guard updates.count >= 4 * f + 3 else { throw .tooFewUpdates(rule: name, round: round, minimum: 4 * f + 3, got: updates.count) }
    let ordered = updates.sorted { $0.client < $1.client }
    let distances = squaredDistances(ordered.map(\.delta))
    var remaining = Array(ordered.indices)
    var selected: [Int] = []
    let theta = ordered.count - 2 * f, beta = theta - 2 * f
    for _ in 0..<theta {
      let sub = remaining.map { i in remaining.map { distances[i][$0] } }
      let scores = Krum.scores(sub, assumedByzantine: f)
      let best = scores.indices.min { (scores[$0], $0) < (scores[$1], $1) }!
      selected.append(remaining.remove(at: best))
    }
    let chosen = selected.sorted().map { ordered[$0] }
    let n = chosen.count
    let delta = coordinateWise(chosen) { values in
      sortSmall(values, n)
      let median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
      // The β values closest to the median: a window of the sorted values, grown towards the nearer side.
      var low = n % 2 == 1 ? n / 2 : n / 2 - 1, high = low  // [low, high] inclusive
      while high - low + 1 < beta {
        if low == 0 { high += 1 } else if high == n - 1 { low -= 1 } else if abs(values[low - 1] - median) <= abs(values[high + 1] - median) { low -= 1 } else { high += 1 }
      }
      var sum: Float = 0
      for i in low...high { sum += values[i] }
      return sum / Float(beta)
    }
    let kept = Set(chosen.map(\.client))
    return AggregationResult(delta: delta, verdicts: Dictionary(uniqueKeysWithValues: ordered.map { ($0.client, kept.contains($0.client) ? .kept : .excluded) }))
  }
}

/// Squared Euclidean distances between vectors, from the Gram matrix (‖a‖² + ‖b‖² − 2⟨a, b⟩, at least 0).
func squaredDistances(_ vectors: [[Float]]) -> [[Double]] {
  let n = vectors.count
  var gram = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
  for i in 0..<n {
    for j in i..<n {
      let value = ParameterVector.dot(vectors[i], vectors[j])
      gram[i][j] = value
      gram[j][i] = value
    }
  }
  var distances = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
  for i in 0..<n {
    for j in 0..<n where i != j {
      let value: Double = gram[i][i] + gram[j][j] - 2 * gram[i][j]
      distances[i][j] = max(0, value)
    }
  }
  return distances
}
