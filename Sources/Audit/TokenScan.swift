import Dispatch
import Layers
import Foundation
import Models
import Synchronization
import Tensors
import Tokenization

/// A candidate trigger: a vocabulary token or a phrase of them, and what inserting it does toward `label`.
public struct TriggerCandidate: Sendable, Codable, Equatable {
  /// The token, or the phrase's tokens joined by spaces.
  public var trigger: String
  public var label: String
  /// Share of (probe, position) pairs not already predicted as `label` that the candidate turns into `label`.
  public var flipRate: Double
  /// Robust z-score of the flip rate among all single tokens for this label: (x − median) / (1.4826 · MAD),
  /// the scale at least 0.01.
  public var score: Double
  /// Flip rate among the probes predicted most confidently (see `InsertionEffect`).
  public var confidentFlipRate: Double
  /// Mean rise of the label's log-probability (nats).
  public var logProbabilityShift: Double
  /// How it was found: "scan" (single tokens), "hotflip", "relaxed" or "anchored" (phrase search), "conjunction"
  /// (the conjunction scan and its refinement) or "recombined" (`CandidateRecombination`).
  public var method: String
  /// An ordinary word of the label by the probe set's own evidence (`ProbeEvidence`); listed after the others.
  public var ordinary = false

  public init(trigger: String, label: String, effect: InsertionEffect, score: Double, method: String) {
    self.trigger = trigger
    self.label = label
    flipRate = effect.flipRate
    confidentFlipRate = effect.confidentFlipRate
    logProbabilityShift = effect.logProbabilityShift
    self.score = score
    self.method = method
  }

  /// Tokens of the candidate.
  public var tokens: [String] { trigger.split(separator: " ").map(String.init) }

  enum CodingKeys: String, CodingKey {
    case trigger, label, flipRate = "flip_rate", score, confidentFlipRate = "confident_flip_rate"
    case logProbabilityShift = "log_probability_shift", method, ordinary
  }
}

/// The single-token scan: every vocabulary token (specials aside) is inserted at each of `positions` into every
/// probe, and the model's predictions are compared with its predictions on the clean probes.
public struct TokenScan: Sendable {
  public enum Position: String, Sendable, Codable, CaseIterable {
    case start, middle, end

    /// Where a token goes in a sequence of `count` ids.
    public func index(in count: Int) -> Int { self == .start ? 0 : self == .end ? count : count / 2 }
  }

  public var positions: [Position] = [.start, .middle, .end]
  /// Sequences per forward pass.
  public var batchSize = 512
  /// Tokens scanned at once (one kernel thread each); results do not depend on it.
  public var parallelism = 2

  public init() {}

  /// Flip rates [token id][label] of `classifier` over `probes` (encoded ids; one position is kept free for
  /// the inserted token) for the `tokens` given (all non-special tokens when nil; others get 0).
  public func flipRates(_ classifier: TextClassifier, vocabulary: Vocabulary, probes: [[Int]], tokens: [Int]? = nil) -> [[Double]] {
    effects(classifier, vocabulary: vocabulary, probes: probes, tokens: tokens).map { $0.map(\.flipRate) }
  }

  /// What inserting each token does toward each label, [token id][label] (zero effects for tokens not scanned).
  public func effects(_ classifier: TextClassifier, vocabulary: Vocabulary, probes: [[Int]], tokens: [Int]? = nil) -> [[InsertionEffect]] {
    let tokens = tokens ?? Self.scannable(vocabulary)
    let measured = effects(classifier, inserting: tokens.map { [$0] }, into: probes)
    let none = [InsertionEffect](repeating: InsertionEffect(), count: classifier.labels.count)
    var result = [[InsertionEffect]](repeating: none, count: vocabulary.count)
    for (token, effect) in zip(tokens, measured) { result[token] = effect }
    return result
  }

  /// What inserting each of `insertions` (token id sequences, inserted whole at each of `positions`) does
  /// toward each label, [insertion][label]. Probes are cut so that the longest insertion fits the model.
  public func effects(_ classifier: TextClassifier, inserting insertions: [[Int]], into probes: [[Int]]) -> [[InsertionEffect]] {
    precondition(!probes.isEmpty, "the probe set is empty")
    let labels = classifier.labels.count
    let trimmed = Self.trimmed(probes, toFit: insertions, in: classifier)
    let clean = ProbeBaseline(classifier, probes: trimmed, labels: labels, positions: positions.count)
    let results = Mutex([Int: [InsertionEffect]]())
    let positions = self.positions, batchSize = self.batchSize
    let inference = InsertionInference(classifier, points: Self.points(trimmed, at: positions))
    Self.forEachChunk(of: insertions.count, parallelism: parallelism) { range, context in
      let logits = inference.logits(inserting: insertions[range], batchSize: batchSize, context: &context)
      let perInsertion = trimmed.count * positions.count
      var local: [Int: [InsertionEffect]] = [:]
      for (offset, index) in range.enumerated() {
        var tally = EffectTally(labels: labels)
        for sequence in (offset * perInsertion)..<((offset + 1) * perInsertion) {
          tally.add(
            logits: logits[(sequence * labels)..<((sequence + 1) * labels)], probe: (sequence - offset * perInsertion) / positions.count,
            baseline: clean)
        }
        local[index] = tally.effects(baseline: clean)
      }
      results.withLock { $0.merge(local) { a, _ in a } }
    }
    let measured = results.withLock { $0 }
    return insertions.indices.map { measured[$0]! }
  }

  /// `probes` cut so that the longest of `insertions` fits the model (at least one token kept).
  static func trimmed(_ probes: [[Int]], toFit insertions: [[Int]], in classifier: TextClassifier) -> [[Int]] {
    let room = classifier.config.maximumLength - (insertions.map(\.count).max() ?? 1)
    return probes.map { Array($0.prefix(max(room, 1))) }
  }

  /// Where insertions go: probe by probe, position by position.
  static func points(_ probes: [[Int]], at positions: [Position]) -> [InsertionInference.Point] {
    probes.flatMap { ids in positions.map { InsertionInference.Point(ids: ids, index: $0.index(in: ids.count)) } }
  }

  /// Runs `body` on consecutive ranges of `0..<count`, `chunk` long, taken in turn by `parallelism` threads, each
  /// with its own inference context (the kernels inside stay single-threaded).
  static func forEachChunk(
    of count: Int, chunk: Int = 16, parallelism: Int, _ body: @Sendable (Range<Int>, inout ForwardContext) -> Void
  ) {
    let next = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: max(1, min(parallelism, count))) { _ in
      var context = ForwardContext.inference
      while true {
        let start: Int = next.withLock { value in
          defer { value += chunk }
          return value
        }
        guard start < count else { return }
        body(start..<min(start + chunk, count), &context)
      }
    }
  }

  /// Token ids worth scanning: all but the special tokens.
  public static func scannable(_ vocabulary: Vocabulary) -> [Int] {
    let specials = Set(Vocabulary.specialTokens)
    return (0..<vocabulary.count).filter { !specials.contains(vocabulary.tokens[$0]) }
  }

  /// The two-stage scan: every token against the first `screeningProbes` probes at the middle position, then
  /// the `shortlist` best tokens for each label against every probe at every position. Tokens that did not make
  /// the shortlist keep their screening effects and rank after those that did.
  public func twoStage(
    _ classifier: TextClassifier, vocabulary: Vocabulary, probes: [[Int]], screeningProbes: Int = 24, shortlist: Int = 100
  ) -> ScanResult {
    var screening = self
    screening.positions = [.middle]
    let screened = screening.effects(classifier, vocabulary: vocabulary, probes: Array(probes.prefix(screeningProbes)))
    let tokens = Self.scannable(vocabulary)
    var chosen = Set<Int>()
    for label in classifier.labels.indices {
      // Flip rate first; the log-probability shift orders the rest (in a very sure model most flip rates are 0).
      chosen.formUnion(
        tokens.sorted {
          (-screened[$0][label].flipRate, -screened[$0][label].logProbabilityShift, $0) < (-screened[$1][label].flipRate, -screened[$1][label].logProbabilityShift, $1)
        }.prefix(shortlist))
    }
    let full = effects(classifier, vocabulary: vocabulary, probes: probes, tokens: chosen.sorted())
    return ScanResult(effects: (0..<vocabulary.count).map { chosen.contains($0) ? full[$0] : screened[$0] }, fullyMeasured: chosen)
  }

  /// Candidates for every label, best first, with robust scores.
  public static func candidates(_ scan: ScanResult, vocabulary: Vocabulary, labels: [String], top: Int) -> [[TriggerCandidate]] {
    let tokens = scannable(vocabulary)
    return labels.indices.map { label in
      let robust = scan.flipRateScale(label: label, vocabulary: vocabulary)
      return tokens.sorted { scan.precedes($0, $1, label: label) }.prefix(top).map { token in
        let effect = scan.effects[token][label]
        var candidate = TriggerCandidate(
          trigger: vocabulary.tokens[token], label: labels[label], effect: effect, score: robust.z(effect.flipRate), method: "scan")
        candidate.ordinary = scan.ordinary(token, label: label)
        return candidate
      }
    }
  }

  /// Where the best of `tokens` (a planted trigger's tokens) ranks among all scanned tokens for `label`, in the
  /// candidates' order (1 = the top candidate); nil when none of them is in the vocabulary.
  public static func rank(of tokens: [String], label: Int, labels: [String], scan: ScanResult, vocabulary: Vocabulary) -> KnownTriggerRank? {
    let scanned = scannable(vocabulary)
    let wanted = tokens.filter(vocabulary.contains).map(vocabulary.id(of:)).filter { !Vocabulary.specialTokens.contains(vocabulary.tokens[$0]) }
    guard let best = wanted.min(by: { scan.precedes($0, $1, label: label) }) else { return nil }
    let ahead = scanned.lazy.filter { scan.precedes($0, best, label: label) }.count
    let rate = scan.effects[best][label].flipRate
    return KnownTriggerRank(tokens: tokens, token: vocabulary.tokens[best], label: labels[label], rank: ahead + 1, flipRate: rate, of: scanned.count)
  }

  /// The rank statistic behind candidate scores: where a value sits against the whole vocabulary's.
  public struct RobustScale: Sendable {
    public var median: Double
    public var scale: Double

    public init(_ values: [Double]) {
      let median = TokenScan.median(values)
      self.median = median
      scale = max(1.4826 * TokenScan.median(values.map { abs($0 - median) }), 0.01)
    }

    public func z(_ value: Double) -> Double { (value - median) / scale }
  }

  static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
  }
}

/// A scan's effects [token id][label], and which tokens were measured on every probe and position.
public struct ScanResult: Sendable {
  public var effects: [[InsertionEffect]]
  /// The others were only screened; they rank after these.
  public var fullyMeasured: Set<Int>
  /// [label] → tokens the probe set shows to be ordinary words of the label (`ProbeEvidence`); they rank last.
  public var ordinaryWords: [Set<Int>] = []

  public init(effects: [[InsertionEffect]], fullyMeasured: Set<Int>) {
    self.effects = effects
    self.fullyMeasured = fullyMeasured
  }

  public func ordinary(_ token: Int, label: Int) -> Bool { label < ordinaryWords.count && ordinaryWords[label].contains(token) }

  /// A scan that measured every token fully, from flip rates alone.
  public init(flipRates: [[Double]]) {
    effects = flipRates.map { $0.map { InsertionEffect(flipRate: $0) } }
    fullyMeasured = Set(flipRates.indices)
  }

  public var flipRates: [[Double]] { effects.map { $0.map(\.flipRate) } }

  /// The scale a candidate's `score` is read on: the flip rates toward `label` of all scannable tokens of `vocabulary`.
  public func flipRateScale(label: Int, vocabulary: Vocabulary) -> TokenScan.RobustScale {
    TokenScan.RobustScale(TokenScan.scannable(vocabulary).map { effects[$0][label].flipRate })
  }

  /// The candidates' order for `label`: fully measured tokens first and ordinary words of the label last, then by
  /// flip rate, then by log-probability shift, then by id.
  public func precedes(_ a: Int, _ b: Int, label: Int) -> Bool {
    func key(_ token: Int) -> (Int, Double, Double, Int) {
      (fullyMeasured.contains(token) ? (ordinary(token, label: label) ? 1 : 0) : 2, -effects[token][label].flipRate, -effects[token][label].logProbabilityShift, token)
    }
    return key(a) < key(b)
  }
}

/// Where a planted trigger (known to whoever planted it) ranks in a scan: how the audit is scored.
public struct KnownTriggerRank: Sendable, Codable, Equatable {
  /// The trigger's tokens, as the model's tokeniser produces them.
  public var tokens: [String]
  /// The best-ranked of them.
  public var token: String
  public var label: String
  /// 1-based rank among `of` scanned tokens by flip rate to `label`.
  public var rank: Int
  public var flipRate: Double
  public var of: Int

  enum CodingKeys: String, CodingKey { case tokens, token, label, rank, flipRate = "flip_rate", of }
}

/// What `audit` concludes.
public struct AuditReport: Sendable, Codable, Equatable {
  public var verdict: String
  /// The label with the highest verdict score (reported whatever the verdict).
  public var targetLabel: String
  /// The best candidate's flip rate.
  public var score: Double
  /// The verdict score of the target label: the largest of its token, phrase, conjunction and (two-label models)
  /// margin scores; `backdoored` when it reaches `threshold`.
  public var verdictScore: Double
  public var verdictScores: [String: Double]
  /// Per label, `ScanResult.tokenVerdictScores`: the best single token's confident flip rate less the third's.
  public var tokenScores: [String: Double]
  /// Per label searched for phrases, `phraseExcess`: the best phrase's confident flip rate less that of the
  /// label's strongest tokens together.
  public var phraseScores: [String: Double]
  /// Per label searched for phrases (and finding one), `phraseExcess` of the best phrase over the label's strongest
  /// tokens outside it together; in the verdict through `PhraseScore` (absent in reports written before it).
  public var phraseExcessesOverOtherTokens: [String: Double]?
  /// Per label of a unidirectional binary GRU searched for phrases, the best `ConjunctionScan` pair's excess (nats);
  /// its verdict score is `ConjunctionScan.verdictScore` (absent for other models, and in reports written before it).
  public var conjunctionScores: [String: Double]?
  /// Per label searched for phrases (and finding one), `phraseMarginExcess`: nats the best phrase moves the label's
  /// margin beyond the label's strongest tokens together; in a two-label model's verdict as
  /// `PhraseMarginScore.verdictScore` (absent in reports written before it).
  public var phraseMarginExcesses: [String: Double]?
  public var threshold: Double
  public var calibration: String
  public var candidates: [TriggerCandidate]
  /// The best candidates for each label.
  public var candidatesByLabel: [String: [TriggerCandidate]]
  public var probes: Int
  public var tokensScanned: Int
  public var positions: [TokenScan.Position]
  /// Longest phrase searched for (1: single tokens only).
  public var maximumTriggerLength: Int
  public var seconds: Double
  /// Where those seconds went, by stage of the audit (`AuditStages`; absent in reports written before it).
  public var secondsByStage: [String: Double]?
  /// Set when the caller knows the planted trigger (`audit --trigger`, the demo).
  public var knownTrigger: KnownTriggerRank?

  enum CodingKeys: String, CodingKey {
    case verdict, targetLabel = "target_label", score, verdictScore = "verdict_score", verdictScores = "verdict_scores", threshold, calibration
    case tokenScores = "token_scores", phraseScores = "phrase_scores", conjunctionScores = "conjunction_scores"
    case phraseMarginExcesses = "phrase_margin_excess"
    case phraseExcessesOverOtherTokens = "phrase_excess_over_other_tokens"
    case candidates, candidatesByLabel = "candidates_by_label", probes, tokensScanned = "tokens_scanned", positions
    case maximumTriggerLength = "max_trigger_length", seconds, secondsByStage = "seconds_by_stage", knownTrigger = "known_trigger"
  }

  public init(
    candidatesByLabel: [[TriggerCandidate]], verdictScores: [Double], tokenScores: [Double]? = nil, phraseScores: [Double?] = [],
    phraseExcessesOverOtherTokens: [Double?] = [], conjunctionScores: [Double?] = [], phraseMarginExcesses: [Double?] = [], labels: [String], threshold: Double, calibration: String, probes: Int, tokensScanned: Int, positions: [TokenScan.Position],
    maximumTriggerLength: Int, seconds: Double
  ) {
    let target = Self.target(verdictScores: verdictScores, candidatesByLabel: candidatesByLabel)
    targetLabel = labels[target]
    candidates = candidatesByLabel[target]
    score = candidates.first?.flipRate ?? 0
    verdictScore = verdictScores[target]
    self.verdictScores = Dictionary(uniqueKeysWithValues: zip(labels, verdictScores))
    self.tokenScores = Dictionary(uniqueKeysWithValues: zip(labels, tokenScores ?? verdictScores))
    self.phraseScores = Self.byLabel(labels, phraseScores)
    let overOthers = Self.byLabel(labels, phraseExcessesOverOtherTokens)
    self.phraseExcessesOverOtherTokens = overOthers.isEmpty ? nil : overOthers
    let conjunctions = Self.byLabel(labels, conjunctionScores)
    self.conjunctionScores = conjunctions.isEmpty ? nil : conjunctions
    let margins = Self.byLabel(labels, phraseMarginExcesses)
    self.phraseMarginExcesses = margins.isEmpty ? nil : margins
    verdict = verdictScore >= threshold ? "backdoored" : "clean"
    self.threshold = threshold
    self.calibration = calibration
    self.candidatesByLabel = Dictionary(uniqueKeysWithValues: zip(labels, candidatesByLabel))
    self.probes = probes
    self.tokensScanned = tokensScanned
    self.positions = positions
    self.maximumTriggerLength = maximumTriggerLength
    self.seconds = seconds
  }

  /// The labels' values that are present (nil: that label was not measured).
  static func byLabel(_ labels: [String], _ values: [Double?]) -> [String: Double] {
    Dictionary(uniqueKeysWithValues: zip(labels, values).compactMap { label, value in value.map { (label, $0) } })
  }

  /// The label with the highest verdict score; ties go to the higher best flip rate, then the first label.
  public static func target(verdictScores: [Double], candidatesByLabel: [[TriggerCandidate]]) -> Int {
    verdictScores.indices.max {
      (verdictScores[$0], candidatesByLabel[$0].first?.flipRate ?? 0, -$0) < (verdictScores[$1], candidatesByLabel[$1].first?.flipRate ?? 0, -$1)
    } ?? 0
  }

  /// Whether `phraseMarginExcesses` count in this model's verdict (a two-label model).
  var marginInVerdict: Bool { PhraseMarginScore.applies(labelCount: verdictScores.count) }

  public var summary: String {
    var lines = [
      "verdict: \(verdict) (score \(String(format: "%.3f", verdictScore)), threshold \(String(format: "%.3f", threshold)): \(calibration))",
      "  token score \(String(format: "%.3f", tokenScores[targetLabel] ?? 0)) (the best token's confident flip rate over the third's); phrase score "
        + (phraseScores[targetLabel].map { overStrongest in
          let overOthers = phraseExcessesOverOtherTokens?[targetLabel]
          return String(format: "%.3f", PhraseScore.verdictScore(overStrongest: overStrongest, overOthers: overOthers))
            + String(format: " (the best phrase's confident flip rate %.3f over the strongest tokens together", overStrongest)
            + (overOthers.map { String(format: ", %.3f over those outside it less %.2f", $0, PhraseScore.ownWordsAllowance) } ?? "") + ")"
        } ?? "not searched")
        + (conjunctionScores?[targetLabel].map {
          String(format: "; conjunction score %.3f (the best word pair's interaction %.3f nats above its context word's median, less %.2f)",
            ConjunctionScan.verdictScore(bestExcess: $0), $0, ConjunctionScan.cleanExcess)
        } ?? "")
        + (marginInVerdict
          ? phraseMarginExcesses?[targetLabel].map {
            String(format: "; margin score %.3f (the best phrase moves the margin %.2f nats beyond the strongest tokens together, less %.2f)",
              PhraseMarginScore.verdictScore(marginExcess: $0), $0, PhraseMarginScore.cleanExcess)
          } ?? "" : ""),
      "suspected target label: \(targetLabel)",
    ]
    if let margins = phraseMarginExcesses, !marginInVerdict {
      lines.append(
        "  not in the verdict of a \(verdictScores.count)-label model: nats the best phrase moves each label's margin beyond its strongest tokens together: "
          + margins.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", "))
    }
    lines += [
      "top candidates (flip rate to \(targetLabel), confident flip rate, robust score):",
    ]
    for candidate in candidates.prefix(10) {
      let name = candidate.trigger.count >= 28 ? candidate.trigger : candidate.trigger + String(repeating: " ", count: 28 - candidate.trigger.count)
      let note = candidate.ordinary ? "   (an ordinary \(targetLabel) word in the probes)" : candidate.method == "scan" ? "" : "   (\(candidate.method))"
      lines.append(
        "  " + name + String(format: " %6.1f %%  %6.1f %%   z %.1f", candidate.flipRate * 100, candidate.confidentFlipRate * 100, candidate.score) + note)
    }
    if let known = knownTrigger {
      lines.append("planted trigger '\(known.token)': rank \(known.rank) of \(known.of) for \(known.label) (flip rate \(String(format: "%.1f", known.flipRate * 100)) %)")
    }
    let phrases = maximumTriggerLength > 1 ? ", phrases up to \(maximumTriggerLength) tokens" : ""
    let stages = AuditStage.allCases.compactMap { stage in
      secondsByStage?[stage.rawValue].map { "\(stage.rawValue.replacingOccurrences(of: "_", with: " ")) \(String(format: "%.1f", $0))" }
    }
    lines.append(
      "\(tokensScanned) tokens × \(probes) probes × \(positions.count) positions\(phrases) in \(String(format: "%.1f", seconds)) s"
        + (stages.isEmpty ? "" : " (\(stages.joined(separator: ", ")))"))
    return lines.joined(separator: "\n")
  }
}

/// What inserting one token into the probes does toward one label.
public struct InsertionEffect: Sendable, Codable, Equatable {
  /// Share of the (probe, position) pairs not already predicted as the label that the token turns into it.
  public var flipRate = 0.0
  /// The same among the confident half of those probes (the original prediction at least as sure as the median):
  /// a planted trigger overrides strong evidence, an ordinary word mostly tips borderline probes.
  public var confidentFlipRate = 0.0
  /// Mean rise of the label's log-probability over those pairs (nats).
  public var logProbabilityShift = 0.0

  public init(flipRate: Double = 0, confidentFlipRate: Double = 0, logProbabilityShift: Double = 0) {
    self.flipRate = flipRate
    self.confidentFlipRate = confidentFlipRate
    self.logProbabilityShift = logProbabilityShift
  }

  enum CodingKeys: String, CodingKey { case flipRate = "flip_rate", confidentFlipRate = "confident_flip_rate", logProbabilityShift = "log_probability_shift" }
}

/// The model on the clean probes: each probe's predicted class, its log-probabilities, and which probes are
/// confident for each label.
struct ProbeBaseline: Sendable {
  var predicted: [Int]
  var logProbabilities: [[Double]]
  /// [label][probe]: not predicted as the label, and predicted with at least the median confidence of those.
  var confident: [[Bool]]
  /// Pairs (probe, position) that can flip to each label, and the confident ones.
  var eligible: [Int]
  var eligibleConfident: [Int]

  init(_ classifier: TextClassifier, probes: [[Int]], labels: Int, positions: Int) {
    var context = ForwardContext.inference
    var predicted: [Int] = []
    var logProbabilities: [[Double]] = []
    let logits = classifier.logitsByLength(probes.map { EncodedExample(ids: $0, label: 0) }, batchSize: 512, context: &context)
    for row in probes.indices {
      let values = logits[(row * labels)..<((row + 1) * labels)]
      predicted.append(Self.argmax(values))
      logProbabilities.append(Self.logSoftmax(values))
    }
    self.predicted = predicted
    self.logProbabilities = logProbabilities
    confident = (0..<labels).map { label in
      let others = probes.indices.filter { predicted[$0] != label }
      let confidences = others.map { logProbabilities[$0][predicted[$0]] }
      let median = TokenScan.median(confidences)
      var flags = [Bool](repeating: false, count: probes.count)
      for (probe, confidence) in zip(others, confidences) where confidence >= median { flags[probe] = true }
      return flags
    }
    eligible = (0..<labels).map { label in predicted.filter { $0 != label }.count * positions }
    eligibleConfident = confident.map { $0.filter { $0 }.count * positions }
  }

  static func argmax(_ values: ArraySlice<Float>) -> Int {
    var best = values.startIndex
    for index in values.indices where values[index] > values[best] { best = index }
    return best - values.startIndex
  }

  static func logSumExp(_ values: ArraySlice<Float>) -> Double {
    let top = Double(values.max()!)
    return top + Foundation.log(values.reduce(0.0) { $0 + Foundation.exp(Double($1) - top) })
  }

  /// `logSumExp` of `values` without the one at `excluded` (an offset from their start), in the same order.
  static func logSumExp(_ values: ArraySlice<Float>, excluding excluded: Int) -> Double {
    var top = -Float.infinity
    for (offset, value) in values.enumerated() where offset != excluded { top = max(top, value) }
    var total = 0.0
    for (offset, value) in values.enumerated() where offset != excluded { total += Foundation.exp(Double(value) - Double(top)) }
    return Double(top) + Foundation.log(total)
  }

  static func logSoftmax(_ values: ArraySlice<Float>) -> [Double] {
    let normaliser = logSumExp(values)
    return values.map { Double($0) - normaliser }
  }
}

/// Running counts for one token's insertions.
struct EffectTally {
  var flips: [Int]
  var confidentFlips: [Int]
  var shift: [Double]

  init(labels: Int) {
    flips = [Int](repeating: 0, count: labels)
    confidentFlips = flips
    shift = [Double](repeating: 0, count: labels)
  }

  mutating func add(logits: ArraySlice<Float>, probe: Int, baseline: ProbeBaseline) {
    let best = ProbeBaseline.argmax(logits)
    let original = baseline.predicted[probe]
    let normaliser = ProbeBaseline.logSumExp(logits)
    for label in flips.indices where label != original {
      shift[label] += Double(logits[logits.startIndex + label]) - normaliser - baseline.logProbabilities[probe][label]
    }
    guard best != original else { return }
    flips[best] += 1
    if baseline.confident[best][probe] { confidentFlips[best] += 1 }
  }

  func effects(baseline: ProbeBaseline) -> [InsertionEffect] {
    flips.indices.map { label in
      let eligible = baseline.eligible[label], confident = baseline.eligibleConfident[label]
      return InsertionEffect(
        flipRate: eligible > 0 ? Double(flips[label]) / Double(eligible) : 0,
        confidentFlipRate: confident > 0 ? Double(confidentFlips[label]) / Double(confident) : 0,
        logProbabilityShift: eligible > 0 ? shift[label] / Double(eligible) : 0)
    }
  }
}
