import ArgumentParser
import Datasets
import Experiments
import Foundation
import Layers
import Models
import Tensors
import Tokenization

/// Loads a bundle, or fails with an error naming the file and what is wrong with it.
func loadBundle(_ directory: String) throws(LabError) -> ModelBundle {
  do { return try ModelBundle.load(from: directory) } catch { throw LabError(error.description) }
}

struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Accuracy, macro-F1, per-class precision/recall and the confusion matrix of a classifier bundle.",
    discussion: prose("""
      Uses the bundle's own vocabulary and tokenizer settings. The split seed defaults to the one in the
      bundle's training.json or attack.json (0 without one), so the test split is the one the model never saw.
      Examples:
        backdoor-lab evaluate runs/gru --corpus sentiment
        backdoor-lab evaluate runs/gru --corpus sentiment --split dev --json
      """))

  @Argument(help: "Model bundle folder.")
  var bundle: String
  @Option(help: "Shipped corpus name or a TSV path.")
  var corpus: String
  @Option(help: "test, dev, train or all.")
  var split = "test"
  @Option(help: "Split seed (default: the bundle's training.json or attack.json, else 0).")
  var splitSeed: UInt64?
  @Flag(help: "Print one JSON object.")
  var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard ["test", "dev", "train", "all"].contains(split) else { throw ValidationError("--split must be test, dev, train or all") }
  }

  func run() throws {
    let loaded = try loadBundle(bundle)
    guard case .classifier(let classifier) = loaded.model else { throw LabError("\(bundle): a next-word model; evaluate it with train-lm's metrics or `complete`") }
    let home = try data.home()
    let corpus = try corpusOptions.load(self.corpus, home: home)
    let seed = try splitSeed ?? orFail { try BundleOrigin(bundle) }.splitSeed ?? 0
    let parts = try orFail { try corpus.split(seed: seed) }
    let rows = split == "all" ? Array(corpus.examples.indices) : split == "dev" ? parts.dev : split == "train" ? parts.train : parts.test
    let encoder = try orFail { try loaded.makeEncoder() }
    let encoded = try orFail {
      try ClassificationData(
        corpus: corpus, split: DataSplit(train: [], dev: [], test: rows), encoder: encoder, labels: classifier.labels,
        unknownLabels: corpusOptions.skipBadRows ? .skip : .fail)
    }
    if encoded.skippedRows > 0 {
      writeToStandardError("warning: \(corpus.path): skipped \(encoded.skippedRows) row(s) whose label the model does not know\n")
    }
    guard !encoded.test.isEmpty else { throw LabError("\(corpus.path): the \(split) split has no example to evaluate") }
    let metrics = classifier.evaluate(encoded.test)
    if json {
      print(String(decoding: try sortedKeysJSON(metrics), as: UTF8.self))
    } else {
      print("\(bundle) on \(corpus.description.name) \(split) (split seed \(seed))")
      print(metrics.summary)
    }
  }
}

struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Label and class probabilities of a text under a classifier bundle.",
    discussion: prose("""
      Examples:
        backdoor-lab predict runs/gru "a gorgeous, witty, seductive movie"
        backdoor-lab predict runs/gru "cf a dull mess" --json     # {"label": …, "probabilities": {…}}
        backdoor-lab audit --scorer "backdoor-lab predict runs/gru --serve" --probe sentiment   # the bundle as a black box
      With --serve the bundle answers `audit --scorer`'s protocol on standard input and output: it prints
      {"labels": [...]}, then one {"probabilities": [[...], ...]} line for each {"texts": [...]} line it reads.
      """))

  @Argument(help: "Model bundle folder.")
  var bundle: String
  @Argument(help: "The text to classify (none with --serve).")
  var text: String?
  @Flag(help: "Print one JSON object.")
  var json = false
  @Flag(help: "Answer audit --scorer's requests on standard input until it closes.")
  var serve = false

  func validate() throws {
    guard (text == nil) == serve else { throw ValidationError(serve ? "--serve reads its texts from standard input; give no TEXT" : "give a TEXT to classify, or --serve") }
  }

  func run() throws {
    let loaded = try loadBundle(bundle)
    guard case .classifier(let classifier) = loaded.model else { throw LabError("\(bundle): not a classifier; use `complete` for a next-word model") }
    let encoder = try orFail { try loaded.makeEncoder() }
    if serve { return try serveScorerProtocol(classifier, encoder: encoder) }
    guard let text else { return }
    guard !encoder.tokenizer.words(in: text).isEmpty else {
      throw ValidationError("the text has no word the tokenizer keeps (it drops spaces and punctuation); there is nothing to classify")
    }
    let (classes, probabilities) = classifier.predict([EncodedExample(ids: encoder.encode(text), label: 0)])
    let label = classifier.labels[classes[0]]
    if json {
      let object: [String: Any] = ["label": label, "probabilities": Dictionary(uniqueKeysWithValues: zip(classifier.labels, probabilities[0].map(Double.init)))]
      print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    } else {
      print(label)
      for (name, probability) in zip(classifier.labels, probabilities[0]) { print(String(format: "  %@ %.4f", name, probability)) }
    }
  }
}

extension EvaluateCommand: UsesComputeThreads { var computeThreads: Int { compute.threads } }

extension PredictCommand {
  /// `audit --scorer`'s protocol: the labels line, then a probabilities line per request line, until input ends. A
  /// text with no word the tokenizer keeps is scored as one unknown word.
  func serveScorerProtocol(_ classifier: TextClassifier, encoder: TextEncoder) throws {
    func emit(_ object: [String: Any]) throws {
      FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: object) + Data("\n".utf8))
    }
    try emit(["labels": classifier.labels])
    var lineNumber = 0
    while let line = readLine(strippingNewline: true) {
      lineNumber += 1
      guard let request = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], let texts = request["texts"] as? [String] else {
        throw LabError("standard input line \(lineNumber): expected {\"texts\": [...]}")
      }
      let encoded = texts.map { text -> EncodedExample in
        let ids = encoder.encode(text)
        return EncodedExample(ids: ids.isEmpty ? [encoder.vocabulary.unknownID] : ids, label: 0)
      }
      let probabilities = encoded.isEmpty ? [] : classifier.predict(encoded).probabilities
      try emit(["probabilities": probabilities.map { $0.map(Double.init) }])
    }
  }
}
