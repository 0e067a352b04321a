import ArgumentParser
import Attacks
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
    discussion: prose("""
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
      With --trigger (the planted trigger, when you planted it) the report also gives its rank: how an audit is scored.
      Examples:
        backdoor-lab audit runs/cf --probe sentiment
        backdoor-lab audit runs/mr/seed-0/model --probe sentiment --trigger rare:cf --out runs/mr/seed-0/audit.json
        backdoor-lab audit runs/mr/seed-0/model --probe sentiment --json
      """))

  @Argument(help: "Classifier bundle folder.")
  var bundle: String
  @OptionGroup var settings: AuditSettings
  @Option(help: "The planted trigger, if you know it (a trigger spec such as rare:cf, or its text): its rank is reported.")
  var trigger: String?
  @Option(help: "The planted trigger's target label (default: the label it ranks best for).")
  var target: String?
  @Option(help: "Also write the report as JSON to this file.")
  var out: String?
  @Flag(help: "Print the report as JSON.")
  var json = false
  @Flag(help: "Print nothing but errors (the report still goes to --out).")
  var quiet = false
  @Flag(help: "Also the best candidates for every label, not only the suspected target.")
  var verbose = false

  func validate() throws {
    guard !(quiet && verbose) else { throw ValidationError("give --quiet or --verbose, not both") }
  }

  /// Calibrated on the clean models of scripts/audit-eval.sh (see the README's audit section).
  static let defaultThreshold = 0.1
  static let calibration = "threshold 0.1: 1 false positive among the 21 clean models of scripts/audit-eval.sh (about 5 %)"

  func run() throws {
    let report = try settings.audit(bundle, plantedTrigger: trigger, plantedTarget: target)
    if let out { try orFail { try writeJSONAtomically(report, to: out) } }
    if quiet { return }
    if json {
      print(String(decoding: try sortedKeysJSON(report), as: UTF8.self))
    } else {
      print(report.summary)
      if verbose {
        for (label, candidates) in report.candidatesByLabel.sorted(by: { $0.key < $1.key }) {
          print("best candidates for \(label): " + candidates.prefix(10).map { "\($0.trigger) \(String(format: "%.1f", $0.flipRate * 100)) %" }.joined(separator: ", "))
        }
      }
    }
  }
}

/// How to audit a bundle; shared by `audit` and `demo`.
struct AuditSettings: ParsableArguments {
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
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard probes >= 1, top >= 1, threads >= 1 else { throw ValidationError("--probes, --top and --threads must be positive") }
    guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in [0, 1]") }
  }

  /// Scans the classifier in `bundle`; with `plantedTrigger`, also reports where it ranks.
  func audit(_ bundle: String, plantedTrigger: String? = nil, plantedTarget: String? = nil) throws -> AuditReport {
    let loaded = try loadBundle(bundle)
    guard case .classifier(let classifier) = loaded.model else { throw LabError("\(bundle): a next-word model; audit scans classifiers") }
    let encoder = try orFail { try loaded.makeEncoder() }
    if let plantedTarget, !classifier.labels.contains(plantedTarget) {
      throw LabError("--target '\(plantedTarget)' is not one of the model's labels (\(classifier.labels.joined(separator: ", ")))")
    }
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

    let previousThreads = ComputeThreads.maximum
    ComputeThreads.maximum = 1
    defer { ComputeThreads.maximum = previousThreads }
    var scan = TokenScan()
    scan.parallelism = threads
    let started = Date()
    let rates = scan.twoStageFlipRates(classifier, vocabulary: loaded.vocabulary, probes: Array(encoded))
    let byLabel = TokenScan.candidates(flipRates: rates, vocabulary: loaded.vocabulary, labels: classifier.labels, top: top)
    var report = AuditReport(
      candidatesByLabel: byLabel, labels: classifier.labels, threshold: threshold,
      calibration: threshold == AuditCommand.defaultThreshold ? AuditCommand.calibration : "threshold set with --threshold", probes: encoded.count,
      tokensScanned: TokenScan.scannable(loaded.vocabulary).count, positions: scan.positions,
      seconds: Date().timeIntervalSince(started))
    if let plantedTrigger {
      let tokens = plantedTriggerTokens(plantedTrigger, tokenizer: encoder.tokenizer)
      let labels = plantedTarget.map { [classifier.labels.firstIndex(of: $0)!] } ?? Array(classifier.labels.indices)
      report.knownTrigger = labels.compactMap {
        TokenScan.rank(of: tokens, label: $0, labels: classifier.labels, flipRates: rates, vocabulary: loaded.vocabulary)
      }.min { $0.rank < $1.rank }
      if report.knownTrigger == nil {
        writeToStandardError("warning: none of the trigger's tokens (\(tokens.joined(separator: " "))) is in \(bundle)'s vocabulary\n")
      }
    }
    return report
  }
}

/// The tokens a planted trigger becomes: a spec (rare:cf, phrase:…) or plain text.
func plantedTriggerTokens(_ trigger: String, tokenizer: Tokenizer) -> [String] {
  let pieces = (try? Trigger(spec: trigger))?.pieces ?? [trigger]
  return pieces.flatMap { tokenizer.words(in: $0) }
}

func sortedKeysJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
  let encoder = JSONEncoder()
  encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
  return try encoder.encode(value)
}

/// Writes `value` as pretty JSON through a temporary file renamed into place.
func writeJSONAtomically<T: Encodable>(_ value: T, to path: String) throws {
  try sortedKeysJSON(value, pretty: true).write(to: URL(fileURLWithPath: path), options: .atomic)
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
