import Defenses
import Federated
import Randomness
import Testing

/// Ten clients: eight benign updates near 0.01·1 and two attackers whose noise has σ = 1e19 (finite, but its
/// squared norm overflows Float).
private func updatesWithHugeAttackers() -> [ClientUpdate] {
  var generator = SplitMix64(seed: 11)
  return (0..<10).map { client in
    let sigma: Float = client >= 8 ? 1e19 : 0.001
    return ClientUpdate(client: client, delta: (0..<500).map { _ in 0.01 + sigma * Float(generator.nextStandardNormal()) }, exampleCount: 20)
  }
}

@Test func normsOfHugeFiniteUpdatesStayFinite() {
  let huge = updatesWithHugeAttackers()[9].delta
  let norm = ParameterVector.norm(huge)
  #expect(norm.isFinite)
  #expect(norm > 1e20 && norm < 1e22, "about 1e19 · √500")
  #expect(ParameterVector.norm([3, 4]) == 5, "the fast path is unchanged")
}

@Test func theGeometricMedianIgnoresTwoHugeAttackersOfTen() throws {
  let result = try GeometricMedian().aggregate(updatesWithHugeAttackers(), round: 1)
  #expect(result.delta.allSatisfy { abs($0 - 0.01) < 0.01 }, "the benign updates' centre, not the attackers'")
  #expect(result.verdicts[8] == .downWeighted && result.verdicts[9] == .downWeighted)
  #expect((0..<8).allSatisfy { result.verdicts[$0] == .kept })
}

@Test func everyRuleGivesAFiniteAggregateOrAClearErrorForHugeUpdates() throws {
  let updates = updatesWithHugeAttackers()
  let rules: [any Aggregator] = [
    FederatedAveraging(), CoordinateMedian(), TrimmedMean(beta: 0.2), Krum(assumedByzantine: 2), Krum(assumedByzantine: 2, keep: 4),
    Bulyan(assumedByzantine: 1), NormClipping(bound: .median), GeometricMedian(), CenteredClipping(radius: 1), FLAME(),
  ]
  for rule in rules {
    let result = try rule.aggregate(updates, round: 1)
    #expect(result.delta.count == 500, "\(rule.name)")
    if !(rule is FederatedAveraging) {
      #expect(ParameterVector.isFinite(result.delta), "\(rule.name): a robust rule keeps the aggregate finite")
    }
  }
}
