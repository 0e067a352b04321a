import Federated

/// The geometric median of the updates by the smoothed Weiszfeld algorithm (RFA, Pillutla et al. 2022):
/// v ← Σ βᵢxᵢ / Σ βᵢ with βᵢ = αᵢ / max(ν, ‖v − xᵢ‖), αᵢ the example weights. It starts from the coordinate-wise
/// median, which a minority of huge updates cannot drag away (the weighted mean can: RFA's own code starts there and
/// stops after a few iterations, before Weiszfeld's slow progress from such a start gets anywhere), and iterates
/// until the objective Σ αᵢ‖v − xᵢ‖ improves by less than `tolerance` (relative) or `maximumIterations` pass.
/// A client whose final weight is under half its FedAvg weight is reported as down-weighted.
public struct GeometricMedian: Aggregator {
  public var maximumIterations: Int
  public var smoothing: Double
  public var tolerance: Double

  public init(maximumIterations: Int = 100, smoothing: Double = 1e-6, tolerance: Double = 1e-6) {
    self.maximumIterations = maximumIterations
    self.smoothing = smoothing
    self.tolerance = tolerance
  }

  public var name: String { "GeometricMedian" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let ordered = updates.sorted { $0.client < $1.client }
    let alphas = ordered.map { Double(max($0.exampleCount, 1)) }
    let alphaTotal = alphas.reduce(0, +)
    var median = try CoordinateMedian().aggregate(ordered, round: round).delta
    func distances(_ v: [Float]) -> [Double] { ordered.map { ParameterVector.norm(ParameterVector.difference($0.delta, v)) } }
    var current = distances(median)
    var objective = zip(alphas, current).reduce(0) { $0 + $1.0 * $1.1 }
    var betas = alphas
    for _ in 0..<maximumIterations {
      betas = zip(alphas, current).map { $0 / max(smoothing, $1) }
      let next = ParameterVector.weightedMean(ordered.map(\.delta), weights: betas)
      let nextDistances = distances(next)
      let nextObjective = zip(alphas, nextDistances).reduce(0) { $0 + $1.0 * $1.1 }
      // Weiszfeld never raises the objective; in floating point a step at the optimum may, and is not taken.
      guard nextObjective <= objective else { break }
      median = next
      current = nextDistances
      let improvement = objective - nextObjective
      objective = nextObjective
      if improvement <= tolerance * max(nextObjective, 1e-12) { break }
    }
    betas = zip(alphas, current).map { $0 / max(smoothing, $1) }
    let betaTotal = betas.reduce(0, +)
    return AggregationResult(
      delta: median,
      verdicts: Dictionary(uniqueKeysWithValues: ordered.indices.map { i in
        (ordered[i].client, betas[i] / betaTotal < 0.5 * alphas[i] / alphaTotal ? .downWeighted : .kept)
      }))
  }
}

/// Centered clipping (Karimireddy et al. 2021): starting from v = 0 (no change), `iterations` times
/// v ← v + mean(clip(xᵢ − v, τ)); clients whose update still lies farther than τ from v are reported as clipped.
public struct CenteredClipping: Aggregator {
  public var radius: Double
  public var iterations: Int

  public init(radius: Double, iterations: Int = 3) {
    precondition(radius > 0 && iterations >= 1, "τ > 0 and at least one iteration")
    self.radius = radius
    self.iterations = iterations
  }

  public var name: String { "CenteredClipping(τ \(radius))" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let ordered = updates.sorted { $0.client < $1.client }
    var center = [Float](repeating: 0, count: ordered[0].delta.count)
    var farther = Set<Int>()
    for _ in 0..<iterations {
      var step = [Float](repeating: 0, count: center.count)
      farther = []
      for update in ordered {
        var offset = ParameterVector.difference(update.delta, center)
        if ParameterVector.project(&offset, ontoBallOfRadius: radius) > radius { farther.insert(update.client) }
        ParameterVector.add(offset, scaledBy: 1 / Float(ordered.count), to: &step)
      }
      ParameterVector.add(step, to: &center)
    }
    return AggregationResult(delta: center, verdicts: Dictionary(uniqueKeysWithValues: ordered.map { ($0.client, farther.contains($0.client) ? .clipped : .kept) }))
  }
}
