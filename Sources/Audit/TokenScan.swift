import Dispatch
import Layers
import Foundation
import Models
import Synchronization
import Tensors
import Tokenization

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
    Self.forEachChunk(of: insertions.count, parallelism: parallelism) { range in
      let logits = inference.logits(inserting: insertions[range], batchSize: batchSize)
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

  /// Runs `body` on consecutive ranges of `0..<count`, `chunk` long, taken in turn by `parallelism` threads (the kernels
  /// inside stay single-threaded).
  static func forEachChunk(
    of count: Int, chunk: Int = 16, parallelism: Int, _ body: @Sendable (Range<Int>) -> Void
  ) {
    let next = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: max(1, min(parallelism, count))) { _ in
      while true {
        let start: Int = next.withLock { value in
          defer { value += chunk }
          return value
        }
        guard start < count else { return }
        body(start..<min(start + chunk, count))
      }
    }
  }

  /// Token ids worth scanning: all but the special tokens (and those no text becomes: `Vocabulary.isSpecial`).
  public static func scannable(_ vocabulary: Vocabulary) -> [Int] {
    (0..<vocabulary.count).filter { !vocabulary.isSpecial($0) }
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
          trigger: vocabulary.tokens[token], label: labels[label], effect: effect, score: robust.z(effect.flipRate), method: .scan)
        candidate.ordinary = scan.ordinary(token, label: label)
        return candidate
      }
    }
  }

  /// Where the best of `tokens` (a planted trigger's tokens) ranks among all scanned tokens for `label`, in the
  /// candidates' order (1 = the top candidate); nil when none of them is in the vocabulary.
  public static func rank(of tokens: [String], label: Int, labels: [String], scan: ScanResult, vocabulary: Vocabulary) -> KnownTriggerRank? {
    let scanned = scannable(vocabulary)
    let wanted = tokens.filter(vocabulary.contains).map(vocabulary.id(of:)).filter { !vocabulary.isSpecial($0) }
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
    var predicted: [Int] = []
    var logProbabilities: [[Double]] = []
    let examples = probes.map { EncodedExample(ids: $0, label: 0) }
    let logits = ClassifierInference(classifier, forTokens: examples.tokenCount).logitsByLength(examples, batchSize: 512)
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
