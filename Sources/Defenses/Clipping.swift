import Federated
import Randomness

/// Scales every update down to at most `bound` in L2 norm, then hands them to `inner` (Sun et al. 2019).
/// `.median` uses the round's median update norm as the bound (adaptive clipping).
public struct NormClipping: Aggregator {
  public enum Bound: Sendable, Equatable {
    case fixed(Double)
    case median
  }
  public var bound: Bound
  public var inner: any Aggregator

  public init(bound: Bound, inner: any Aggregator = FederatedAveraging()) {
    self.bound = bound
    self.inner = inner
  }

  public var name: String { "NormClipping(\(bound == .median ? "median" : "fixed")) + \(inner.name)" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let norms = updates.map { ParameterVector.norm($0.delta) }
    let limit: Double =
      switch bound {
      case .fixed(let value): value
      case .median: lowerMedian(norms)
      }
    var clipped = Set<Int>()
    let bounded = zip(updates, norms).map { update, norm -> ClientUpdate in
      guard norm > limit, norm > 0 else { return update }
      clipped.insert(update.client)
      return ClientUpdate(client: update.client, delta: ParameterVector.scaled(update.delta, by: Float(limit / norm)), exampleCount: update.exampleCount)
    }
    var result = try inner.aggregate(bounded, round: round)
    for client in clipped where result.verdicts[client] == .kept { result.verdicts[client] = .clipped }
    return result
  }
}

/// Weak differential privacy (Sun et al. 2019): clipped updates, then Gaussian noise N(0, σ²) added to every
/// coordinate of the aggregate. The noise comes from (seed, round), so runs repeat exactly.
public struct WeakDifferentialPrivacy: Aggregator {
  public var clipping: NormClipping
  public var noiseStandardDeviation: Double
  public var seed: UInt64

  public init(clipBound: Double, noiseStandardDeviation: Double, seed: UInt64 = 0, inner: any Aggregator = FederatedAveraging()) {
    clipping = NormClipping(bound: .fixed(clipBound), inner: inner)
    self.noiseStandardDeviation = noiseStandardDeviation
    self.seed = seed
  }

  public var name: String { "WeakDP(σ \(noiseStandardDeviation)) + \(clipping.name)" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    var result = try clipping.aggregate(updates, round: round)
    var generator = SplitMix64(seed: seed, stream: [0x4E4F_4953, UInt64(round)])  // "NOIS"
    let sigma = Float(noiseStandardDeviation)
    for i in result.delta.indices { result.delta[i] += Float(generator.nextStandardNormal()) * sigma }
    return result
  }
}

/// The median as numpy takes it: the middle value, or the mean of the middle two of an even count; 0 for none.
func median(_ values: [Double]) -> Double {
  guard !values.isEmpty else { return 0 }
  let sorted = values.sorted(), middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// The lower median of `values` (the ⌈n/2⌉-th smallest).
func lowerMedian(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  return sorted[(sorted.count - 1) / 2]
}
