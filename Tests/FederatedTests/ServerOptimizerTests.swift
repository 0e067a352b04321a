import Foundation
import Testing
import TestSupport

@testable import Federated

/// Flower 1.42's FedAvgM, FedAdagrad, FedAdam and FedYogi on four rounds of fixed updates
/// (Tests/Fixtures/server-optimizers/make_server_optimizer_fixtures.py).
private struct ServerOptimizerFixture: Decodable {
  struct Case: Decodable {
    var settings: [String: Double]
    var models: [[Float]]
  }
  var initial: [Float]
  var updates: [[Float]]
  var cases: [String: Case]

  static func load() throws -> ServerOptimizerFixture {
    let path = Fixtures.path("Tests/Fixtures/server-optimizers/server_optimizers.json")
    return try JSONDecoder().decode(ServerOptimizerFixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }
}

@Test(arguments: ["fedavgm", "fedadagrad", "fedadam", "fedyogi"])
func serverOptimizersMatchFlowersStrategies(name: String) throws {
  let fixture = try ServerOptimizerFixture.load()
  let flower = try #require(fixture.cases[name])
  var settings = ServerOptimizerSettings(kind: try #require(ServerOptimizerSettings.Kind(rawValue: name)))
  settings.momentum = flower.settings["momentum"] ?? settings.momentum
  settings.beta1 = flower.settings["beta_1"] ?? settings.beta1
  settings.beta2 = flower.settings["beta_2"] ?? settings.beta2
  settings.tau = flower.settings["tau"] ?? settings.tau
  var optimizer = ServerOptimizer(settings, learningRate: Float(try #require(flower.settings["eta"])))
  var model = fixture.initial
  for (round, update) in fixture.updates.enumerated() {
    ParameterVector.add(optimizer.change(for: update, round: round + 1), to: &model)
    let worst = zip(model, flower.models[round]).map { abs($0 - $1) / max(1, abs($1)) }.max()!
    #expect(worst < 1e-5, "\(name), round \(round + 1): largest relative difference \(worst)")
  }
}

@Test func sgdIsTheLearningRateTimesTheAggregateAndOptimiserStateSurvivesARestore() {
  var sgd = ServerOptimizer(ServerOptimizerSettings(), learningRate: 0.5)
  #expect(sgd.change(for: [2, -4], round: 1) == [1, -2])
  #expect(sgd.persistentState.isEmpty)
  var adam = ServerOptimizer(ServerOptimizerSettings(kind: .fedadam), learningRate: 0.1)
  _ = adam.change(for: [0.3, -0.2, 0.1], round: 1)
  var resumed = ServerOptimizer(ServerOptimizerSettings(kind: .fedadam), learningRate: 0.1)
  resumed.restore(adam.persistentState)
  #expect(resumed.change(for: [0.1, 0.1, -0.4], round: 2) == adam.change(for: [0.1, 0.1, -0.4], round: 2))
  #expect(ServerOptimizerSettings(kind: .fedyogi).validationProblems(prefix: "x").isEmpty)
  var bad = ServerOptimizerSettings(kind: .fedadam)
  bad.beta2 = 1
  bad.tau = 0
  #expect(bad.validationProblems(prefix: "federation.server_optimizer") == [
    "federation.server_optimizer.beta_2 must be in [0, 1)", "federation.server_optimizer.tau must be a positive number",
  ])
}
