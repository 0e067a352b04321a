import Defenses
import Federated
import Foundation
import Randomness
import Testing
import TestSupport

/// Inputs and outputs written by Tests/Fixtures/aggregation/make_aggregation_fixtures.py (Flower 1.42 and numpy).
struct AggregationFixture: Decodable {
  var updates: [[Float]]
  var counts: [Int]
  var expected: [String: [Double]]

  static let shared: AggregationFixture = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/aggregation/aggregation.json")))
    return try! JSONDecoder().decode(AggregationFixture.self, from: data)
  }()

  /// Client ids ascending with the fixture's order: Krum's exact ties (two updates that are each other's
  /// nearest neighbour) go to the lowest client id here and to the first update in Flower.
  var clientUpdates: [ClientUpdate] {
    updates.enumerated().map { ClientUpdate(client: 100 + $0.offset, delta: $0.element, exampleCount: counts[$0.offset]) }
  }
}

private func expectClose(_ got: [Float], _ want: [Double], tolerance: Double = 1e-4, _ rule: String) {
  #expect(got.count == want.count, "\(rule): \(got.count) scalars, expected \(want.count)")
  let worst = zip(got, want).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
  #expect(worst < tolerance, "\(rule): largest relative difference \(worst)")
}

private let rules: [(String, any Aggregator)] = [
  ("fedavg", FederatedAveraging()),
  ("median", CoordinateMedian()),
  ("trimmed_mean_0.2", TrimmedMean(beta: 0.2)),
  ("krum_f2", Krum(assumedByzantine: 2)),
  ("multikrum_f2_keep4", Krum(assumedByzantine: 2, keep: 4)),
  ("bulyan_f2", Bulyan(assumedByzantine: 2)),
  ("clipping_3", NormClipping(bound: .fixed(3))),
  ("geometric_median", GeometricMedian()),
  ("centered_clipping_2", CenteredClipping(radius: 2)),
  ("flame_kept_or_not", FLAME()),
]

@Test(arguments: rules.map(\.0).filter { $0 != "flame_kept_or_not" })
func aggregationMatchesFlowerAndTheNumpyReference(rule: String) throws {
  let fixture = AggregationFixture.shared
  let aggregator = rules.first { $0.0 == rule }!.1
  let result = try aggregator.aggregate(fixture.clientUpdates, round: 1)
  expectClose(result.delta, fixture.expected[rule]!, rule)
  #expect(result.verdicts.count == fixture.updates.count, "\(rule): a verdict for every client")
}

@Test(arguments: rules.map(\.0))
func aggregationDoesNotDependOnUpdateOrder(rule: String) throws {
  let aggregator = rules.first { $0.0 == rule }!.1
  let updates = AggregationFixture.shared.clientUpdates
  let reference = try aggregator.aggregate(updates, round: 3)
  var generator = SplitMix64(seed: 8)
  for _ in 0..<3 {
    var shuffled = updates
    shuffled.seededShuffle(using: &generator)
    let result = try aggregator.aggregate(shuffled, round: 3)
    #expect(result == reference, "\(rule): bit-identical for any order")
  }
}

@Test func robustRulesSetTheOutliersAside() throws {
  let updates = AggregationFixture.shared.clientUpdates
  let outliers: Set<Int> = [103, 107]
  let krum = try Krum(assumedByzantine: 2, keep: 4).aggregate(updates, round: 1)
  #expect(outliers.allSatisfy { krum.verdicts[$0] == .excluded })
  let bulyan = try Bulyan(assumedByzantine: 2).aggregate(updates, round: 1)
  #expect(outliers.allSatisfy { bulyan.verdicts[$0] == .excluded })
  let clipping = try NormClipping(bound: .median).aggregate(updates, round: 1)
  #expect(outliers.allSatisfy { clipping.verdicts[$0] == .clipped })
  let geometric = try GeometricMedian().aggregate(updates, round: 1)
  #expect(outliers.allSatisfy { geometric.verdicts[$0] == .downWeighted })
}

@Test func rulesSayWhenTheyHaveTooFewUpdates() {
  let three = Array(AggregationFixture.shared.clientUpdates.prefix(3))
  #expect(throws: AggregationError.tooFewUpdates(rule: "Krum(f 1)", round: 4, minimum: 5, got: 3)) { try Krum(assumedByzantine: 1).aggregate(three, round: 4) }
  #expect(throws: AggregationError.tooFewUpdates(rule: "Bulyan(f 1)", round: 4, minimum: 7, got: 3)) { try Bulyan(assumedByzantine: 1).aggregate(three, round: 4) }
  #expect(throws: AggregationError.noUpdates(round: 2)) { try CoordinateMedian().aggregate([], round: 2) }
}

@Test func weakDifferentialPrivacyAddsSeededNoiseOfTheRightSize() throws {
  let updates = (0..<5).map { ClientUpdate(client: $0, delta: [Float](repeating: 0, count: 20000), exampleCount: 1) }
  let rule = WeakDifferentialPrivacy(clipBound: 1, noiseStandardDeviation: 0.5, seed: 3)
  let first = try rule.aggregate(updates, round: 1)
  #expect(try rule.aggregate(updates, round: 1) == first)
  #expect(try rule.aggregate(updates, round: 2).delta != first.delta)
  let sd = (first.delta.reduce(0) { $0 + Double($1 * $1) } / Double(first.delta.count)).squareRoot()
  #expect(abs(sd - 0.5) < 0.02)
}

@Test func theEmbeddingRowDetectorFlagsAnUpdateConcentratedOnARareRow() throws {
  // 50 rows of dimension 4 after 10 other parameters; benign clients move common rows (0–9) and one
  // word of their own a little; the attacker moves the trigger's row (42) a lot.
  let dimension = 4, rows = 50, offset = 10
  var generator = SplitMix64(seed: 1)
  var updates: [ClientUpdate] = []
  for client in 0..<8 {
    var delta = [Float](repeating: 0, count: offset + rows * dimension + 5)
    for row in 0..<10 { for k in 0..<dimension { delta[offset + row * dimension + k] = Float(generator.nextStandardNormal()) * 0.1 } }
    let own = 10 + client
    for k in 0..<dimension { delta[offset + own * dimension + k] = Float(generator.nextStandardNormal()) * 0.05 }
    if client == 5 { for k in 0..<dimension { delta[offset + 42 * dimension + k] = 0.8 } }
    updates.append(ClientUpdate(client: client, delta: delta, exampleCount: 10))
  }
  let detector = EmbeddingRowDetector(embeddingRange: offset..<(offset + rows * dimension), dimension: dimension)
  let result = try detector.aggregate(updates, round: 1)
  #expect(result.verdicts[5] == .excluded)
  #expect(result.verdicts.filter { $0.value == .excluded }.count == 1, "no benign client flagged")
}

struct FLAMEFixture: Decodable {
  struct Case: Decodable {
    var updates: [[Float]]
    var kept: [Int]
    var expected: [Double]
  }
  var flame: Case
}

@Test func flameKeepsTheClusterScikitLearnsHDBSCANFindsAndClipsItToTheMedianNorm() throws {
  let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/aggregation/aggregation.json")))
  let fixture = try JSONDecoder().decode(FLAMEFixture.self, from: data).flame
  let updates = fixture.updates.enumerated().map { ClientUpdate(client: $0.offset, delta: $0.element, exampleCount: 1) }
  let result = try FLAME(noiseLevel: 0).aggregate(updates, round: 1)
  let excluded = Set(result.verdicts.filter { $0.value == .excluded }.keys)
  #expect(excluded == Set(updates.indices).subtracting(fixture.kept), "the same members as scikit-learn's HDBSCAN")
  #expect(excluded.isSuperset(of: [8, 9, 10]), "the three attackers are outside the cluster")
  let worst = zip(result.delta, fixture.expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!
  #expect(worst < 1e-4)
  let noisy = try FLAME(noiseLevel: 0.01, seed: 2).aggregate(updates, round: 1)
  let reversed = try FLAME(noiseLevel: 0.01, seed: 2).aggregate(updates.reversed(), round: 1)
  #expect(noisy.delta != result.delta)
  #expect(noisy == reversed)
}

@Test func foolsGoldDownWeightsSybilsAndRemembersThroughACheckpoint() throws {
  var generator = SplitMix64(seed: 5)
  let dimension = 2000
  let goal = (0..<dimension).map { _ in Float(generator.nextStandardNormal()) }
  func round() -> [ClientUpdate] {
    (0..<8).map { client in
      let delta: [Float] = client >= 5
        ? goal.map { $0 + 0.05 * Float(generator.nextStandardNormal()) }  // three sybils pushing one direction
        : (0..<dimension).map { _ in Float(generator.nextStandardNormal()) }
      return ClientUpdate(client: client, delta: delta, exampleCount: 10)
    }
  }
  let rounds = (0..<4).map { _ in round() }
  let rule = FoolsGold(sketchSize: 512, seed: 1)
  var results: [AggregationResult] = []
  for (index, updates) in rounds.enumerated() { results.append(try rule.aggregate(updates, round: index + 1)) }
  let last = results.last!
  #expect([5, 6, 7].allSatisfy { last.verdicts[$0] == .excluded || last.verdicts[$0] == .downWeighted }, "\(last.verdicts)")
  #expect((0..<5).allSatisfy { last.verdicts[$0] == .kept })

  // A rule restored from round 3's state gives round 4's result exactly.
  let replay = FoolsGold(sketchSize: 512, seed: 1)
  for (index, updates) in rounds.prefix(3).enumerated() { _ = try replay.aggregate(updates, round: index + 1) }
  let restored = FoolsGold(sketchSize: 512, seed: 1)
  restored.restore(replay.persistentState)
  #expect(try restored.aggregate(rounds[3], round: 4) == last)
  #expect(replay.persistentState.count == 8)
}

/// Tests/Fixtures/aggregation/fltrust.json: FLTrust in numpy from the paper's equations (make_fltrust_fixture.py).
private struct FLTrustFixture: Decodable {
  var reference: [Float]
  var updates: [[Float]]
  var excluded: [Int]
  var expected: [Double]
}

@Test func fltrustWeighsEachUpdateByItsTrustAndRescalesItToTheServersNorm() throws {
  let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/aggregation/fltrust.json")))
  let fixture = try JSONDecoder().decode(FLTrustFixture.self, from: data)
  let updates = fixture.updates.enumerated().map { ClientUpdate(client: $0.offset, delta: $0.element, exampleCount: 10 + $0.offset) }
  let result = try FLTrust().aggregate(updates, reference: fixture.reference, round: 1)
  expectClose(result.delta, fixture.expected, "fltrust")
  #expect(Set(result.verdicts.filter { $0.value == .excluded }.keys) == Set(fixture.excluded), "updates pointing away, and the zero one")
  #expect(result.verdicts.count == updates.count)
  var generator = SplitMix64(seed: 3)
  var shuffled = updates
  shuffled.seededShuffle(using: &generator)
  #expect(try FLTrust().aggregate(shuffled, reference: fixture.reference, round: 1) == result)
  // The scaled-up update along the server's direction counts no more than the server's own norm.
  #expect(ParameterVector.norm(result.delta) <= ParameterVector.norm(fixture.reference) * (1 + 1e-5))
}

@Test func fltrustRefusesToRunWithoutTheServersUpdate() {
  let updates = [ClientUpdate(client: 0, delta: [1, 2], exampleCount: 1)]
  #expect(throws: AggregationError.needsReference(rule: "FLTrust")) { try FLTrust().aggregate(updates, round: 1) }
  #expect(throws: AggregationError.sizeMismatch(client: 0, expected: 3, got: 2)) { try FLTrust().aggregate(updates, reference: [1, 0, 0], round: 1) }
  let away = try? FLTrust().aggregate(updates, reference: [-1, -2], round: 1)
  #expect(away?.delta == [0, 0] && away?.verdicts[0] == .excluded, "no trusted update: the round changes nothing")
}
