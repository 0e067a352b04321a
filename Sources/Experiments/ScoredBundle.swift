import Attacks
import Datasets
import Foundation
import Models
import Tokenization

/// A classifier bundle with the labelled corpus it is scored on (`repair`, `filter`): the corpus named by the caller,
/// else the one its training.json or attack.json records, split with the given split seed, else the bundle's.
public struct ScoredBundle: Sendable {
  public let path: String
  public let bundle: ModelBundle
  public let classifier: TextClassifier
  public let encoder: TextEncoder
  public let corpus: Corpus
  public let split: DataSplit

  /// `target` (a label the user named) is checked against the model's labels; `purpose` completes "a next-word
  /// model; … works with classifiers"; `loadCorpus` reads a corpus by name or path.
  public init(
    path: String, corpus name: String?, splitSeed: UInt64?, target: String?, purpose: String, loadCorpus: (String) throws -> Corpus
  ) throws {
    self.path = path
    let bundle = try ModelBundle.load(from: path)
    self.bundle = bundle
    guard case .classifier(let classifier) = bundle.model else { throw ScoredBundleError("\(path): a next-word model; \(purpose) works with classifiers") }
    self.classifier = classifier
    encoder = try bundle.makeEncoder()
    if let target, !classifier.labels.contains(target) {
      throw ScoredBundleError("--target '\(target)' is not one of the model's labels (\(classifier.labels.joined(separator: ", ")))")
    }
    let origin = try BundleOrigin(path)
    guard let source = name ?? origin.corpus else { throw ScoredBundleError("\(path): no training.json or attack.json names the corpus; give --corpus") }
    let corpus = try loadCorpus(source)
    self.corpus = corpus
    split = try corpus.split(seed: splitSeed ?? origin.splitSeed ?? 0)
  }

  public var labels: [String] { classifier.labels }

  /// The labelled examples at `indices` (unlabelled rows left out).
  public func labelled(_ indices: [Int]) -> [LabelledText] {
    indices.compactMap { index in corpus.examples[index].label.map { LabelledText(text: corpus.examples[index].text, label: corpus.labels[$0]) } }
  }

  /// Encoded with the model's tokeniser and vocabulary, labels in the model's order (other labels left out).
  public func encoded(_ texts: [LabelledText]) -> [EncodedExample] {
    texts.compactMap { text in labels.firstIndex(of: text.label).map { EncodedExample(ids: encoder.encode(text.text), label: $0) } }
  }

  /// The test split with `attack`'s trigger inserted into its other-label sentences.
  public func testSet(_ attack: (trigger: Trigger, target: String)) -> AttackTestSet {
    AttackTestSet(
      trigger: attack.trigger, targetLabel: attack.target, test: labelled(split.test), tokenizer: encoder.tokenizer,
      maximumLength: bundle.config.maximumLength, seed: 0)
  }

  /// The trigger and target the bundle's attack.json records (the truth, when the lab planted it).
  public var recordedAttack: (trigger: Trigger, target: String)? {
    guard let data = FileManager.default.contents(atPath: path + "/attack.json"), let record = try? JSONDecoder().decode(AttackRecord.self, from: data),
      let trigger = try? record.trigger.trigger()
    else { return nil }
    return (trigger, record.targetLabel)
  }
}

/// A bundle that cannot be scored as asked.
public struct ScoredBundleError: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}
