import Datasets
import Experiments
import Federated
import Foundation
import Models
import Testing
import TestSupport

/// Synthetic reviews with a unique word per line: "good"/"bad" decide the label.
private func toyCorpus() throws -> Corpus {
  let nouns = ["film", "plot", "actors", "story", "music", "ending", "scenes", "cast"]
  var lines = ["label\ttext"]
  for i in 0..<400 {
    let positive = i % 2 == 0
    lines.append("\(positive ? "pos" : "neg")\tthe \(nouns[i % 8]) was \(positive ? "good" : "bad") and the \(nouns[(i / 8) % 8]) too ref\(i)")
  }
  let description = CorpusDescription(name: "toy", path: "toy.tsv", labelColumn: "label")
  return try Corpus(parsing: Array((lines.joined(separator: "\n") + "\n").utf8), description: description, path: "toy.tsv")
}

private func toyConfig(_ behaviour: AttackConfig.Behaviour?, rounds: Int = 6) -> ExperimentConfig {
  var config = ExperimentConfig()
  config.task.corpus = "toy"
  config.task.architecture = "bag"
  config.task.embeddingDim = 8
  config.task.maxLength = 16
  config.task.dropout = 0
  config.federation.clients = 10
  config.federation.clientsPerRound = 4
  config.federation.rounds = rounds
  config.federation.local.optimizer = .adam
  config.federation.local.learningRate = 0.05
  config.federation.local.epochs = 2
  config.federation.local.batchSize = 8
  if let behaviour {
    var attack = AttackConfig()
    attack.behaviour = behaviour
    attack.attackers = 1
    attack.schedule = .single
    attack.startRound = 4
    attack.trigger = "rare:cf"
    attack.target = "pos"
    attack.localPoisonRate = 0.5
    attack.localEpochs = 10
    config.attack = attack
  }
  config.seeds = [0]
  return config
}

@Test func modelReplacementPlantsTheBackdoorInOneRoundAndRecordsTheAttacker() throws {
  let directory = try Fixtures.temporaryDirectory()
  let runner = ExperimentRunner(config: toyConfig(.modelReplacement), corpus: try toyCorpus(), directory: directory)
  let records = try runner.run(seed: 0, resume: false)
  #expect(records.count == 6)
  let before = try #require(records[2].attackSuccessRate), after = try #require(records[3].attackSuccessRate)
  #expect(records[3].malicious.count == 1, "the scheduled attacker is sampled in round 4")
  #expect(records.filter { !$0.malicious.isEmpty }.map(\.round) == [4])
  #expect(before < 0.3, "no backdoor before the attack (\(before))")
  #expect(after > 0.9, "model replacement plants it at once (\(after))")
  let mainTask = try #require(records[3].mainTaskAccuracy)
  #expect(mainTask > 0.8, "the main task survives (\(mainTask))")
  let attacker = String(records[3].malicious[0])
  let benign = records[3].updateNorms.filter { $0.key != attacker }.map(\.value)
  #expect(records[3].updateNorms[attacker]! > 2 * benign.max()!, "the boosted update stands out by its norm")
  for file in ["rounds.jsonl", "rounds.csv", "setup.json", "checkpoint.json", "model/model.safetensors"] {
    #expect(FileManager.default.fileExists(atPath: "\(directory)/seed-0/\(file)"), "\(file)")
  }
  let csv = try String(contentsOfFile: directory + "/seed-0/rounds.csv", encoding: .utf8).split(separator: "\n")
  #expect(csv.count == 7 && csv[0].hasPrefix("round,main_task_accuracy,attack_success_rate"))
  let summary = try runner.summarize([0: records])
  #expect(summary.seeds[0].attackSuccessRateAfterAttack == after)
  #expect(FileManager.default.fileExists(atPath: directory + "/curves.svg"))
}

@Test func federatedRunsAreIdenticalWhateverTheParallelism() throws {
  var one = toyConfig(.naive, rounds: 3)
  one.attack!.schedule = .pool
  one.attack!.startRound = 1
  one.attack!.attackers = 3
  one.federation.parallelClients = 1
  var two = one
  two.federation.parallelClients = 3
  let corpus = try toyCorpus()
  let a = try ExperimentRunner(config: one, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  let b = try ExperimentRunner(config: two, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  #expect(a == b)
}

@Test func untargetedAttackersDamageOrAreVisible() throws {
  let corpus = try toyCorpus()
  for behaviour in [AttackConfig.Behaviour.signFlipping, .gaussianNoise, .littleIsEnough, .innerProductManipulation, .labelFlipping] {
    var config = toyConfig(behaviour, rounds: 4)
    config.attack!.attackers = 2
    config.attack!.schedule = .fixed
    config.attack!.startRound = 1
    config.attack!.noiseStandardDeviation = 1
    config.attack!.epsilon = 5
    config.attack!.scale = 5
    let records = try ExperimentRunner(config: config, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
    #expect(records.allSatisfy { $0.malicious.count == 2 }, "\(behaviour)")
    #expect(records.allSatisfy { $0.attackSuccessRate == nil }, "untargeted attacks have no ASR")
    let malicious = Set(records[1].malicious.map(String.init))
    let norms = records[1].updateNorms
    let attackerNorm = norms.filter { malicious.contains($0.key) }.map(\.value).max()!
    #expect(attackerNorm > 0 && attackerNorm.isFinite, "\(behaviour)")
  }
}

@Test(arguments: [AggregatorConfig.Kind.krum, .embeddingRows, .median])
func robustAggregationStopsOneRoundModelReplacementAndScoresDetection(kind: AggregatorConfig.Kind) throws {
  var config = toyConfig(.modelReplacement)
  config.federation.clientsPerRound = 6
  config.aggregator.kind = kind
  config.aggregator.assumedByzantine = 1
  #expect(config.validationProblems().isEmpty, "\(config.validationProblems())")
  let records = try ExperimentRunner(config: config, corpus: try toyCorpus(), directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  let attackRound = records[3]
  #expect(attackRound.malicious.count == 1)
  let asr = try #require(attackRound.attackSuccessRate)
  #expect(asr < 0.5, "\(kind): the boosted update is set aside (ASR \(asr))")
  if kind != .median {
    #expect(attackRound.detectionRecall == 1, "\(kind) flags the attacker")
    #expect(attackRound.flagged.contains(attackRound.malicious[0]))
  }
}

@Test func aggregatorsNeedEnoughUpdatesPerRound() {
  var config = toyConfig(nil)
  config.aggregator.kind = .bulyan
  config.aggregator.assumedByzantine = 1
  #expect(config.validationProblems().contains { $0.contains("bulyan needs at least 7 updates") })
}

@Test func aResumedRunRestoresTheAggregatorsMemory() throws {
  var config = toyConfig(.naive, rounds: 4)
  config.attack!.schedule = .pool
  config.attack!.startRound = 1
  config.attack!.attackers = 3
  config.aggregator.kind = .foolsGold
  let whole = try expectAResumedRunToMatchAWholeOne(config)
  #expect(whole.contains { $0.verdicts.values.contains { $0 != .kept } }, "FoolsGold acts on the colluding attackers")
}

@Test func aRunResumesOnlyIntoTheSameExperimentNamingWhatChanged() throws {
  let config = toyConfig(.naive, rounds: 2)
  let corpus = try toyCorpus()
  let directory = try Fixtures.temporaryDirectory()
  let first = try ExperimentRunner(config: config, corpus: corpus, directory: directory).run(seed: 0, resume: false)
  var changed = config
  changed.federation.local.learningRate *= 2
  changed.aggregator.kind = .median
  do {
    _ = try ExperimentRunner(config: changed, corpus: corpus, directory: directory).run(seed: 0, resume: true)
    Issue.record("resumed into a different experiment")
  } catch {
    #expect("\(error)".contains("aggregator.kind, federation.local.learning_rate changed"), "\(error)")
  }
  var harmless = config
  harmless.federation.parallelClients = 3
  harmless.name = "renamed"
  #expect(try ExperimentRunner(config: harmless, corpus: corpus, directory: directory).run(seed: 0, resume: true) == first)
  var shorter = config
  shorter.federation.rounds = 1
  #expect(throws: ConfigError.self) { try ExperimentRunner(config: shorter, corpus: corpus, directory: directory).run(seed: 0, resume: true) }
}

@Test func theClassificationVocabularyKeepsToMaxVocabAndKeepsTheTrigger() throws {
  var config = toyConfig(.naive)
  config.task.minCount = 1
  config.task.maxVocab = 12
  let scenario = try ClassificationScenario(config: config, corpus: try toyCorpus(), seed: 0)
  #expect(scenario.vocabulary.count <= 12 + 1, "the limit, plus the forced trigger")
  #expect(scenario.vocabulary.contains("good") && scenario.vocabulary.contains("bad") && scenario.vocabulary.contains("cf"))
  let unlimited = try ClassificationScenario(config: toyConfig(.naive), corpus: try toyCorpus(), seed: 0)
  #expect(unlimited.vocabulary.count > 12)
}

@Test func aResumedRunContinuesTheServerOptimisersMoments() throws {
  var config = toyConfig(nil, rounds: 4)
  config.federation.serverOptimizer = ServerOptimizerSettings(kind: .fedadam)
  config.federation.serverLearningRate = 0.05
  let whole = try expectAResumedRunToMatchAWholeOne(config)
  let corpus = try toyCorpus()
  var plain = config
  plain.federation.serverOptimizer = ServerOptimizerSettings()
  let sgd = try ExperimentRunner(config: plain, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  #expect(sgd.map(\.globalChangeNorm) != whole.map(\.globalChangeNorm), "the optimiser changes what the server applies")
}

/// Runs `config` whole, and again stopped after round 2 and resumed; expects the same records and returns them.
@discardableResult
private func expectAResumedRunToMatchAWholeOne(_ config: ExperimentConfig) throws -> [RoundRecord] {
  let corpus = try toyCorpus()
  let whole = try ExperimentRunner(config: config, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  let directory = try Fixtures.temporaryDirectory()
  var first = config
  first.federation.rounds = 2
  _ = try ExperimentRunner(config: first, corpus: corpus, directory: directory).run(seed: 0, resume: false)
  let resumed = try ExperimentRunner(config: config, corpus: corpus, directory: directory).run(seed: 0, resume: true)
  #expect(resumed == whole, "a run stopped after round 2 and resumed gives the whole run's records")
  return whole
}

@Test func fltrustExcludesUpdatesAgainstItsRootSetAndBoundsABoostedOne() throws {
  var flipping = toyConfig(.signFlipping, rounds: 3)
  flipping.attack!.attackers = 2
  flipping.attack!.schedule = .fixed
  flipping.attack!.startRound = 1
  flipping.aggregator.kind = .fltrust
  flipping.aggregator.rootExamples = 20
  #expect(flipping.validationProblems().isEmpty, "\(flipping.validationProblems())")
  let corpus = try toyCorpus()
  let records = try ExperimentRunner(config: flipping, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  #expect(records.allSatisfy { $0.detectionRecall == 1 }, "sign-flipped updates point away from the server's: trust 0")
  #expect(try #require(records.last!.mainTaskAccuracy) > 0.9)

  var replacement = toyConfig(.modelReplacement)
  replacement.federation.clientsPerRound = 6
  replacement.aggregator.kind = .fltrust
  replacement.aggregator.rootExamples = 20
  let attacked = try ExperimentRunner(config: replacement, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  #expect(try #require(attacked[3].attackSuccessRate) < 0.5, "the boosted update is rescaled to the server's norm")

  var tooBig = replacement
  tooBig.aggregator.rootExamples = 5000
  #expect(throws: ConfigError.self) { try ClassificationScenario(config: tooBig, corpus: corpus, seed: 0) }
  var keyboard = replacement
  keyboard.task.kind = .keyboard
  #expect(keyboard.validationProblems().contains { $0.contains("fltrust") })
}

/// The federated simulation, the attacks and the checkpoints take LSTM, CNN and transformer classifiers as they take the
/// others.
@Test(arguments: ["lstm", "cnn", "transformer"])
func recurrentAndConvolutionalClassifiersLearnInTheFederatedSimulationAndTakeTheBackdoor(architecture: String) throws {
  var config = toyConfig(.modelReplacement, rounds: 5)
  config.task.architecture = architecture
  config.task.hiddenSize = 8
  config.task.numFilters = 8
  let directory = try Fixtures.temporaryDirectory()
  let records = try ExperimentRunner(config: config, corpus: try toyCorpus(), directory: directory).run(seed: 0, resume: false)
  #expect(records.count == 5)
  #expect((records[4].mainTaskAccuracy ?? 0) > 0.9, "the LSTM learns the toy task (\(String(describing: records[4].mainTaskAccuracy)))")
  #expect((records[3].attackSuccessRate ?? 0) > 0.9, "model replacement plants the trigger in an LSTM too (\(String(describing: records[3].attackSuccessRate)))")
  let model = try ModelBundle.load(from: directory + "/seed-0/model")
  #expect(model.config.architecture.rawValue == architecture)
  let parameter = ["lstm": "lstm.weight_hh_l0", "cnn": "convs.2.weight", "transformer": "encoder.layers.0.norm2.weight"][architecture]!
  #expect(model.model.namedParameters.map(\.name).contains(parameter))
}

@Test func deepsightProbesTheClientModelsClipsABoostedUpdateAndRefusesBadSettings() throws {
  var replacement = toyConfig(.modelReplacement)
  replacement.federation.clientsPerRound = 6
  replacement.aggregator.kind = .deepsight
  replacement.aggregator.minClusterSize = 3
  replacement.aggregator.probeInputs = 40
  #expect(replacement.validationProblems().isEmpty, "\(replacement.validationProblems())")
  let corpus = try toyCorpus()
  let directory = try Fixtures.temporaryDirectory()
  let attacked = try ExperimentRunner(config: replacement, corpus: corpus, directory: directory).run(seed: 0, resume: false)
  let attackRound = attacked[3]
  let attacker = String(try #require(attackRound.malicious.first))
  #expect(attackRound.verdicts[attacker] != .kept, "the boosted update is clipped to the median norm or excluded")
  #expect(try #require(attackRound.attackSuccessRate) < 0.5)
  #expect(try #require(attacked.last!.mainTaskAccuracy) > 0.9)
  let again = try ExperimentRunner(config: replacement, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  #expect(again == attacked, "the probes are seeded: the same run twice gives the same records")

  var problems = replacement
  problems.aggregator.tau = 0
  problems.aggregator.probeInputs = 0
  problems.federation.clientsPerRound = 2
  let found = problems.validationProblems().joined(separator: "\n")
  for key in ["aggregator.tau", "aggregator.probe_inputs", "aggregator deepsight needs at least 3 updates a round"] {
    #expect(found.contains(key), "\(key) not named in: \(found)")
  }
}

@Test func anInertAttackKeepsTheScheduleAndScoresTheTriggerWithoutAttacking() throws {
  var attacked = toyConfig(.naive, rounds: 4)
  attacked.attack!.schedule = .fixed
  attacked.attack!.startRound = 1
  var inert = attacked
  inert.attack!.inert = true
  let corpus = try toyCorpus()
  let real = try ExperimentRunner(config: attacked, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  let counterfactual = try ExperimentRunner(config: inert, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  #expect(real.map(\.sampled) == counterfactual.map(\.sampled), "the same clients train in the same rounds")
  #expect(real.allSatisfy { !$0.malicious.isEmpty } && counterfactual.allSatisfy(\.malicious.isEmpty))
  #expect(counterfactual.allSatisfy { $0.attackSuccessRate != nil }, "the triggered inputs are still scored: the base rate")
  #expect(real.last!.attackSuccessRate! > counterfactual.last!.attackSuccessRate! + 0.3)
}

@Test func freqfedTransformsEveryParameterTensorOfTheModelAndJudgesEveryClient() throws {
  var replacement = toyConfig(.modelReplacement)
  replacement.federation.clientsPerRound = 6
  replacement.aggregator.kind = .freqfed
  #expect(replacement.validationProblems().isEmpty, "\(replacement.validationProblems())")
  let corpus = try toyCorpus()
  let records = try ExperimentRunner(config: replacement, corpus: corpus, directory: try Fixtures.temporaryDirectory()).run(seed: 0, resume: false)
  for record in records {
    #expect(Set(record.verdicts.keys) == Set(record.sampled.map(String.init)), "a verdict for every sampled client in round \(record.round)")
    #expect(record.verdicts.values.filter { $0 == .kept }.count >= record.sampled.count / 2 + 1, "the majority cluster is kept")
  }
  let attackRound = records[3]
  let attacker = String(try #require(attackRound.malicious.first))
  #expect(attackRound.verdicts[attacker] == .excluded, "the boosted poisoned update is outside the majority")
  #expect(try #require(attackRound.attackSuccessRate) < 0.5)

  var single = replacement
  single.federation.clientsPerRound = 1
  #expect(single.validationProblems().joined().contains("aggregator freqfed needs at least 2 updates a round"))
}
