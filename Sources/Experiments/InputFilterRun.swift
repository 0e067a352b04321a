import Attacks
import Audit
import Foundation
import Models
import Tokenization

/// An input filter on a scored bundle, whichever the method: input scores, the threshold calibrated on the clean dev
/// split for a false-rejection rate, which scores are flagged, and (ONION) the inputs with suspicious words removed.
public struct InputFilterRun {
  public enum Method: String, CaseIterable, Sendable { case strip, onion, rap }

  public let method: Method
  public let falseRejectionRate: Double
  let scored: ScoredBundle
  let scoreInputs: ([String]) -> [Double]
  let calibrateOn: ([Double]) -> Double
  let flagsScore: (_ score: Double, _ threshold: Double) -> Bool
  let cleanInputs: (([String], Double) -> [String])?
  /// RAP: its word and protected label, for the description.
  var describeWord = ""
  /// ONION: the share of the dev split's words its language model knows.
  var languageModelCoverage: Double?
  /// ONION with a WordPiece language model: the share of the dev split's words that are one piece of its vocabulary.
  var languageModelWholeWords: Double?
  /// STRIP: what its score measures.
  var stripScore: STRIPFilter.Score?
  /// ONION: what a word's suspicion subtracts.
  var onionScale: ONIONFilter.Scale?
  /// ONION: whether the language model's bundle has the words its vocabulary left out, to spell unknown words with.
  var onionSpellsUnknownWords = false
  /// ONION: how the threshold above which words are removed is chosen, and the inputs' word suspicions.
  var onionRemoval: ONIONFilter.Removal?
  var wordSuspicions: (([String]) -> [[Double]])?

  /// STRIP (Gao et al. 2019): perturbed copies of each input made with words of `donors` (encoded clean sentences).
  public static func strip(_ strip: STRIPFilter, on scored: ScoredBundle, donors: [[Int]], falseRejectionRate: Double) -> InputFilterRun {
    var strip = strip
    strip.maximumLength = scored.bundle.config.maximumLength
    strip.unknownID = scored.encoder.vocabulary.unknownID
    var run = InputFilterRun(
      method: .strip, falseRejectionRate: falseRejectionRate, scored: scored,
      scoreInputs: { strip.scores(scored.classifier, inputs: $0.map(scored.encoder.encode), donors: donors) },
      calibrateOn: { STRIPFilter.threshold(cleanScores: $0.filter(\.isFinite), falseRejectionRate: falseRejectionRate) }, flagsScore: { $0 < $1 },
      cleanInputs: nil)
    run.stripScore = strip.score
    return run
  }

  /// ONION (Qi et al. 2021) with the next-word model bundle at `languageModelPath`.
  /// Words are removed above the threshold `removal` chooses (by default Qi et al.'s: as low as keeps the clean dev
  /// accuracy within 2 points).
  public static func onion(
    languageModelPath: String, scale: ONIONFilter.Scale = .nats, removal: ONIONFilter.Removal = .accuracyDrop(0.02),
    on scored: ScoredBundle, falseRejectionRate: Double
  ) throws -> InputFilterRun {
    let loaded = try ModelBundle.load(from: languageModelPath)
    guard case .languageModel(let model) = loaded.model else {
      throw ScoredBundleError("\(languageModelPath): a classifier; --lm needs a next-word model (train-lm)")
    }
    let encoder = try loaded.makeEncoder()
    let spelling = try LanguageModelRecipe.spellingModel(inBundle: languageModelPath)
    let onion = try ONIONFilter(languageModel: model, encoder: encoder, scale: scale, spelling: spelling)
    let words = { (texts: [String]) in texts.map { Array(onion.words(in: $0).prefix(scored.bundle.config.maximumLength)) } }
    // A language model of another language (or another corpus's words) would call every word an outlier.
    let coverage = onion.coverage(of: words(scored.split.dev.map { scored.corpus.examples[$0].text }))
    guard coverage.known > 0 else {
      throw ScoredBundleError(
        "\(languageModelPath): the language model knows none of the words of \(scored.corpus.path)'s dev split; ONION needs a next-word model of the same language (train-lm on a corpus like the classifier's)")
    }
    var run = InputFilterRun(
      method: .onion, falseRejectionRate: falseRejectionRate, scored: scored, scoreInputs: { onion.scores(words($0)) },
      calibrateOn: { ONIONFilter.threshold(cleanScores: $0.filter(\.isFinite), falseRejectionRate: falseRejectionRate) }, flagsScore: { $0 > $1 },
      cleanInputs: { texts, threshold in
        let split = words(texts)
        return zip(split, onion.suspicions(split)).map { onion.cleaned($0, suspicions: $1, threshold: threshold).joined(separator: " ") }
      })
    run.languageModelCoverage = coverage.known
    run.languageModelWholeWords = onion.readsPieces ? coverage.whole : nil
    run.onionScale = scale
    run.onionSpellsUnknownWords = spelling != nil
    run.onionRemoval = removal
    run.wordSuspicions = { onion.suspicions(words($0)) }
    return run
  }

  /// RAP (Yang et al. 2021): `word`'s embedding row trained on the clean dev inputs of `protectedLabel`, then inputs
  /// the model gives that label flagged when the word barely lowers its probability. Other inputs score +∞ (kept).
  public static func rap(
    word: String, protectedLabel: String, dropRange: ClosedRange<Double>? = nil, on scored: ScoredBundle, falseRejectionRate: Double
  ) throws -> InputFilterRun {
    let vocabulary = scored.bundle.vocabulary
    guard vocabulary.contains(word), !Vocabulary.specialTokens.contains(word) else {
      throw ScoredBundleError("--rap-word '\(word)' is not a word of \(scored.path)'s vocabulary; RAP trains the embedding of a word the model has")
    }
    guard let label = scored.labels.firstIndex(of: protectedLabel) else {
      throw ScoredBundleError("--protect '\(protectedLabel)' is not one of the model's labels (\(scored.labels.joined(separator: ", ")))")
    }
    var rap = RAPFilter(word: vocabulary.id(of: word), protectedLabel: label)
    rap.maximumLength = scored.bundle.config.maximumLength
    if let dropRange { rap.dropRange = dropRange }
    let clean = scored.split.dev.compactMap { index -> [Int]? in
      let example = scored.corpus.examples[index]
      return example.label.map { scored.corpus.labels[$0] } == protectedLabel ? scored.encoder.encode(example.text) : nil
    }
    guard !clean.isEmpty else { throw ScoredBundleError("\(scored.corpus.path): no clean dev input labelled '\(protectedLabel)' to train RAP's word on") }
    let model = rap.trained(scored.classifier, clean: clean)
    return InputFilterRun(
      method: .rap, falseRejectionRate: falseRejectionRate, scored: scored,
      scoreInputs: { rap.drops(model, inputs: $0.map(scored.encoder.encode)).map { $0 ?? .infinity } },
      calibrateOn: { RAPFilter.threshold(cleanDrops: $0.map { $0.isFinite ? $0 : nil }, falseRejectionRate: falseRejectionRate) }, flagsScore: { $0 < $1 },
      cleanInputs: nil, describeWord: "'\(word)' for \(protectedLabel)")
  }

  /// The threshold that flags `falseRejectionRate` of the clean dev inputs the filter scores (RAP scores only those
  /// the model gives the protected label, the only ones it can flag, and flags that share of all of them), and how
  /// many it scored.
  public func calibrate() throws -> (threshold: Double, cleanInputs: Int) {
    let dev = scored.split.dev.map { scored.corpus.examples[$0].text }
    guard !dev.isEmpty else { throw ScoredBundleError("\(scored.corpus.path): the dev split is empty; nothing to calibrate on") }
    let scores = scoreInputs(dev)
    let scoredCount = scores.count(where: \.isFinite)
    guard scoredCount > 0 else { throw ScoredBundleError("\(scored.corpus.path): no dev input the filter can score; nothing to calibrate on") }
    return (calibrateOn(scores), scoredCount)
  }

  /// ONION: the threshold above which words are removed, chosen on the clean dev split by `onionRemoval`, with the
  /// dev accuracy before and after removing them (nil for the other filters, which remove nothing).
  public func calibrateRemoval(flaggingThreshold: Double) -> WordRemovalCalibration? {
    guard let removal = onionRemoval, let cleanInputs, let wordSuspicions else { return nil }
    let dev = scored.split.dev.compactMap { index -> (text: String, label: String)? in
      let example = scored.corpus.examples[index]
      return example.label.map { (example.text, scored.corpus.labels[$0]) }
    }
    let classifier = scored.classifier, encoder = scored.encoder
    func accuracy(_ threshold: Double) -> Double {
      let texts = threshold == .infinity ? dev.map(\.text) : cleanInputs(dev.map(\.text), threshold)
      let classes = classifier.predict(texts.map { EncodedExample(ids: encoder.encode($0), label: 0) }).classes
      return Double(zip(classes, dev).count { classifier.labels[$0] == $1.label }) / Double(max(dev.count, 1))
    }
    let chosen: (threshold: Double, accuracyBefore: Double, accuracyAfter: Double)
    switch removal {
    case .accuracyDrop(let maximumDrop):
      chosen = ONIONFilter.removalThreshold(cleanSuspicions: wordSuspicions(dev.map(\.text)), maximumDrop: maximumDrop, accuracy: accuracy)
    case .flaggingThreshold:
      chosen = (flaggingThreshold, accuracy(.infinity), accuracy(flaggingThreshold))
    }
    return WordRemovalCalibration(
      threshold: chosen.threshold, rule: removal, devInputs: dev.count, devAccuracyBefore: chosen.accuracyBefore,
      devAccuracyAfter: chosen.accuracyAfter)
  }

  /// What ONION's suspicions measure, for the printed thresholds.
  public var onionUnit: String {
    [.perplexity: "of perplexity drop", .logPerplexity: "nats of log-perplexity drop"][onionScale ?? .nats] ?? "nats of negative log-likelihood drop"
  }

  /// One line: the threshold, which side is flagged, and what it was calibrated on.
  public func describe(threshold: Double, cleanInputs: Int) -> String {
    switch method {
    case .strip:
      String(
        format: "STRIP threshold %.4f %@ (flagged below; %.0f %% of %d clean dev inputs are)", threshold,
        stripScore == .entropy ? "nats of mean entropy" : "mean probability of leaving the input's label", falseRejectionRate * 100, cleanInputs)
    case .onion:
      String(
        format: "ONION threshold %.3f %@ (flagged above; %.0f %% of %d clean dev inputs are); %@",
        threshold, onionUnit, falseRejectionRate * 100, cleanInputs, describeLanguageModelCoverage)
    case .rap:
      String(
        format: "RAP threshold %.4f: the drop in probability %@ inserts (flagged below; %.0f %% of the %d clean dev inputs are, all among the %d given that label)",
        threshold, describeWord, falseRejectionRate * 100, scored.split.dev.count, cleanInputs)
    }
  }

  /// ONION: how much of the dev split the language model reads, and what becomes of the rest.
  var describeLanguageModelCoverage: String {
    let known = (languageModelCoverage ?? 0) * 100
    if let whole = languageModelWholeWords {
      return String(format: "the WordPiece language model spells %.1f %% of the dev words in its pieces (%.1f %% are one piece)", known, whole * 100)
    }
    return String(format: "the language model knows %.1f %% of the dev words", known)
      + (onionSpellsUnknownWords ? " and spells out the others" : " (its bundle has no \(LanguageModelRecipe.unknownWordsFile): every other word costs what <unk> does)")
  }

  /// Each input as `flagged` or `kept`, its score and its text (ONION: the text with the words above `removal`'s
  /// threshold removed, or above the flagging threshold without one), tab-separated.
  /// An empty input, or one with no word of the model's vocabulary, is not scored (nothing of it reaches the model but
  /// unknown tokens): its line says `unscored` and why. One line per input, in order.
  public func screen(_ inputs: [String], threshold: Double, removal: WordRemovalCalibration? = nil) -> [String] {
    let known = inputs.map { text in scored.encoder.encode(text).contains { $0 != scored.encoder.vocabulary.unknownID } }
    let scorable = zip(inputs, known).filter(\.1).map(\.0)
    var scores = scoreInputs(scorable)[...], shown = (cleanInputs?(scorable, removal?.threshold ?? threshold) ?? scorable)[...]
    return zip(inputs, known).map { text, isKnown in
      guard isKnown else {
        let why = text.allSatisfy(\.isWhitespace) ? "empty input" : "no word of the model's vocabulary"
        return "unscored\t–\t\(text)\t(\(why))"
      }
      let score = scores.removeFirst(), line = shown.removeFirst()
      return "\(flagsScore(score, threshold) ? "flagged" : "kept")\t\(score.isFinite ? String(format: "%.4f", score) : "–")\t\(line)"
    }
  }

  /// The filter at `threshold` on the test split with `attack`'s trigger inserted: clean inputs rejected, triggered
  /// inputs caught, precision, attack success and clean accuracy with flagged inputs rejected, and (ONION) after
  /// cleaning instead, the words above `removal`'s threshold removed (above the flagging threshold without one).
  public func evaluate(threshold: Double, removal: WordRemovalCalibration? = nil, attack: (trigger: Trigger, target: String)?) -> InputFilterOutcome {
    var outcome = InputFilterOutcome(method: method.rawValue, threshold: threshold, falseRejectionRateTarget: falseRejectionRate)
    outcome.languageModelCoverage = languageModelCoverage
    outcome.languageModelWholeWords = languageModelWholeWords
    outcome.removalThreshold = removal?.threshold
    outcome.devAccuracyBeforeRemoval = removal?.devAccuracyBefore
    outcome.devAccuracyAfterRemoval = removal?.devAccuracyAfter
    let removalThreshold = removal?.threshold ?? threshold
    guard let attack else { return outcome }
    let testSet = scored.testSet(attack)
    let clean = scoreInputs(testSet.clean.map(\.text)), triggered = scoreInputs(testSet.triggered.map(\.text))
    let rejected = clean.count { flagsScore($0, threshold) }, caught = triggered.count { flagsScore($0, threshold) }
    outcome.evaluationTrigger = attack.trigger.spec
    outcome.cleanInputs = clean.count
    outcome.triggeredInputs = triggered.count
    outcome.cleanRejected = Double(rejected) / Double(max(clean.count, 1))
    outcome.triggeredRecall = Double(caught) / Double(max(triggered.count, 1))
    outcome.precision = rejected + caught == 0 ? nil : Double(caught) / Double(rejected + caught)
    if let target = scored.classifier.labels.firstIndex(of: attack.target) {
      let classifier = scored.classifier, encoder = scored.encoder, unanswered = -1
      func classes(_ texts: [String]) -> [Int] { classifier.predict(texts.map { EncodedExample(ids: encoder.encode($0), label: 0) }).classes }
      func attackSuccess(_ classes: [Int]) -> Double { Double(classes.count { $0 == target }) / Double(max(classes.count, 1)) }
      func accuracy(_ classes: [Int]) -> Double {
        Double(zip(classes, testSet.clean).count { $0 != unanswered && classifier.labels[$0] == $1.label }) / Double(max(classes.count, 1))
      }
      let triggeredClasses = classes(testSet.triggered.map(\.text)), cleanClasses = classes(testSet.clean.map(\.text))
      outcome.attackSuccessBefore = attackSuccess(triggeredClasses)
      outcome.cleanAccuracyBefore = accuracy(cleanClasses)
      // Flagged inputs turned away: a triggered input succeeds only if kept and given the target; a clean input counts
      // as correct only if kept and labelled right (a rejected clean input is a service lost).
      outcome.attackSuccessAfterRejection = attackSuccess(zip(triggered, triggeredClasses).map { flagsScore($0, threshold) ? unanswered : $1 })
      outcome.cleanAccuracyAfterRejection = accuracy(zip(clean, cleanClasses).map { flagsScore($0, threshold) ? unanswered : $1 })
      if let cleanInputs {
        outcome.attackSuccessAfterCleaning = attackSuccess(classes(cleanInputs(testSet.triggered.map(\.text), removalThreshold)))
        outcome.cleanAccuracyAfterCleaning = accuracy(classes(cleanInputs(testSet.clean.map(\.text), removalThreshold)))
        if let wordSuspicions {
          let clean = wordSuspicions(testSet.clean.map(\.text)).joined()
          outcome.cleanWordsRemoved = Double(clean.count { $0 > removalThreshold }) / Double(max(clean.count, 1))
        }
      }
    }
    return outcome
  }
}

/// What `filter --json` prints: the calibration and, with a known trigger, the filter's scores on the test split.
public struct InputFilterOutcome: Codable, Sendable {
  public var method: String
  public var threshold: Double
  public var falseRejectionRateTarget: Double
  public var evaluationTrigger: String?
  public var cleanRejected: Double?
  public var triggeredRecall: Double?
  public var precision: Double?
  public var cleanInputs: Int?
  public var triggeredInputs: Int?
  /// With flagged inputs rejected: triggered inputs kept and given the target, clean inputs kept and labelled right,
  /// each over all such inputs.
  public var attackSuccessAfterRejection: Double?
  public var cleanAccuracyAfterRejection: Double?
  /// ONION: the attack success rate and clean accuracy on the cleaned inputs, and before cleaning.
  public var attackSuccessAfterCleaning: Double?
  public var attackSuccessBefore: Double?
  public var cleanAccuracyAfterCleaning: Double?
  public var cleanAccuracyBefore: Double?
  /// ONION: the share of the dev split's words the language model reads without `<unk>`.
  public var languageModelCoverage: Double?
  /// ONION with a WordPiece language model: the share of the dev split's words that are one piece of its vocabulary.
  public var languageModelWholeWords: Double?
  /// ONION: the suspicion above which words are removed, the clean dev accuracy it was chosen by (before and after
  /// removing), and the share of the clean test inputs' words it removes.
  public var removalThreshold: Double?
  public var devAccuracyBeforeRemoval: Double?
  public var devAccuracyAfterRemoval: Double?
  public var cleanWordsRemoved: Double?
  enum CodingKeys: String, CodingKey {
    case method, threshold, falseRejectionRateTarget = "false_rejection_rate_target", evaluationTrigger = "evaluation_trigger"
    case cleanRejected = "clean_rejected", triggeredRecall = "triggered_recall", precision, cleanInputs = "clean_inputs", triggeredInputs = "triggered_inputs"
    case attackSuccessAfterCleaning = "asr_after_cleaning", attackSuccessBefore = "asr_before", cleanAccuracyAfterCleaning = "clean_accuracy_after_cleaning"
    case cleanAccuracyBefore = "clean_accuracy_before", languageModelCoverage = "language_model_coverage"
    case languageModelWholeWords = "language_model_whole_words"
    case attackSuccessAfterRejection = "asr_after_rejection", cleanAccuracyAfterRejection = "clean_accuracy_after_rejection"
    case removalThreshold = "removal_threshold", devAccuracyBeforeRemoval = "dev_accuracy_before_removal"
    case devAccuracyAfterRemoval = "dev_accuracy_after_removal", cleanWordsRemoved = "clean_words_removed"
  }

  /// The scores on the test split in a line or two (empty without a known trigger).
  public var lines: [String] {
    var lines: [String] = []
    if let rejected = cleanRejected, let recall = triggeredRecall, let trigger = evaluationTrigger {
      lines.append(String(
        format: "on the test split with %@: clean inputs rejected %.1f %% of %d; triggered inputs caught %.1f %% of %d; precision %@",
        trigger, rejected * 100, cleanInputs ?? 0, recall * 100, triggeredInputs ?? 0, precision.map { String(format: "%.1f %%", $0 * 100) } ?? "–"))
    }
    if let before = attackSuccessBefore, let after = attackSuccessAfterRejection, let accuracyBefore = cleanAccuracyBefore,
      let accuracyAfter = cleanAccuracyAfterRejection
    {
      lines.append(String(
        format: "with flagged inputs rejected: attack success %.1f %% → %.1f %%, clean accuracy %.1f %% → %.1f %% (a rejected clean input counts as wrong)",
        before * 100, after * 100, accuracyBefore * 100, accuracyAfter * 100))
    }
    if let before = attackSuccessBefore, let after = attackSuccessAfterCleaning, let accuracyBefore = cleanAccuracyBefore,
      let accuracyAfter = cleanAccuracyAfterCleaning
    {
      lines.append(String(
        format: "after removing the words above the removal threshold (%.1f %% of the clean inputs' words): attack success %.1f %% → %.1f %%, clean accuracy %.1f %% → %.1f %%",
        (cleanWordsRemoved ?? 0) * 100, before * 100, after * 100, accuracyBefore * 100, accuracyAfter * 100))
    }
    return lines
  }
}
