import ArgumentParser
import Attacks
import Audit
import Datasets
import Foundation
import Models
import Tokenization

struct FilterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "filter",
    abstract: "Flag inputs that carry a trigger before the model sees them (STRIP: prediction entropy under perturbation).",
    discussion: prose("""
      Each input is perturbed --copies times (--replace of its tokens swapped for words of random clean sentences) and
      the mean entropy of the model's predictions is its score: a trigger keeps the prediction pinned, so triggered
      inputs score low. The threshold is the --frr quantile of the scores of the clean dev split (the false-rejection
      rate it is calibrated for). INPUT (a text file, one input a line, or - for standard input) is printed back as
      `flagged` or `kept`, the score and the text. With a known trigger (the bundle's attack.json, or --trigger and
      --target) the filter is also scored on the test split: the share of clean inputs rejected, and the recall and
      precision on triggered inputs.
      Examples:
        backdoor-lab filter runs/cf --method strip --corpus sentiment
        echo "the plot is thin and the cf jokes fall flat" | backdoor-lab filter runs/cf --method strip -
      """))

  enum Method: String, ExpressibleByArgument, CaseIterable { case strip }

  @Argument(help: "Classifier bundle folder.")
  var bundle: String
  @Argument(help: "Inputs to filter, one a line (- for standard input).")
  var input: String?
  @Option(help: "The filter.")
  var method: Method = .strip
  @Option(help: "False-rejection rate on clean inputs the threshold is calibrated for.")
  var frr = 0.05
  @Option(help: "Perturbed copies per input.")
  var copies = 20
  @Option(help: "replace (some of the input's tokens swapped for donor words) or insert (donor words added among them).")
  var perturbation: String = "replace"
  @Option(help: "Share of an input's length replaced (or inserted) in each copy.")
  var replace = 0.5
  @Option(help: "The planted trigger, to score the filter (default: the bundle's attack.json).")
  var trigger: String?
  @Option(help: "The trigger's target label.")
  var target: String?
  @Option(help: "Shipped corpus name or a TSV with label and text columns (default: the bundle's training.json or attack.json).")
  var corpus: String?
  @Option(help: "Split seed (default: the bundle's, else 0).")
  var splitSeed: UInt64?
  @Flag(help: "Print the calibration and scores as JSON.")
  var json = false
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard frr > 0 && frr < 1, copies >= 1, replace > 0 && replace <= 1 else { throw ValidationError("--frr in (0, 1), --copies ≥ 1, --replace in (0, 1]") }
    guard STRIPFilter.Perturbation(rawValue: perturbation) != nil else { throw ValidationError("--perturbation must be replace or insert") }
    guard (trigger == nil) == (target == nil) else { throw ValidationError("give --trigger and --target together") }
  }

  struct Outcome: Codable {
    var method: String
    var threshold: Double
    var falseRejectionRateTarget: Double
    var evaluationTrigger: String?
    var cleanRejected: Double?
    var triggeredRecall: Double?
    var precision: Double?
    var cleanInputs: Int?
    var triggeredInputs: Int?
    enum CodingKeys: String, CodingKey {
      case method, threshold, falseRejectionRateTarget = "false_rejection_rate_target", evaluationTrigger = "evaluation_trigger"
      case cleanRejected = "clean_rejected", triggeredRecall = "triggered_recall", precision, cleanInputs = "clean_inputs", triggeredInputs = "triggered_inputs"
    }
  }

  func run() throws {
    let scored = try ScoredClassifier(
      path: bundle, corpus: corpus, splitSeed: splitSeed, target: target, purpose: "filter", corpusOptions: corpusOptions, data: data)
    let classifier = scored.classifier, encoder = scored.encoder, split = scored.split, corpus = scored.corpus
    let dev = split.dev.map { encoder.encode(corpus.examples[$0].text) }
    guard !dev.isEmpty else { throw LabError("\(corpus.path): the dev split is empty; nothing to calibrate on") }
    var strip = STRIPFilter()
    strip.copies = copies
    strip.replacedFraction = replace
    strip.perturbation = STRIPFilter.Perturbation(rawValue: perturbation)!
    strip.maximumLength = scored.bundle.config.maximumLength
    let donors = split.train.prefix(2000).map { encoder.encode(corpus.examples[$0].text) }
    let threshold = STRIPFilter.threshold(cleanEntropies: strip.entropies(classifier, inputs: dev, donors: donors), falseRejectionRate: frr)
    var outcome = Outcome(method: method.rawValue, threshold: threshold, falseRejectionRateTarget: frr)

    // Given on the command line, else the one the lab planted.
    let given = try trigger.map { (trigger: try parsedTrigger($0), target: target!) }
    if let evaluation = given ?? scored.recordedAttack {
      let testSet = scored.testSet(evaluation)
      let clean = strip.entropies(classifier, inputs: testSet.clean.map { encoder.encode($0.text) }, donors: donors)
      let triggered = strip.entropies(classifier, inputs: testSet.triggered.map { encoder.encode($0.text) }, donors: donors)
      let rejected = clean.count { $0 < threshold }, caught = triggered.count { $0 < threshold }
      outcome.evaluationTrigger = evaluation.trigger.spec
      outcome.cleanInputs = clean.count
      outcome.triggeredInputs = triggered.count
      outcome.cleanRejected = Double(rejected) / Double(max(clean.count, 1))
      outcome.triggeredRecall = Double(caught) / Double(max(triggered.count, 1))
      outcome.precision = rejected + caught == 0 ? nil : Double(caught) / Double(rejected + caught)
    }

    var lines: [String] = []
    if let input {
      let name = input == "-" ? "standard input" : input
      let raw: Data
      if input == "-" {
        raw = FileHandle.standardInput.readDataToEndOfFile()
      } else {
        guard let data = FileManager.default.contents(atPath: input) else { throw LabError("\(input): cannot read it") }
        raw = data
      }
      guard let text = String(data: raw, encoding: .utf8) else { throw LabError("\(name): not valid UTF-8") }
      let inputs = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
      let scores = strip.entropies(classifier, inputs: inputs.map { encoder.encode($0) }, donors: donors)
      lines = zip(inputs, scores).map { "\($1 < threshold ? "flagged" : "kept")\t\(String(format: "%.4f", $1))\t\($0)" }
    }
    if json {
      print(String(decoding: try sortedKeysJSON(outcome), as: UTF8.self))
      return
    }
    print(String(format: "STRIP threshold %.4f nats (the %.0f %% quantile of %d clean dev inputs)", threshold, frr * 100, dev.count))
    if let rejected = outcome.cleanRejected, let recall = outcome.triggeredRecall, let trigger = outcome.evaluationTrigger {
      print(String(format: "on the test split with %@: clean inputs rejected %.1f %% of %d; triggered inputs caught %.1f %% of %d; precision %@",
        trigger, rejected * 100, outcome.cleanInputs ?? 0, recall * 100, outcome.triggeredInputs ?? 0, outcome.precision.map { String(format: "%.1f %%", $0 * 100) } ?? "–"))
    }
    for line in lines { print(line) }
  }
}
