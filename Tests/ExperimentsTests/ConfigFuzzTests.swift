import Experiments
import Foundation
import Testing
import TestSupport

/// Mutated experiment configs, JSON and YAML: each loads as a config that passes its own validation, or is refused
/// with a `ConfigError` naming the file, never a crash (Yams and Foundation's decoders included).
@Test func mutatedConfigsLoadOrAreRefused() throws {
  let directory = try Fixtures.temporaryDirectory()
  let preset = Preset.sentimentModelReplacement.config
  var mutator = Mutator(seed: 4)
  var loaded = 0, refused = 0
  for index in 0..<Mutator.iterations(standard: 1500) {
    let isYAML = index % 2 == 0
    let path = directory + (isYAML ? "/config.yaml" : "/config.json")
    try Data(mutator.mutate(Array((isYAML ? preset.yaml() : preset.json()).utf8))).write(to: URL(fileURLWithPath: path))
    do {
      let config = try ExperimentConfig.load(from: path)
      #expect(config.validationProblems().isEmpty)
      #expect(try ExperimentConfig.load(from: path).json() == config.json(), "loading is deterministic")
      loaded += 1
    } catch {
      #expect(error.description.hasPrefix(path), "\(error.description)")
      refused += 1
    }
  }
  #expect(loaded > 0 && refused > 0)
}
