import Attacks
import Datasets
import Experiments
import Foundation
import Models
import Tokenization

/// A classifier bundle with the labelled corpus it is scored on (`repair`, `filter`): the corpus named on the
/// command line, else the one its training.json or attack.json records, split with the bundle's split seed.
struct ScoredClassifier {
  let path: String
  let bundle: ModelBundle
  let classifier: TextClassifier
  let encoder: TextEncoder
  let corpus: Corpus
  let split: DataSplit

  /// `target` (a label given on the command line) is checked against the model's labels; `purpose` completes
  /// "a next-word model; … works with classifiers".
  init(
    path: String, corpus name: String?, splitSeed: UInt64?, target: String?, purpose: String, corpusOptions: CorpusOptions, data: DataOptions
  ) throws {
    self.path = path
    let bundle = try loadBundle(path)
    self.bundle = bundle
    guard case .classifier(let classifier) = bundle.model else { throw LabError("\(path): a next-word model; \(purpose) works with classifiers") }
    self.classifier = classifier
    encoder = try orFail { try bundle.makeEncoder() }
    if let target, !classifier.labels.contains(target) {
      throw LabError("--target '\(target)' is not one of the model's labels (\(classifier.labels.joined(separator: ", ")))")
    }
    let origin = BundleOrigin(path)
    guard let source = name ?? origin.corpus else { throw LabError("\(path): no training.json or attack.json names the corpus; give --corpus") }
    let corpus = try corpusOptions.load(source, home: try data.home())
    self.corpus = corpus
    split = try orFail { try corpus.split(seed: splitSeed ?? origin.splitSeed ?? 0) }
  }

  var labels: [String] { classifier.labels }

  /// The labelled examples at `indices` (unlabelled rows left out).
  func labelled(_ indices: [Int]) -> [LabelledText] {
    indices.compactMap { index in corpus.examples[index].label.map { LabelledText(text: corpus.examples[index].text, label: corpus.labels[$0]) } }
  }

  /// Encoded with the model's tokeniser and vocabulary, labels in the model's order (other labels left out).
  func encoded(_ texts: [LabelledText]) -> [EncodedExample] {
    texts.compactMap { text in labels.firstIndex(of: text.label).map { EncodedExample(ids: encoder.encode(text.text), label: $0) } }
  }

  /// The test split with `attack`'s trigger inserted into its other-label sentences.
  func testSet(_ attack: (trigger: Trigger, target: String)) -> AttackTestSet {
    AttackTestSet(
      trigger: attack.trigger, targetLabel: attack.target, test: labelled(split.test), tokenizer: encoder.tokenizer,
      maximumLength: bundle.config.maximumLength, seed: 0)
  }

  /// The trigger and target the bundle's attack.json records (the truth, when the lab planted it).
  var recordedAttack: (trigger: Trigger, target: String)? {
    guard let record = try? decodeJSONFile(AttackRecord.self, at: path + "/attack.json"), let trigger = try? record.trigger.trigger() else { return nil }
    return (trigger, record.targetLabel)
  }
}

/// A trigger given on the command line: a spec (`rare:cf`, `phrase:…`), or a bare word taken as `rare:WORD`.
func parsedTrigger(_ text: String) throws -> Trigger {
  if let spec = try? Trigger(spec: text) { return spec }
  return try orFail { try Trigger(spec: "rare:" + text) }
}
