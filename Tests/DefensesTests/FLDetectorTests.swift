@testable import Defenses
import Federated
import Foundation
import Layers
import Randomness
import Tensors
import Testing
import TestSupport

/// Tests/Fixtures/aggregation/fldetector.json: sixteen rounds of FLDetector in numpy, written from the paper
/// (make_fldetector_fixture.py); 10 of 12 clients a round, clients 2 and 5 attack from round 8.
private struct FLDetectorFixture: Decodable {
  struct Round: Decodable {
    var round: Int
    var clients: [Int]
    var counts: [Int]
    var updates: [[Float]]
    var expected: [Double]
    var excluded: [Int]
    var scores: [String: Double]
  }
  var seed: UInt64
  var window: Int
  var sketchSize: Int
  var rounds: [Round]

  enum CodingKeys: String, CodingKey { case seed, window, sketchSize = "sketch_size", rounds }

  static let shared: FLDetectorFixture = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/aggregation/fldetector.json")))
    return try! JSONDecoder().decode(FLDetectorFixture.self, from: data)
  }()

  func makeRule() -> FLDetector { FLDetector(window: window, sketchSize: sketchSize, seed: seed) }

  func updates(of round: Round, shuffledWith seed: UInt64? = nil) -> [ClientUpdate] {
    var updates = round.clients.indices.map { ClientUpdate(client: round.clients[$0], delta: round.updates[$0], exampleCount: round.counts[$0]) }
    if let seed {
      var generator = SplitMix64(seed: seed)
      updates.seededShuffle(using: &generator)
    }
    return updates
  }

  /// Runs `rounds` through `rule` as the simulation does (the server applies the aggregate with learning rate 1).
  func replay(_ rounds: ArraySlice<Round>, through rule: FLDetector, shuffled: Bool = false) throws -> [AggregationResult] {
    try rounds.map { round in
      let result = try rule.aggregate(updates(of: round, shuffledWith: shuffled ? UInt64(round.round) : nil), round: round.round)
      rule.observe(appliedChange: result.delta, round: round.round)
      return result
    }
  }
}

@Test func fldetectorMatchesTheNumpyReferenceRoundByRound() throws {
  let fixture = FLDetectorFixture.shared
  let rule = fixture.makeRule()
  let results = try fixture.replay(fixture.rounds[...], through: rule)
  for (round, result) in zip(fixture.rounds, results) {
    let worst = zip(result.delta, round.expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(worst < 1e-4, "round \(round.round): aggregate differs by \(worst)")
    let excluded = result.verdicts.filter { $0.value == .excluded }.keys.sorted()
    #expect(excluded == round.excluded, "round \(round.round)")
    #expect(Set(result.verdicts.keys) == Set(round.clients))
  }
  // The suspicious scores behind the decisions, after the last round.
  let last = fixture.rounds.last!
  let traces = rule.memory.withLock { $0.clients }
  for (client, want) in last.scores {
    let got = traces[Int(client)!]!.score
    #expect(abs(got - want) < 1e-4 * max(1, want), "client \(client): score \(got), numpy \(want)")
  }
  #expect(results[7].verdicts.filter { $0.value == .excluded }.keys.sorted() == [2, 5], "both attackers go in the round they start")
  #expect(results.prefix(7).allSatisfy { $0.verdicts.values.allSatisfy { $0 == .kept } }, "no honest client excluded before the attack")
}

@Test func fldetectorIgnoresTheOrderOfUpdatesAndResumesFromItsState() throws {
  let fixture = FLDetectorFixture.shared
  let straight = try fixture.replay(fixture.rounds[...], through: fixture.makeRule())
  #expect(try fixture.replay(fixture.rounds[...], through: fixture.makeRule(), shuffled: true) == straight)
  let first = fixture.makeRule()
  _ = try fixture.replay(fixture.rounds.prefix(9), through: first)
  let resumed = fixture.makeRule()
  resumed.restore(first.persistentState)
  #expect(try fixture.replay(fixture.rounds.dropFirst(9), through: resumed) == Array(straight.dropFirst(9)))
  #expect(first.persistentState.keys.contains("excluded"))
}

@Test func lbfgsSatisfiesTheSecantEquationOfItsNewestPair() throws {
  var generator = SplitMix64(seed: 3)
  let p = 30
  let diagonal = (0..<p).map { _ in 0.5 + generator.nextUnitDouble() }
  let s = (0..<4).map { _ in (0..<p).map { _ in Float(generator.nextStandardNormal()) } }
  let y = s.map { column in column.indices.map { Float(diagonal[$0] * Double(column[$0])) } }
  let hessian = try #require(LBFGSHessian(s: s, y: y))
  let (sCoefficients, yCoefficients) = try #require(hessian.coefficients(for: s[3]))
  // B·s_m = y_m: the product, rebuilt from its coefficients, gives the newest y.
  var product = s[3].map { hessian.sigma * Double($0) }
  for j in 0..<4 {
    for i in 0..<p { product[i] += sCoefficients[j] * Double(s[j][i]) + yCoefficients[j] * Double(y[j][i]) }
  }
  let worst = zip(product, y[3]).map { abs($0 - Double($1)) }.max()!
  #expect(worst < 1e-4, "B·s differs from y by \(worst)")
  #expect(LBFGSHessian(s: [[0, 0]], y: [[1, 1]]) == nil, "a pair without movement gives no approximation")
}

@Test func lineKMeansFindsTheLeastCostSplitAndTheGapStatisticCountsGroups() {
  var generator = SplitMix64(seed: 5)
  for trial in 0..<20 {
    let values = (0..<7).map { _ in generator.nextUnitDouble() * 10 }
    for k in 1...4 {
      let exact = LineKMeans.cluster(values, k: k)
      // Every split of the sorted values into k runs costs at least as much.
      let sorted = values.sorted()
      func cost(_ run: ArraySlice<Double>) -> Double {
        let mean = run.reduce(0, +) / Double(run.count)
        return run.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
      }
      func cheapest(_ start: Int, _ groups: Int) -> Double {
        guard groups > 1 else { return cost(sorted[start...]) }
        return (start + 1...(sorted.count - groups + 1)).map { cost(sorted[start..<$0]) + cheapest($0, groups - 1) }.min()!
      }
      #expect(abs(exact.cost - cheapest(0, k)) < 1e-9, "trial \(trial), k = \(k)")
      #expect(exact.starts.count == k + 1 && exact.starts.first == 0 && exact.starts.last == 7)
    }
  }
  var draws = SplitMix64(seed: 9)
  let twoGroups = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 6.0, 6.2, 5.9]
  #expect(GapStatistic().groupCount(twoGroups, generator: &draws) >= 2)
  let oneGroup = (0..<12).map { Double($0) / 11 }
  #expect(GapStatistic().groupCount(oneGroup, generator: &draws) == 1)
  #expect(GapStatistic().groupCount([2, 2, 2, 2], generator: &draws) == 1)
}

/// Clients take one gradient step on 1/2‖w − cᵢ‖² towards their own point; clients 0 and 1 pull towards a far point
/// from round 8 on.
private struct QuadraticClients: FederatedScenario {
  typealias Model = TensorList
  let points: [[Float]]
  let far: [Float]
  var clientCount: Int { points.count }
  func forcedClients(round: Int) -> Set<Int> { [] }
  func isAttacking(client: Int, round: Int) -> Bool { client < 2 && round >= 8 }
  func update(client: Int, global: TensorList, context: RoundContext, generator: inout SplitMix64) -> ClientUpdate {
    let goal = isAttacking(client: client, round: context.round) ? far : points[client]
    let delta = context.globalVector.indices.map { 0.3 * (goal[$0] - context.globalVector[$0]) + 0.01 * Float(generator.nextStandardNormal()) }
    return ClientUpdate(client: client, delta: delta, exampleCount: 10)
  }
  func evaluate(_ model: TensorList, round: Int) -> [String: Double] { ["main_task_accuracy": 0] }
}

@Test func fldetectorInASimulationExcludesTheAttackersAndResumesExactly() throws {
  var generator = SplitMix64(seed: 21)
  let center = (0..<20).map { _ in Float(generator.nextStandardNormal()) }
  let scenario = QuadraticClients(
    points: (0..<12).map { _ in center.map { $0 + 0.05 * Float(generator.nextStandardNormal()) } },
    far: center.map { $0 + 4 * Float(generator.nextStandardNormal()) })
  let initial = TensorList([Tensor.zeros([20])])
  func simulation(rounds: Int) -> Simulation<QuadraticClients> {
    var settings = SimulationSettings()
    settings.rounds = rounds
    settings.clientsPerRound = 10
    settings.seed = 4
    return Simulation(scenario: scenario, aggregator: FLDetector(window: 3, sketchSize: 64, seed: 4), settings: settings)
  }
  let whole = try simulation(rounds: 14).run(initial: initial)
  let caught = Set(whole.records.flatMap { record in record.verdicts.filter { $0.value == .excluded }.keys })
  #expect(caught == ["0", "1"], "excluded: \(caught.sorted())")
  #expect(whole.records.prefix(7).allSatisfy { $0.verdicts.values.allSatisfy { $0 == .kept } })
  let directory = try Fixtures.temporaryDirectory()
  _ = try simulation(rounds: 9).run(initial: initial, directory: directory)
  let resumed = try simulation(rounds: 14).run(initial: initial, directory: directory, resume: true)
  #expect(resumed.records == whole.records)
  #expect(resumed.model.flattenedParameters == whole.model.flattenedParameters)
}
