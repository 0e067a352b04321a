import Attacks
import Defenses
import Experiments
import Foundation
import Testing
import TestSupport

private func write(_ text: String, _ name: String) throws -> String {
  let path = try Fixtures.temporaryDirectory() + "/" + name
  try text.write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

private func loadError(_ text: String, _ name: String = "c.json") throws -> String {
  do {
    _ = try ExperimentConfig.load(from: try write(text, name))
    return ""
  } catch {
    return "\(error)"
  }
}

@Test func configsLoadFromJSONAndYAMLWithDefaults() throws {
  let json = try ExperimentConfig.load(from: try write(#"{"task": {"corpus": "sentiment"}, "federation": {"rounds": 7, "local": {"optimizer": "sgd"}}}"#, "a.json"))
  #expect(json.task.corpus == "sentiment" && json.federation.rounds == 7 && json.federation.local.optimizer == .sgd)
  #expect(json.federation.clientsPerRound == 10 && json.attack == nil && json.seeds == [0, 1, 2])
  let yaml = try ExperimentConfig.load(from: try write("task:\n  corpus: sentiment\nfederation:\n  rounds: 7\n  local:\n    optimizer: sgd\n", "a.yaml"))
  #expect(yaml == json)
}

@Test func unknownKeysAndMisspelledChoicesAreNamed() throws {
  let unknown = try loadError(#"{"task": {"corpus": "sentiment"}, "federation": {"clients_per_roun": 5}}"#)
  #expect(unknown.contains("c.json") && unknown.contains("unknown key 'federation.clients_per_roun'") && unknown.contains("did you mean 'clients_per_round'"))
  let nested = try loadError("task:\n  corpus: sentiment\nfederation:\n  local:\n    lr: 0.1\n", "c.yaml")
  #expect(nested.contains("unknown key 'federation.local.lr'"))
  let choice = try loadError(#"{"task": {"corpus": "sentiment"}, "attack": {"behaviour": "modle_replacement"}}"#)
  #expect(choice.contains("'attack.behaviour': 'modle_replacement' is not one of") && choice.contains("did you mean 'model_replacement'"))
  let top = try loadError(#"{"tasks": {}}"#)
  #expect(top.contains("unknown key 'tasks'"))
  let invalid = try loadError(#"{"task": {"corpus": "sentiment"}, "federation": {"clients": 5, "clients_per_round": 9}}"#)
  #expect(invalid.contains("federation.clients_per_round must be 1"))
  let badTrigger = try loadError(#"{"task": {"corpus": "sentiment"}, "attack": {"trigger": "rare:", "target": "pos"}}"#)
  #expect(badTrigger.contains("attack.trigger") && badTrigger.contains("empty"))
  let type = try loadError(#"{"task": {"corpus": "sentiment"}, "federation": {"rounds": "many"}}"#)
  #expect(type.contains("federation.rounds"))
  let broken = try loadError(#"{"task": "#)
  #expect(broken.contains("c.json"))
}

@Test func presetsAreValidAndRoundTripThroughJSONAndYAML() throws {
  for preset in Preset.allCases {
    let config = preset.config
    #expect(config.validationProblems().isEmpty, "\(preset.rawValue): \(config.validationProblems())")
    #expect(try ExperimentConfig.load(from: try write(config.json(), "p.json")) == config, "\(preset.rawValue) JSON")
    #expect(try ExperimentConfig.load(from: try write(config.yaml(), "p.yaml")) == config, "\(preset.rawValue) YAML")
  }
  #expect(Preset.sentimentModelReplacement.config.yaml().contains("dropout: 0.3"), "numbers print as written")
}

@Test func overridesSetNestedKeysStrictly() throws {
  let base = Preset.sentimentNaivePoisoning.config
  let changed = try base.overriding(["attack.attacker_fraction=0.1", "federation.rounds=7", "attack.trigger=rare:mb", "name=x"])
  #expect(changed.attack?.attackerFraction == 0.1 && changed.federation.rounds == 7 && changed.attack?.trigger == "rare:mb" && changed.name == "x")
  #expect(throws: ConfigError.self) { try base.overriding(["federation.roundz=7"]) }
  #expect(throws: ConfigError.self) { try base.overriding(["federation.rounds=0"]) }
  #expect(throws: ConfigError.self) { try base.overriding(["no-equals"]) }
}

@Test func secureAggregationSaysWhichRulesCannotRun() throws {
  var config = Preset.sentimentModelReplacement.config
  config.aggregator.secure = true
  config.aggregator.kind = .krum
  config.federation.weighting = .uniform
  let problems = config.validationProblems()
  #expect(problems.contains { $0.contains("krum needs the individual updates") && $0.contains("fedavg, clipping, weak_dp") })
  config.aggregator.kind = .weakDifferentialPrivacy
  config.aggregator.clipBound = 6
  #expect(config.validationProblems().isEmpty)
  config.federation.weighting = .examples
  #expect(config.validationProblems().contains { $0.contains("federation.weighting: uniform") })
}

@Test func nonsenseNumbersAreRejected() throws {
  let base = Preset.sentimentModelReplacement.config
  for (assignment, message) in [
    ("federation.evaluate_every=0", "evaluate_every"), ("federation.parallel_clients=0", "parallel_clients"),
    ("attack.noise_std=-1", "noise_std"), ("attack.boost=0", "boost"),
    ("aggregator.window=0", "aggregator.window must be in 1…100"), ("aggregator.window=1000", "aggregator.window must be in 1…100"),
  ] {
    do {
      _ = try base.overriding([assignment])
      Issue.record("\(assignment) must be rejected")
    } catch {
      #expect("\(error)".contains(message), "\(error)")
    }
  }
}

@Test func fldetectorIsChosenByNameWithItsWindow() throws {
  let config = try Preset.sentimentModelReplacement.config.overriding(["aggregator.kind=fldetector", "aggregator.window=4"])
  let rule = try #require(config.aggregator.makeAggregator(weighting: .examples, seed: 3, embedding: nil) as? FLDetector)
  #expect(rule.window == 4 && rule.seed == 3)
  do {
    _ = try Preset.sentimentModelReplacement.config.overriding(["aggregator.kind=fldetector", "federation.clients_per_round=2"])
    Issue.record("fldetector with two clients a round was accepted")
  } catch {
    #expect(error.description.contains("aggregator fldetector needs at least 3 updates a round; federation.clients_per_round is 2"), "\(error)")
  }
}

@Test func aBoostGivenToNeurotoxinReachesTheAttack() throws {
  let boosted = try Preset.keyboardSemantic.config.overriding(["attack.behaviour=neurotoxin", "attack.boost=10", "attack.top_percent=1"])
  #expect(boosted.attack?.attackBehaviour == .neurotoxin(topPercent: 1, radius: nil, boost: 10))
  let plain = try Preset.sentimentNeurotoxin.config.overriding([])
  #expect(plain.attack?.attackBehaviour == .neurotoxin(topPercent: 5, radius: 3, boost: nil))
}

@Test func freqfedIsChosenByNameAndGetsTheModelsParameterMatrices() throws {
  let config = try Preset.sentimentModelReplacement.config.overriding(["aggregator.kind=freqfed"])
  let layout = [FreqFed.ParameterMatrix(range: 0..<12, shape: [4, 3]), FreqFed.ParameterMatrix(range: 12..<15, shape: [3])]
  let rule = try #require(
    config.aggregator.makeAggregator(weighting: .uniform, seed: 0, embedding: nil, parameterMatrices: layout) as? FreqFed)
  #expect(rule.layout == layout && rule.averaging.weighting == .uniform)
}

@Test(arguments: [
  ("federation:\n  server_learning_rate: .inf\n", "federation.server_learning_rate must be a finite number"),
  ("aggregator:\n  kind: clipping\n  clip_bound: .inf\n", "aggregator.clip_bound must be a finite number"),
  ("federation:\n  local:\n    learning_rate: .inf\n", "federation.local.learning_rate must be a finite number"),
])
func infiniteNumbersInAConfigAreNamedNotACrash(yaml: String, message: String) throws {
  let text = "task:\n  corpus: sentiment\n" + yaml
  let error = try loadError(text, "c.yaml")
  #expect(error.contains(message), "\(error)")
}

@Test func aKeyGivenTwiceAnEndlessRunAndABadOverrideAreNamed() throws {
  let directory = try Fixtures.temporaryDirectory()
  try "name: a\nname: b\ntask: {corpus: sentiment}\n".write(toFile: directory + "/twice.yaml", atomically: true, encoding: .utf8)
  try #"{"name": "a", "task": {"corpus": "sentiment", "corpus": "trec"}}"#.write(toFile: directory + "/twice.json", atomically: true, encoding: .utf8)
  for file in ["twice.yaml", "twice.json"] {
    #expect(throws: ConfigError.self) { try ExperimentConfig.load(from: directory + "/" + file) }
    do { _ = try ExperimentConfig.load(from: directory + "/" + file) } catch {
      #expect(error.description.contains("a key is given twice in one mapping"), "\(error.description)")
    }
  }
  let base = Preset.sentimentNaivePoisoning.config
  for (assignment, message) in [
    ("federation.rounds=9223372036854775807", "federation.rounds must be 1 … 1000000"),
    ("federation.rounds=abc", "--set 'federation.rounds=abc': 'federation.rounds'"),
    ("federation.rounds.x=1", "'rounds' holds a value, not keys"),
  ] {
    do {
      _ = try base.overriding(["federation.clients=40", assignment])
      Issue.record("\(assignment) was accepted")
    } catch {
      #expect(error.description.contains(message), "\(error.description)")
    }
  }
}
