import ArgumentParser
import Attacks
import Audit
import Datasets
import Experiments
import Foundation
import Models
import Tokenization

struct FilterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "filter",
    abstract: "Flag inputs that carry a trigger before the model sees them (STRIP, ONION or RAP).",
    discussion: prose("""
      STRIP (Gao et al. 2019, perturbed as STRIP-ViTA): each input is perturbed --copies times, its least important
      words (--replace of its tokens, lowest TF-IDF: a rare trigger word stays) swapped for the most important words
      of a clean training sentence the model gives another label than the input's (--donors any: of any sentence);
      its score is the copies' mean probability of leaving the input's label (--strip-score entropy: STRIP's mean
      entropy): a trigger keeps the prediction pinned, so triggered inputs score low. ONION (Qi et al. 2021, --lm: a
      next-word model from `train-lm`): each word's suspicion is how much the sentence's total negative log-likelihood
      falls without it (nats; --onion-scale), an input's score its highest suspicion; words above a second
      threshold are removed before the classifier reads the input, the lowest that keeps the clean dev accuracy within
      --max-accuracy-drop (Qi et al.'s choice; --removal flagging-threshold: only the flagged inputs' words above the
      flagging threshold). A WordPiece language model (train-lm --wordpiece-size) reads each word in its pieces and
      removes them together; under a word-level one, a word it never saw costs what its <unk> does plus its spelling
      under a character model of the words train-lm left out of the vocabulary (unknown-words.tsv).
      RAP (Yang et al. 2021): the embedding of a rare word of the vocabulary that you choose (--rap-word) is
      trained on the clean dev inputs of the protected label (--protect, default the known trigger's target) so that
      inserting it first lowers that label's probability by 0.3–0.6 (--rap-drop); an input the model gives that label
      is flagged when the word lowers it less (a trigger holds the prediction firmly); inputs given other labels are
      kept.
      The threshold is set on the clean dev split so that --frr of it is flagged (the false-rejection rate it is
      calibrated for). INPUT (a text file, one input a line, or - for standard input) is printed back as
      `flagged` or `kept`, the score and the text (ONION: the cleaned text); an input with no word of the model's
      vocabulary is `unscored`. With a known trigger (the bundle's
      attack.json, or --trigger and --target) the filter is also scored on the test split: the share of clean
      inputs rejected, the recall and precision on triggered inputs, the attack success and clean accuracy with the
      flagged inputs rejected (a rejected clean input counts as wrong), and for ONION also after cleaning.
      Examples:
        backdoor-lab filter runs/cf --method strip --corpus sentiment
        echo "the plot is thin and the cf jokes fall flat" | backdoor-lab filter runs/cf --method strip -
        backdoor-lab train-lm --corpus english --wordpiece-size 16000 --minutes 0 --epochs 3 --embedding-dim 128 \\
          --hidden-size 128 --tied --window 20 --out runs/lm-pieces
        backdoor-lab filter runs/cf --method onion --lm runs/lm-pieces
        backdoor-lab filter runs/cf --method rap --rap-word tedious --protect pos
      """))

  @Argument(help: "Classifier bundle folder.")
  var bundle: String
  @Argument(help: "Inputs to filter, one a line (- for standard input).")
  var input: String?
  @Option(help: "The filter.")
  var method: InputFilterRun.Method = .strip
  @Option(help: "False-rejection rate on clean inputs the threshold is calibrated for.")
  var frr = 0.05
  @Option(help: "ONION's language model: a next-word model bundle (train-lm).")
  var lm: String?
  @Option(help: "What ONION's word suspicion subtracts: log-perplexity, perplexity (the paper's), or nats (total negative log-likelihood).")
  var onionScale: ONIONFilter.Scale = .nats
  @Option(help: "How ONION's word-removal threshold is chosen: accuracy-drop (as low as keeps the clean dev accuracy within --max-accuracy-drop, Qi et al.'s choice) or flagging-threshold (words are removed only from flagged inputs).")
  var removal: RemovalRule = .accuracyDrop
  @Option(help: "ONION: the clean dev accuracy the word removal may cost, as a share (0.02: 2 points).")
  var maxAccuracyDrop = 0.02
  @Option(help: "Perturbed copies per input (STRIP).")
  var copies = 50
  @Option(help: "replace (some of the input's tokens swapped for donor words) or insert (donor words added among them).")
  var perturbation: String = "replace"
  @Option(help: "Share of an input's length replaced (or inserted) in each copy (default: 0.8 replacing the least important words, else 0.5).")
  var replace: Double?
  @Option(help: "Which donor words STRIP uses: random, or important (each donor's highest-TF-IDF words first, as STRIP-ViTA).")
  var donorWords: STRIPFilter.DonorWords = .important
  @Option(help: "Which of an input's words STRIP replaces: random, or least-important (its lowest-TF-IDF words against the donors, as STRIP-ViTA: a rare trigger word survives).")
  var replacedWords: STRIPFilter.ReplacedWords = .leastImportant
  @Option(help: "STRIP's score: entropy (the mean entropy of the copies' predictions), or departure (the mean probability they give labels other than the input's).")
  var stripScore: STRIPFilter.Score = .departure
  @Option(help: "Which donors STRIP draws from: any, or opposing (donors the model gives another label than the input's).")
  var donors: STRIPFilter.DonorChoice = .opposing
  @Option(help: "RAP's word: a rare word of the model's vocabulary.")
  var rapWord: String?
  @Option(help: "LOW,HIGH: the drop in the protected label's probability RAP's word is trained to cause on clean inputs (default: 0.3,0.6; the paper's: 0.1,0.3).")
  var rapDrop: String?
  @Option(help: "The label RAP protects (default: the known trigger's target).")
  var protect: String?
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
  @Option(help: "Threads for the numeric kernels (results do not depend on it).")
  var threads = 2
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard frr > 0 && frr < 1, copies >= 1, replace.map({ $0 > 0 && $0 <= 1 }) ?? true, threads >= 1 else {
      throw ValidationError("--frr in (0, 1), --copies ≥ 1, --replace in (0, 1], --threads ≥ 1")
    }
    guard maxAccuracyDrop >= 0 && maxAccuracyDrop < 1 else { throw ValidationError("--max-accuracy-drop must be in [0, 1) (a share: 0.02 is 2 points)") }
    guard STRIPFilter.Perturbation(rawValue: perturbation) != nil else { throw ValidationError("--perturbation must be replace or insert") }
    guard (trigger == nil) == (target == nil) else { throw ValidationError("give --trigger and --target together") }
    guard method != .onion || lm != nil else { throw ValidationError("--method onion needs --lm, a next-word model bundle (train-lm makes one)") }
    if let rapDrop { _ = try rapDropRange(rapDrop) }
    guard method != .rap || rapWord != nil else {
      throw ValidationError("--method rap needs --rap-word: a rare word of the model's vocabulary, chosen by you (not one a trigger might be)")
    }
  }

  func run() throws {
    let scored = try ScoredBundle(
      path: bundle, corpus: corpus, splitSeed: splitSeed, target: target, purpose: "filter", corpusOptions: corpusOptions, data: data)
    let filter: InputFilterRun
    switch method {
    case .strip:
      var strip = STRIPFilter()
      strip.copies = copies
      strip.perturbation = STRIPFilter.Perturbation(rawValue: perturbation)!
      let keepsImportantWords = replacedWords == .leastImportant && strip.perturbation == .replace
      strip.replacedFraction = replace ?? (keepsImportantWords ? strip.replacedFraction : STRIPFilter.randomPositionsFraction)
      strip.donorWords = donorWords
      strip.donorChoice = donors
      strip.replacedWords = replacedWords
      strip.score = stripScore
      let donorSentences = scored.split.train.prefix(2000).map { scored.encoder.encode(scored.corpus.examples[$0].text) }
      filter = .strip(strip, on: scored, donors: donorSentences, falseRejectionRate: frr)
    case .onion:
      let rule: ONIONFilter.Removal = removal == .accuracyDrop ? .accuracyDrop(maxAccuracyDrop) : .flaggingThreshold
      filter = try orFail { try InputFilterRun.onion(languageModelPath: lm!, scale: onionScale, removal: rule, on: scored, falseRejectionRate: frr) }
    case .rap:
      guard let label = protect ?? target ?? scored.recordedAttack?.target else {
        throw ValidationError("--method rap needs --protect LABEL (no trigger target is known for this bundle)")
      }
      filter = try orFail { try InputFilterRun.rap(word: rapWord!, protectedLabel: label, dropRange: try rapDrop.map(rapDropRange), on: scored, falseRejectionRate: frr) }
    }
    let (threshold, cleanCount) = try orFail { try filter.calibrate() }
    // Given on the command line, else the one the lab planted.
    let given = try trigger.map { (trigger: try parsedTrigger($0), target: target!) }
    let removalCalibration = filter.calibrateRemoval(flaggingThreshold: threshold)
    let outcome = filter.evaluate(threshold: threshold, removal: removalCalibration, attack: given ?? scored.recordedAttack)
    let lines = try input.map { filter.screen(try readInputs($0), threshold: threshold, removal: removalCalibration) } ?? []
    if json {
      print(String(decoding: try sortedKeysJSON(outcome), as: UTF8.self))
      return
    }
    print(filter.describe(threshold: threshold, cleanInputs: cleanCount))
    if let removalCalibration { print(removalCalibration.describe(unit: filter.onionUnit)) }
    for line in outcome.lines + lines { print(line) }
  }

  /// `--rap-drop`'s LOW,HIGH, with 0 < LOW ≤ HIGH < 1.
  func rapDropRange(_ text: String) throws -> ClosedRange<Double> {
    let bounds = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard bounds.count == 2, let low = bounds[0], let high = bounds[1], low > 0, low <= high, high < 1 else {
      throw ValidationError("--rap-drop must be LOW,HIGH with 0 < LOW ≤ HIGH < 1 (a drop in probability); got '\(text)'")
    }
    return low...high
  }

  /// The lines of `input` (a file, or - for standard input), empty ones included so that every input gets its line
  /// back; the end of the last line is not a line of its own.
  func readInputs(_ input: String) throws -> [String] {
    let name = input == "-" ? "standard input" : input
    let raw: Data
    if input == "-" {
      raw = FileHandle.standardInput.readDataToEndOfFile()
    } else {
      guard let data = FileManager.default.contents(atPath: input) else { throw LabError("\(input): cannot read it") }
      raw = data
    }
    guard let text = String(data: raw, encoding: .utf8) else { throw LabError("\(name): not valid UTF-8") }
    var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines
  }
}

/// `--removal`'s choices (ONION's word-removal threshold).
enum RemovalRule: String, ExpressibleByArgument { case accuracyDrop = "accuracy-drop", flaggingThreshold = "flagging-threshold" }

extension InputFilterRun.Method: ExpressibleByArgument {}
extension STRIPFilter.DonorWords: ExpressibleByArgument {}
extension STRIPFilter.ReplacedWords: ExpressibleByArgument {}
extension STRIPFilter.Score: ExpressibleByArgument {}
extension STRIPFilter.DonorChoice: ExpressibleByArgument {}
extension ONIONFilter.Scale: ExpressibleByArgument {}
extension FilterCommand: UsesComputeThreads { var computeThreads: Int { threads } }
