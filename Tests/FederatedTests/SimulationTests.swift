import Federated
import Foundation
import Layers
import Randomness
import Tensors
import Testing
import TestSupport

/// Clients pull a vector towards their own point: the global model should approach the mean of the
/// benign points. Client 3 sends NaN whenever it is sampled; client 4 "attacks" in even rounds.
struct PullTowardsPoints: FederatedScenario {
  typealias Model = TensorList
  let points: [[Float]]
  var clientCount: Int { points.count }
  func forcedClients(round: Int) -> Set<Int> { round % 2 == 0 ? [4] : [] }
  func isAttacking(client: Int, round: Int) -> Bool { client == 4 && round % 2 == 0 }
  func update(client: Int, global: TensorList, context: RoundContext, generator: inout SplitMix64) -> ClientUpdate {
    if client == 3 { return ClientUpdate(client: client, delta: [Float](repeating: .nan, count: context.globalVector.count), exampleCount: 1) }
    let target = Tensor(shape: [points[client].count], scalars: points[client])
    var options = LocalTrainingOptions()
    options.epochs = 2
    options.learningRate = 0.1
    let trained = trainLocally(
      from: global, globalVector: context.globalVector, options: options, generator: &generator,
      batches: { generator in (0..<3).map { _ in [generator.nextIndex(below: 10)] } },
      loss: { model, _, _ in (model[0] - target).squared().sum() })
    return ClientUpdate(client: client, delta: ParameterVector.difference(trained.flattenedParameters, context.globalVector), exampleCount: 1 + client)
  }
  func evaluate(_ model: TensorList, round: Int) -> [String: Double] {
    ["main_task_accuracy": Double(model[0].scalars[0])]
  }
}

private let scenario = PullTowardsPoints(points: (0..<8).map { [Float($0), Float(-$0), 1] })
private let initial = TensorList([Tensor(shape: [3], scalars: [0, 0, 0])])

private func simulation(parallel: Int, rounds: Int) -> Simulation<PullTowardsPoints> {
  var settings = SimulationSettings()
  settings.rounds = rounds
  settings.clientsPerRound = 4
  settings.seed = 11
  settings.parallelClients = parallel
  return Simulation(scenario: scenario, aggregator: FederatedAveraging(), settings: settings)
}

@Test func simulationsAreIdenticalWhateverTheParallelism() throws {
  let one = try simulation(parallel: 1, rounds: 6).run(initial: initial)
  let four = try simulation(parallel: 4, rounds: 6).run(initial: initial)
  #expect(one.records == four.records)
  #expect(one.model.flattenedParameters == four.model.flattenedParameters)
  #expect(one.records.count == 6)
  for record in one.records {
    #expect(record.sampled.count == 4)
    #expect(record.malicious == (record.round % 2 == 0 ? [4] : []), "scheduled attackers are sampled and recorded")
    #expect(record.rejected == (record.sampled.contains(3) ? [3] : []), "NaN updates are rejected, never averaged")
    #expect(Set(record.updateNorms.keys) == Set(record.sampled.filter { !record.rejected.contains($0) }.map(String.init)))
  }
  #expect(one.records.contains { !$0.rejected.isEmpty }, "the test needs a round with client 3")
  #expect(one.model.flattenedParameters.allSatisfy { $0.isFinite })
  #expect(one.model.flattenedParameters[2] > 0.5, "the global model moves towards the clients' points")
}

@Test func aResumedRunEqualsAnUninterruptedOne() throws {
  let directory = try Fixtures.temporaryDirectory()
  let uninterrupted = try simulation(parallel: 2, rounds: 5).run(initial: initial)
  _ = try simulation(parallel: 2, rounds: 3).run(initial: initial, directory: directory)
  #expect(FileManager.default.fileExists(atPath: directory + "/checkpoint.json"))
  #expect(FileManager.default.fileExists(atPath: directory + "/checkpoint-3.safetensors"))
  var seen: [Int] = []
  let resumed = try simulation(parallel: 2, rounds: 5).run(initial: initial, directory: directory, resume: true) { record, _ in seen.append(record.round) }
  #expect(seen == [4, 5], "only the missing rounds run")
  #expect(resumed.records == uninterrupted.records)
  #expect(resumed.model.flattenedParameters == uninterrupted.model.flattenedParameters)
  let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".safetensors") }
  #expect(files == ["checkpoint-5.safetensors"], "older weights are removed")
}

@Test func aCorruptCheckpointIsAClearError() throws {
  let directory = try Fixtures.temporaryDirectory()
  _ = try simulation(parallel: 1, rounds: 2).run(initial: initial, directory: directory)
  try Data("{\"round\": 2, \"weights_file\": \"checkpoint-2.safetensors\", \"records\": [] ".utf8).write(to: URL(fileURLWithPath: directory + "/checkpoint.json"))
  #expect(throws: SimulationError.self) { try simulation(parallel: 1, rounds: 3).run(initial: initial, directory: directory, resume: true) }
  do {
    _ = try simulation(parallel: 1, rounds: 3).run(initial: initial, directory: directory, resume: true)
  } catch {
    #expect("\(error)".contains("checkpoint.json"))
  }
}

@Test func aRoundRecordWithNonFiniteNumbersEncodesThemAsNullAndReadsThemBackAsNaN() throws {
  let record = RoundRecord(
    round: 3, sampled: [1, 2], malicious: [2], rejected: [], verdicts: [:], updateNorms: ["1": 0.5, "2": .infinity], globalChangeNorm: .nan,
    metrics: ["main_task_accuracy": .nan, "attack_success_rate": 0.25])
  let data = try JSONEncoder().encode(record)
  let text = String(decoding: data, as: UTF8.self)
  #expect(text.contains("\"2\":null") && text.contains("\"global_change_norm\":null") && text.contains("\"main_task_accuracy\":null"), "\(text)")
  let decoded = try JSONDecoder().decode(RoundRecord.self, from: data)
  #expect(decoded.updateNorms["1"] == 0.5 && decoded.updateNorms["2"]!.isNaN)
  #expect(decoded.globalChangeNorm.isNaN && decoded.mainTaskAccuracy!.isNaN && decoded.attackSuccessRate == 0.25)
}
