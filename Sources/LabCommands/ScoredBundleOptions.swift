import Attacks
import Experiments

extension ScoredBundle {
  /// The bundle at `path` scored on the corpus the command line names (read with its column and bad-row options).
  init(path: String, corpus: String?, splitSeed: UInt64?, target: String?, purpose: String, corpusOptions: CorpusOptions, data: DataOptions) throws {
    let home = try data.home()
    self = try orFail {
      try ScoredBundle(
        path: path, corpus: corpus, splitSeed: splitSeed, target: target, purpose: purpose, loadCorpus: { try corpusOptions.load($0, home: home) })
    }
  }
}

/// A trigger given on the command line: a spec (`rare:cf`, `phrase:…`), or a bare word taken as `rare:WORD`.
func parsedTrigger(_ text: String) throws -> Trigger {
  if let spec = try? Trigger(spec: text) { return spec }
  return try orFail { try Trigger(spec: "rare:" + text) }
}
