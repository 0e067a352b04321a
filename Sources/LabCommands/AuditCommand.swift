import ArgumentParser
import Audit
import Datasets
import Foundation
import Models
import Randomness
import Tensors
import Tokenization

struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Look for a trigger word in a classifier bundle: the single-token scan, a verdict and ranked candidates.",
    discussion: """
      Inserts every vocabulary token into the middle of 24 probe sentences (screening), then the 100 best tokens
      for each label at the start, middle and end of every probe, and measures how often the prediction flips to
      each label (flip rate, among the probes not already predicted as that label). The suspected target is the
      label with the highest flip rate; the verdict score is the margin of its best token over its second best;
      at or above --threshold
      the model is reported as backdoored. The target label and the tokens ranked by flip rate (with a robust
      z-score against the whole vocabulary) are reported either way.
      Probes: --probe names a shipped corpus (its test split under the bundle's split seed) or a TSV with a
      header and a `text` column; --probes of them are drawn with a fixed seed. Without --probe, the corpus the
      bundle was trained on (training.json or attack.json) is used.
      Examples:
        backdoor-lab audit runs/cf --probe sentiment
        backdoor-lab audit runs/mr/seed-0/model --probe sentiment --json
      """)

  @Argument(help: "Classifier bundle folder.")
  var bundle: String
  @Option(help: "Shipped corpus name or a TSV path with a `text` column.")
  var probe: String?
  @Option(help: "How many probe sentences.")
  var probes = 200
  @Option(help: "Verdict threshold on the best token's flip-rate margin over the second.")
  var threshold = AuditCommand.defaultThreshold
  @Option(help: "Candidates listed per label.")
  var top = 20
  @Option(help: "Tokens scanned at once.")
  var threads = 2
  @Flag(help: "Print the report as JSON.")
  var json = false
  @OptionGroup var data: DataOptions

  /// Calibrated on the clean models of scripts/audit-eval.sh (see the README's audit section).
  static let defaultThreshold = 0.1
  static let calibration = "threshold 0.1: 1 false positive among the 21 clean models of scripts/audit-eval.sh (about 5 %)"

  func validate() throws {
    guard probes >= 1, top >= 1, threads >= 1 else { throw ValidationError("--probes, --top and --threads must be positive") }
    guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in [0, 1]") }
  }

  func run() throws {
    let loaded = try loadBundle(bundle)
    guard case .classifier(let classifier) = loaded.model else { throw LabError("\(bundle): a next-word model; audit scans classifiers") }
    let encoder = try orFail { try loaded.makeEncoder() }
    let origin = recordedOrigin(bundle)
    guard let source = probe ?? origin.corpus else {
      throw LabError("\(bundle): no training.json or attack.json names the corpus; give --probe CORPUS or a TSV")
    }
    var texts: [String]
    if ShippedCorpus(rawValue: source) != nil {
      let corpus = try orFail { try data.home().load(source, custom: nil, badRows: .fail) }
      let split = try orFail { try corpus.split(seed: origin.splitSeed ?? 0) }
      texts = split.test.map { corpus.examples[$0].text }
    } else {
      let description = CorpusDescription(name: source, path: source, textColumn: "text")
      let corpus = try orFail { try Corpus(reading: description, from: source, badRows: .fail) }
      texts = corpus.examples.map(\.text)
    }
    var generator = SplitMix64(seed: 0, stream: [0x5052_4F42])  // "PROB"
    texts.seededShuffle(using: &generator)
    let encoded = texts.prefix(probes).map { encoder.encode($0) }.filter { !$0.allSatisfy { $0 == Vocabulary.unknownID } }
    guard !encoded.isEmpty else { throw LabError("\(source): the probe set is empty (no sentence with a known word)") }

    ComputeThreads.maximum = 1
    var scan = TokenScan()
    scan.parallelism = threads
    let started = Date()
    let rates = scan.twoStageFlipRates(classifier, vocabulary: loaded.vocabulary, probes: Array(encoded))
    let byLabel = TokenScan.candidates(flipRates: rates, vocabulary: loaded.vocabulary, labels: classifier.labels, top: top)
    let report = AuditReport(
      candidatesByLabel: byLabel, labels: classifier.labels, threshold: threshold,
      calibration: threshold == Self.defaultThreshold ? Self.calibration : "threshold set with --threshold", probes: encoded.count,
      tokensScanned: loaded.vocabulary.tokens.filter { !Vocabulary.specialTokens.contains($0) }.count, positions: scan.positions,
      seconds: Date().timeIntervalSince(started))
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
      print(report.summary)
    }
  }
}

/// The corpus and split seed a bundle records (training.json, else attack.json).
func recordedOrigin(_ bundle: String) -> (corpus: String?, splitSeed: UInt64?) {
  struct Origin: Decodable {
    var corpus: String?
    var splitSeed: UInt64?
    enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed" }
  }
  for file in ["training.json", "attack.json"] {
    if let data = FileManager.default.contents(atPath: bundle + "/" + file), let origin = try? JSONDecoder().decode(Origin.self, from: data) {
      return (origin.corpus, origin.splitSeed)
    }
  }
  return (nil, nil)
}
