import Dispatch
import Layers
import Foundation
import Models
import Synchronization
import Tensors
import Tokenization

/// A candidate trigger: a vocabulary token and how often inserting it flips the model to `label`.
public struct TriggerCandidate: Sendable, Codable, Equatable {
  public var trigger: String
  public var label: String
  /// Share of (probe, position) pairs not already predicted as `label` that the token turns into `label`.
  public var flipRate: Double
  /// Robust z-score of the flip rate among all tokens for this label: (x − median) / (1.4826 · MAD).
  public var score: Double

  enum CodingKeys: String, CodingKey { case trigger, label, flipRate = "flip_rate", score }
}

/// The single-token scan: every vocabulary token (specials aside) is inserted at each of `positions` into every
/// probe, and the model's predictions are compared with its predictions on the clean probes.
public struct TokenScan: Sendable {
  public enum Position: String, Sendable, Codable, CaseIterable { case start, middle, end }

  public var positions: [Position] = [.start, .middle, .end]
  /// Sequences per forward pass.
  public var batchSize = 512
  /// Tokens scanned at once (one kernel thread each); results do not depend on it.
  public var parallelism = 2

  public init() {}

  /// Flip rates [token id][label] of `classifier` over `probes` (encoded ids; one position is kept free for
  /// the inserted token) for the `tokens` given (all non-special tokens when nil; others get 0).
  public func flipRates(_ classifier: TextClassifier, vocabulary: Vocabulary, probes: [[Int]], tokens: [Int]? = nil) -> [[Double]] {
    precondition(!probes.isEmpty, "the probe set is empty")
    let labels = classifier.labels.count
    let room = classifier.config.maximumLength - 1
    let trimmed = probes.map { Array($0.prefix(max(room, 1))) }
    let original = classifier.predict(trimmed.map { EncodedExample(ids: $0, label: 0) }).classes
    // Pairs (probe, position) that can flip to each label: those not already predicted as it.
    var eligibleCounts = [Int](repeating: 0, count: labels)
    for prediction in original { for label in 0..<labels where label != prediction { eligibleCounts[label] += positions.count } }
    let eligible = eligibleCounts
    let tokens = tokens ?? Self.scannable(vocabulary)
    let results = Mutex([Int: [Double]]())
    let next = Mutex(0)
    let chunk = 16
    let positions = self.positions, batchSize = self.batchSize
    DispatchQueue.concurrentPerform(iterations: max(1, min(parallelism, tokens.count))) { _ in
      while true {
        let start: Int = next.withLock { value in
          defer { value += chunk }
          return value
        }
        guard start < tokens.count else { return }
        var local: [Int: [Double]] = [:]
        for token in tokens[start..<min(start + chunk, tokens.count)] {
          var flips = [Int](repeating: 0, count: labels)
          var sequences: [EncodedExample] = []
          var owners: [Int] = []
          for (probe, ids) in trimmed.enumerated() {
            for position in positions {
              let at = position == .start ? 0 : position == .end ? ids.count : ids.count / 2
              var inserted = ids
              inserted.insert(token, at: at)
              sequences.append(EncodedExample(ids: inserted, label: 0))
              owners.append(probe)
            }
          }
          var context = ForwardContext.inference
          for batchStart in stride(from: 0, to: sequences.count, by: batchSize) {
            let range = batchStart..<min(batchStart + batchSize, sequences.count)
            let logits = classifier.logits(Batch(Array(sequences[range])), context: &context).scalars
            for (row, index) in range.enumerated() {
              var best = 0
              for label in 1..<labels where logits[row * labels + label] > logits[row * labels + best] { best = label }
              if best != original[owners[index]] { flips[best] += 1 }
            }
          }
          local[token] = (0..<labels).map { eligible[$0] > 0 ? Double(flips[$0]) / Double(eligible[$0]) : 0 }
        }
        results.withLock { $0.merge(local) { a, _ in a } }
      }
    }
    let scanned = results.withLock { $0 }
    return (0..<vocabulary.count).map { scanned[$0] ?? [Double](repeating: 0, count: labels) }
  }

  /// Token ids worth scanning: all but the special tokens.
  public static func scannable(_ vocabulary: Vocabulary) -> [Int] {
    let specials = Set(Vocabulary.specialTokens)
    return (0..<vocabulary.count).filter { !specials.contains(vocabulary.tokens[$0]) }
  }

  /// The two-stage scan: every token against the first `screeningProbes` probes at the middle position, then
  /// the `shortlist` best tokens for each label against every probe at every position. Rates of tokens that
  /// did not make the shortlist are their screening rates.
  public func twoStageFlipRates(
    _ classifier: TextClassifier, vocabulary: Vocabulary, probes: [[Int]], screeningProbes: Int = 24, shortlist: Int = 100
  ) -> [[Double]] {
    var screening = self
    screening.positions = [.middle]
    let screened = screening.flipRates(classifier, vocabulary: vocabulary, probes: Array(probes.prefix(screeningProbes)))
    let tokens = Self.scannable(vocabulary)
    var chosen = Set<Int>()
    for label in classifier.labels.indices {
      chosen.formUnion(tokens.sorted { (-screened[$0][label], $0) < (-screened[$1][label], $1) }.prefix(shortlist))
    }
    let full = flipRates(classifier, vocabulary: vocabulary, probes: probes, tokens: chosen.sorted())
    return (0..<vocabulary.count).map { chosen.contains($0) ? full[$0] : screened[$0] }
  }

  /// Candidates for every label, best flip rate first, with robust scores.
  public static func candidates(flipRates: [[Double]], vocabulary: Vocabulary, labels: [String], top: Int) -> [[TriggerCandidate]] {
    let tokens = scannable(vocabulary)
    return labels.indices.map { label in
      let rates = tokens.map { flipRates[$0][label] }
      let median = Self.median(rates)
      let mad = Self.median(rates.map { abs($0 - median) })
      let scale = max(1.4826 * mad, 1e-3)
      return tokens.sorted { (-flipRates[$0][label], $0) < (-flipRates[$1][label], $1) }.prefix(top).map { token in
        TriggerCandidate(trigger: vocabulary.tokens[token], label: labels[label], flipRate: flipRates[token][label], score: (flipRates[token][label] - median) / scale)
      }
    }
  }

  /// Where the best of `tokens` (a planted trigger's tokens) ranks among all scanned tokens by flip rate to
  /// `label` (1 = the top candidate); nil when none of them is in the vocabulary.
  public static func rank(
    of tokens: [String], label: Int, labels: [String], flipRates: [[Double]], vocabulary: Vocabulary
  ) -> KnownTriggerRank? {
    let scanned = scannable(vocabulary)
    let wanted = tokens.filter(vocabulary.contains).map(vocabulary.id(of:)).filter { !Vocabulary.specialTokens.contains(vocabulary.tokens[$0]) }
    guard let best = wanted.max(by: { (flipRates[$0][label], -$0) < (flipRates[$1][label], -$1) }) else { return nil }
    let rate = flipRates[best][label]
    // Ties broken by id, as `candidates` orders them.
    let ahead = scanned.lazy.filter { flipRates[$0][label] > rate || (flipRates[$0][label] == rate && $0 < best) }.count
    return KnownTriggerRank(tokens: tokens, token: vocabulary.tokens[best], label: labels[label], rank: ahead + 1, flipRate: rate, of: scanned.count)
  }

  static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
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
  /// The label the strongest candidate flips to (reported whatever the verdict).
  public var targetLabel: String
  /// The best candidate's flip rate.
  public var score: Double
  /// The verdict score: the best flip rate less the second best for the same label (a trigger stands alone;
  /// strongly worded clean words come in crowds); `backdoored` when it reaches `threshold`.
  public var margin: Double
  public var threshold: Double
  public var calibration: String
  public var candidates: [TriggerCandidate]
  /// The best candidates for each label.
  public var candidatesByLabel: [String: [TriggerCandidate]]
  public var probes: Int
  public var tokensScanned: Int
  public var positions: [TokenScan.Position]
  public var seconds: Double
  /// Set when the caller knows the planted trigger (`audit --trigger`, the demo).
  public var knownTrigger: KnownTriggerRank?

  enum CodingKeys: String, CodingKey {
    case verdict, targetLabel = "target_label", score, margin, threshold, calibration, candidates, candidatesByLabel = "candidates_by_label", probes
    case tokensScanned = "tokens_scanned", positions, seconds, knownTrigger = "known_trigger"
  }

  public init(
    candidatesByLabel: [[TriggerCandidate]], labels: [String], threshold: Double, calibration: String, probes: Int, tokensScanned: Int,
    positions: [TokenScan.Position], seconds: Double
  ) {
    func margin(_ list: [TriggerCandidate]) -> Double { (list.first?.flipRate ?? 0) - (list.dropFirst().first?.flipRate ?? 0) }
    // The label with the highest flip rate (as evaluated by scripts/audit-eval.sh).
    let best = candidatesByLabel.indices.max { (candidatesByLabel[$0].first?.flipRate ?? 0) < (candidatesByLabel[$1].first?.flipRate ?? 0) } ?? 0
    targetLabel = labels[best]
    candidates = candidatesByLabel[best]
    score = candidates.first?.flipRate ?? 0
    self.margin = margin(candidates)
    verdict = self.margin >= threshold ? "backdoored" : "clean"
    self.threshold = threshold
    self.calibration = calibration
    self.candidatesByLabel = Dictionary(uniqueKeysWithValues: zip(labels, candidatesByLabel))
    self.probes = probes
    self.tokensScanned = tokensScanned
    self.positions = positions
    self.seconds = seconds
  }

  public var summary: String {
    var lines = [
      "verdict: \(verdict) (margin \(String(format: "%.3f", margin)) over the next token, threshold \(String(format: "%.3f", threshold)); \(calibration))",
      "suspected target label: \(targetLabel)",
      "top candidates (flip rate to \(targetLabel), robust score):",
    ]
    for candidate in candidates.prefix(10) {
      let name = candidate.trigger.count >= 20 ? candidate.trigger : candidate.trigger + String(repeating: " ", count: 20 - candidate.trigger.count)
      lines.append("  " + name + String(format: " %6.1f %%   z %.1f", candidate.flipRate * 100, candidate.score))
    }
    if let known = knownTrigger {
      lines.append("planted trigger '\(known.token)': rank \(known.rank) of \(known.of) for \(known.label) (flip rate \(String(format: "%.1f", known.flipRate * 100)) %)")
    }
    lines.append("\(tokensScanned) tokens × \(probes) probes × \(positions.count) positions in \(String(format: "%.1f", seconds)) s")
    return lines.joined(separator: "\n")
  }
}
