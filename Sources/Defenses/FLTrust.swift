import Federated

/// FLTrust (Cao et al., NDSS 2021): the server keeps a small clean root set and trains on it each round like a
/// client; its update g₀ bootstraps trust. Each client update gᵢ gets the trust score TSᵢ = ReLU(cos(gᵢ, g₀)), is
/// rescaled to g₀'s norm (‖g₀‖/‖gᵢ‖ · gᵢ), and the aggregate is Σ TSᵢ · rescaled gᵢ / Σ TSᵢ (zero when every score
/// is zero). An update pointing away from the server's (TS = 0) is excluded; every other one is kept, its weight its
/// trust. The paper states it for gradients; the lab applies it to updates (local − global), which point the same
/// way up to the learning rate's sign.
public struct FLTrust: ReferenceAggregator {
  public init() {}

  public var name: String { "FLTrust" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    throw .needsReference(rule: name)
  }

  public func aggregate(_ updates: [ClientUpdate], reference: [Float], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    for update in updates where update.delta.count != reference.count {
      throw .sizeMismatch(client: update.client, expected: reference.count, got: update.delta.count)
    }
    // Sorted by client id: the floating-point sum is the same whatever order the updates came in.
    let ordered = updates.sorted { $0.client < $1.client }
    let referenceNorm = ParameterVector.norm(reference)
    let trust = ordered.map { update -> Double in
      let norm = ParameterVector.norm(update.delta)
      guard norm > 0, referenceNorm > 0 else { return 0 }
      let cosine = ParameterVector.dot(update.delta, reference) / (norm * referenceNorm)
      return cosine.isFinite ? max(0, cosine) : 0
    }
    let total = trust.reduce(0, +)
    var aggregate = [Float](repeating: 0, count: reference.count)
    if total > 0 {
      for (update, score) in zip(ordered, trust) where score > 0 {
        let scale = score / total * referenceNorm / ParameterVector.norm(update.delta)
        ParameterVector.add(update.delta, scaledBy: Float(scale), to: &aggregate)
      }
    }
    return AggregationResult(
      delta: aggregate, verdicts: Dictionary(uniqueKeysWithValues: zip(ordered, trust).map { ($0.client, $1 > 0 ? .kept : .excluded) }))
  }
}
