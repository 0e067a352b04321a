@testable import Defenses
import Federated
import Foundation
import Randomness
import Testing
import TestSupport

/// Tests/Fixtures/aggregation/deepsight.json (make_deepsight_fixture.py): scikit-learn's HDBSCAN on precomputed
/// distances, and DeepSight in numpy written from the paper, on a model of 6 classes × 4 features whose output
/// weight comes first, then its bias, then 10 other scalars.
private struct DeepSightFixture: Decodable {
  struct Clustering: Decodable {
    var distances: [[Double]]
    var minClusterSize: Int
    var minSamples: Int
    var labels: [Int]
    enum CodingKeys: String, CodingKey { case distances, minClusterSize = "min_cluster_size", minSamples = "min_samples", labels }
  }
  struct Round: Decodable {
    var updates: [[Float]]
    var divisionDifferences: [[[Double]]]
    var attackers: [Int]
    var tau: Double
    var minClusterSize: Int
    var thresholdExceedings: [Int]
    var suspicious: [Bool]
    var finalClusters: [Int]
    var accepted: [Bool]
    var clipBound: Double
    var expected: [Double]
    enum CodingKeys: String, CodingKey {
      case updates, divisionDifferences = "division_differences", attackers, tau, minClusterSize = "min_cluster_size"
      case thresholdExceedings = "threshold_exceedings", suspicious, finalClusters = "final_clusters", accepted, clipBound = "clip_bound", expected
    }
  }
  var classes: Int
  var features: Int
  var hdbscan: [Clustering]
  var deepsight: [Round]

  static let shared: DeepSightFixture = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/aggregation/deepsight.json")))
    return try! JSONDecoder().decode(DeepSightFixture.self, from: data)
  }()

  var output: OutputLayerLocation {
    OutputLayerLocation(weight: 0..<(classes * features), bias: (classes * features)..<(classes * features + classes))
  }

  func rule(for round: Round) -> DeepSight { DeepSight(output: output, tau: round.tau, minimumClusterSize: round.minClusterSize) }

  /// Client ids 10, 11, … in the fixture's order.
  func inputs(of round: Round) -> (updates: [ClientUpdate], probes: [Int: [[Double]]]) {
    let updates = round.updates.enumerated().map { ClientUpdate(client: 10 + $0.offset, delta: $0.element, exampleCount: 1) }
    let probes = Dictionary(uniqueKeysWithValues: round.divisionDifferences.enumerated().map { (10 + $0.offset, $0.element) })
    return (updates, probes)
  }
}

@Test func hdbscanMatchesScikitLearn() {
  let fixture = DeepSightFixture.shared
  #expect(fixture.hdbscan.count == 25)
  for (index, clustering) in fixture.hdbscan.enumerated() {
    let labels = HDBSCAN.labels(distances: clustering.distances, minimumClusterSize: clustering.minClusterSize, minimumSamples: clustering.minSamples)
    #expect(labels == clustering.labels, "case \(index): min cluster size \(clustering.minClusterSize), min samples \(clustering.minSamples)")
  }
}

@Test func hdbscanFindsSeparatedGroupsAndCallsALoneStragglerNoise() {
  // Two tight groups of four on a line, far apart, and one point far from both.
  let positions: [Double] = [0, 0.1, 0.2, 0.3, 10, 10.1, 10.2, 10.3, 50]
  let distances = HDBSCAN.euclideanDistances(positions.map { [$0] })
  let labels = HDBSCAN.labels(distances: distances, minimumClusterSize: 3)
  #expect(Set(labels[0..<4]).count == 1 && Set(labels[4..<8]).count == 1)
  #expect(labels[0] != labels[4] && labels[0] != HDBSCAN.noise && labels[4] != HDBSCAN.noise)
  #expect(labels[8] == HDBSCAN.noise)
  #expect(HDBSCAN.labels(distances: [[0]], minimumClusterSize: 2) == [HDBSCAN.noise])
  // Two noise points are never "in the same cluster".
  #expect(HDBSCAN.coMembershipDistances([-1, -1, 0, 0]) == [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]])
}

@Test func deepSightMatchesTheNumpyReference() throws {
  let fixture = DeepSightFixture.shared
  #expect(fixture.deepsight.count == 6)
  var rejectedThroughTheirCluster = 0
  for (index, round) in fixture.deepsight.enumerated() {
    let (updates, probes) = fixture.inputs(of: round)
    let (result, seen) = try fixture.rule(for: round).aggregateAndInspect(updates, divisionDifferences: probes, round: 1)
    #expect(seen.thresholdExceedings == round.thresholdExceedings, "case \(index)")
    #expect(seen.suspicious == round.suspicious, "case \(index)")
    #expect(seen.finalClusters == round.finalClusters, "case \(index)")
    #expect(seen.accepted == round.accepted, "case \(index)")
    #expect(abs(seen.clipBound - round.clipBound) <= 1e-6 * round.clipBound, "case \(index)")
    let worst = zip(result.delta, round.expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(result.delta.count == round.expected.count && worst < 1e-5, "case \(index): largest difference \(worst)")
    for (position, accepted) in round.accepted.enumerated() {
      let verdict = result.verdicts[10 + position]
      #expect(accepted ? verdict == .kept || verdict == .clipped : verdict == .excluded, "case \(index), client \(10 + position)")
      if !accepted && !round.suspicious[position] { rejectedThroughTheirCluster += 1 }
    }
  }
  // The fixture reaches the clustering's own contribution: attackers that do not look suspicious alone.
  #expect(rejectedThroughTheirCluster > 0)
}

@Test func deepSightDoesNotDependOnUpdateOrder() throws {
  let fixture = DeepSightFixture.shared
  let round = fixture.deepsight[4]
  let (updates, probes) = fixture.inputs(of: round)
  let rule = fixture.rule(for: round)
  let reference = try rule.aggregate(updates, divisionDifferences: probes, round: 2)
  var generator = SplitMix64(seed: 5)
  for _ in 0..<3 {
    var shuffled = updates
    shuffled.seededShuffle(using: &generator)
    #expect(try rule.aggregate(shuffled, divisionDifferences: probes, round: 2) == reference)
  }
}

@Test func deepSightRefusesToRunWithoutTheModelsOutputs() throws {
  let fixture = DeepSightFixture.shared
  let round = fixture.deepsight[0]
  let (updates, probes) = fixture.inputs(of: round)
  let rule = fixture.rule(for: round)
  #expect(throws: AggregationError.needsProbes(rule: rule.name)) { try rule.aggregate(updates, round: 1) }
  var missing = probes
  missing[10] = nil
  #expect(throws: AggregationError.needsProbes(rule: rule.name)) { try rule.aggregate(updates, divisionDifferences: missing, round: 1) }
  var short = probes
  short[11] = [[1, 1]]
  #expect(throws: AggregationError.needsProbes(rule: rule.name)) { try rule.aggregate(updates, divisionDifferences: short, round: 1) }
}

@Test func divisionDifferencesAreMeanRatiosOfClassProbabilities() {
  let local: [[Double]] = [[0.5, 0.5], [0.9, 0.1]]
  let global: [[Double]] = [[0.25, 0.75], [0.9, 0.1]]
  let ratios = divisionDifference(local, over: global)
  #expect(abs(ratios[0] - (2 + 1) / 2) < 1e-12 && abs(ratios[1] - (2.0 / 3 + 1) / 2) < 1e-12)
  #expect(divisionDifference([[1, 0]], over: [[1, 0]])[1] == 0)
}
