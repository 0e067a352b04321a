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
    abstract: "Flag inputs that carry a trigger before the model sees them (STRIP or ONION).",
    discussion: prose("""
      STRIP (Gao et al. 2019): each input is perturbed --copies times (--replace of its tokens swapped for words of
      random clean sentences) and the mean entropy of the model's predictions is its score: a trigger keeps the
      prediction pinned, so triggered inputs score low. ONION (Qi et al. 2021, --lm: a next-word model from
      `train-lm`): each word's suspicion is how much the sentence's log-perplexity falls without it, an input's score
      its highest suspicion (on the log scale: nats per word), and words above the threshold are removed before the classifier reads the input.
      The threshold is set on the clean dev split so that --frr of it is flagged (the false-rejection rate it is
      calibrated for). INPUT (a text file, one input a line, or - for standard input) is printed back as
      `flagged` or `kept`, the score and the text (ONION: the cleaned text). With a known trigger (the bundle's
      attack.json, or --trigger and --target) the filter is also scored on the test split: the share of clean
      inputs rejected, the recall and precision on triggered inputs, and for ONION the attack success and clean
      accuracy after cleaning.
      Examples:
        backdoor-lab filter runs/cf --method strip --corpus sentiment
        echo "the plot is thin and the cf jokes fall flat" | backdoor-lab filter runs/cf --method strip -
        backdoor-lab train-lm --corpus sentiment --minutes 3 --out runs/lm-sentiment
        backdoor-lab filter runs/cf --method onion --lm runs/lm-sentiment
      """))

  enum Method: String, ExpressibleByArgument, CaseIterable { case strip, onion }

  @Argument(help: "Classifier bundle folder.")
  var bundle: String
  @Argument(help: "Inputs to filter, one a line (- for standard input).")
  var input: String?
  @Option(help: "The filter.")
  var method: Method = .strip
  @Option(help: "False-rejection rate on clean inputs the threshold is calibrated for.")
  var frr = 0.05
  @Option(help: "ONION's language model: a next-word model bundle (train-lm).")
  var lm: String?
  @Option(help: "Perturbed copies per input (STRIP).")
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
    guard method == .strip || lm != nil else { throw ValidationError("--method onion needs --lm, a next-word model bundle (train-lm makes one)") }
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
    /// ONION: the attack success rate and clean accuracy on the cleaned inputs, and before cleaning.
    var attackSuccessAfterCleaning: Double?
    var attackSuccessBefore: Double?
    var cleanAccuracyAfterCleaning: Double?
    var cleanAccuracyBefore: Double?
    enum CodingKeys: String, CodingKey {
      case method, threshold, falseRejectionRateTarget = "false_rejection_rate_target", evaluationTrigger = "evaluation_trigger"
      case cleanRejected = "clean_rejected", triggeredRecall = "triggered_recall", precision, cleanInputs = "clean_inputs", triggeredInputs = "triggered_inputs"
      case attackSuccessAfterCleaning = "asr_after_cleaning", attackSuccessBefore = "asr_before", cleanAccuracyAfterCleaning = "clean_accuracy_after_cleaning"
      case cleanAccuracyBefore = "clean_accuracy_before"
    }
  }

  /// One filter, whichever the method: input scores, the threshold calibrated on clean scores, which scores are
  /// flagged, and (ONION) the cleaned inputs.
  struct Scorer {
    var describeThreshold: (Double, Int) -> String
    var score: ([String]) -> [Double]
    var calibrate: ([Double]) -> Double
    var flags: (Double, Double) -> Bool
    /// The inputs with suspicious words removed (nil: the filter only flags).
    var clean: (([String], Double) -> [String])?
  }

  func scorer(_ scored: ScoredClassifier, donors: [[Int]]) throws -> Scorer {
    switch method {
    case .strip:
      var strip = STRIPFilter()
      strip.copies = copies
      strip.replacedFraction = replace
      strip.perturbation = STRIPFilter.Perturbation(rawValue: perturbation)!
      strip.maximumLength = scored.bundle.config.maximumLength
      return Scorer(
        describeThreshold: { String(format: "STRIP threshold %.4f nats (flagged below; %.0f %% of %d clean dev inputs are)", $0, frr * 100, $1) },
        score: { strip.entropies(scored.classifier, inputs: $0.map(scored.encoder.encode), donors: donors) },
        calibrate: { STRIPFilter.threshold(cleanEntropies: $0, falseRejectionRate: frr) }, flags: { $0 < $1 }, clean: nil)
    case .onion:
      let loaded = try loadBundle(lm!)
      guard case .languageModel(let model) = loaded.model else { throw LabError("\(lm!): a classifier; --lm needs a next-word model (train-lm)") }
      let encoder = try orFail { try loaded.makeEncoder() }
      let onion = ONIONFilter(languageModel: model, encoder: encoder)
      let words = { (texts: [String]) in texts.map { Array(encoder.tokenizer.words(in: $0).prefix(scored.bundle.config.maximumLength)) } }
      return Scorer(
        describeThreshold: { String(format: "ONION threshold %.3f nats of log-perplexity drop (flagged above; %.0f %% of %d clean dev inputs are)", $0, frr * 100, $1) },
        score: { onion.scores(words($0)) }, calibrate: { ONIONFilter.threshold(cleanScores: $0, falseRejectionRate: frr) }, flags: { $0 > $1 },
        clean: { texts, threshold in
          let split = words(texts)
          return zip(split, onion.suspicions(split)).map { onion.cleaned($0, suspicions: $1, threshold: threshold).joined(separator: " ") }
        })
    }
  }

  func run() throws {
    let scored = try ScoredClassifier(
      path: bundle, corpus: corpus, splitSeed: splitSeed, target: target, purpose: "filter", corpusOptions: corpusOptions, data: data)
    let classifier = scored.classifier, encoder = scored.encoder, split = scored.split, corpus = scored.corpus
    let dev = split.dev.map { corpus.examples[$0].text }
    guard !dev.isEmpty else { throw LabError("\(corpus.path): the dev split is empty; nothing to calibrate on") }
    let donors = split.train.prefix(2000).map { encoder.encode(corpus.examples[$0].text) }
    let filter = try scorer(scored, donors: donors)
    let threshold = filter.calibrate(filter.score(dev))
    var outcome = Outcome(method: method.rawValue, threshold: threshold, falseRejectionRateTarget: frr)

    // Given on the command line, else the one the lab planted.
    let given = try trigger.map { (trigger: try parsedTrigger($0), target: target!) }
    if let evaluation = given ?? scored.recordedAttack {
      let testSet = scored.testSet(evaluation)
      let clean = filter.score(testSet.clean.map(\.text)), triggered = filter.score(testSet.triggered.map(\.text))
      let rejected = clean.count { filter.flags($0, threshold) }, caught = triggered.count { filter.flags($0, threshold) }
      outcome.evaluationTrigger = evaluation.trigger.spec
      outcome.cleanInputs = clean.count
      outcome.triggeredInputs = triggered.count
      outcome.cleanRejected = Double(rejected) / Double(max(clean.count, 1))
      outcome.triggeredRecall = Double(caught) / Double(max(triggered.count, 1))
      outcome.precision = rejected + caught == 0 ? nil : Double(caught) / Double(rejected + caught)
      if let cleanInputs = filter.clean, let target = classifier.labels.firstIndex(of: evaluation.target) {
        func attackSuccess(_ texts: [String]) -> Double {
          Double(classifier.predict(texts.map { EncodedExample(ids: encoder.encode($0), label: 0) }).classes.count { $0 == target }) / Double(max(texts.count, 1))
        }
        func accuracy(_ texts: [String]) -> Double {
          classifier.evaluate(scored.encoded(zip(texts, testSet.clean).map { LabelledText(text: $0, label: $1.label) })).accuracy
        }
        outcome.attackSuccessBefore = attackSuccess(testSet.triggered.map(\.text))
        outcome.attackSuccessAfterCleaning = attackSuccess(cleanInputs(testSet.triggered.map(\.text), threshold))
        outcome.cleanAccuracyBefore = accuracy(testSet.clean.map(\.text))
        outcome.cleanAccuracyAfterCleaning = accuracy(cleanInputs(testSet.clean.map(\.text), threshold))
      }
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
      let scores = filter.score(inputs)
      let shown = filter.clean?(inputs, threshold) ?? inputs
      lines = zip(shown, scores).map { "\(filter.flags($1, threshold) ? "flagged" : "kept")\t\(String(format: "%.4f", $1))\t\($0)" }
    }
    if json {
      print(String(decoding: try sortedKeysJSON(outcome), as: UTF8.self))
      return
    }
    print(filter.describeThreshold(threshold, dev.count))
    if let rejected = outcome.cleanRejected, let recall = outcome.triggeredRecall, let trigger = outcome.evaluationTrigger {
      print(String(format: "on the test split with %@: clean inputs rejected %.1f %% of %d; triggered inputs caught %.1f %% of %d; precision %@",
        trigger, rejected * 100, outcome.cleanInputs ?? 0, recall * 100, outcome.triggeredInputs ?? 0, outcome.precision.map { String(format: "%.1f %%", $0 * 100) } ?? "–"))
    }
    if let before = outcome.attackSuccessBefore, let after = outcome.attackSuccessAfterCleaning, let accuracyBefore = outcome.cleanAccuracyBefore,
      let accuracyAfter = outcome.cleanAccuracyAfterCleaning {
      print(String(format: "after removing the words above the threshold: attack success %.1f %% → %.1f %%, clean accuracy %.1f %% → %.1f %%",
        before * 100, after * 100, accuracyBefore * 100, accuracyAfter * 100))
    }
    for line in lines { print(line) }
  }
}
