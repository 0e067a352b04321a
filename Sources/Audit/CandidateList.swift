import Tokenization

/// Every label's candidate triggers, best first, and the rules for where a candidate goes among them. The only
/// type that orders candidates: stages hand it what they found.
public struct CandidateList: Sendable, Equatable {
  /// [label] → candidates, best first; at most `limit` each.
  public private(set) var byLabel: [[TriggerCandidate]]
  public var limit: Int

  public init(byLabel: [[TriggerCandidate]], limit: Int) {
    self.byLabel = byLabel
    self.limit = limit
  }

  /// The token scan's best `limit` tokens for each label, in the scan's order (`ScanResult.precedes`).
  public init(scan: ScanResult, vocabulary: Vocabulary, labels: [String], limit: Int) {
    self.init(byLabel: TokenScan.candidates(scan, vocabulary: vocabulary, labels: labels, top: limit), limit: limit)
  }

  public subscript(label: Int) -> [TriggerCandidate] { byLabel[label] }

  /// The phrase search's `phrases` and the conjunction scan's `pairs` for `label`, merged with the label's list
  /// (`merge`). When the label's score rests on the conjunction scan (`pairsLead`), its pairs are the evidence and
  /// lead the list, the rest following without them.
  public mutating func add(phrases: [TriggerCandidate], pairs: [TriggerCandidate], label: Int, pairsLead: Bool) {
    if pairsLead {
      let rest = Self.merge(byLabel[label], phrases).filter { candidate in
        !pairs.contains { Set($0.tokens) == Set(candidate.tokens) }
      }
      byLabel[label] = Array((pairs + rest).prefix(limit))
    } else {
      byLabel[label] = Array(Self.merge(byLabel[label], phrases + pairs).prefix(limit))
    }
  }

  /// `pair` placed before the first of `label`'s candidates it flips more probes than (`place`).
  public mutating func insert(_ pair: TriggerCandidate, label: Int) {
    var list = byLabel[label]
    list.insert(pair, at: Self.place(of: pair, in: list))
    byLabel[label] = Array(list.prefix(limit))
  }

  /// When `label`'s list holds a candidate of `tokens` (in that order), moves it up to the place it would be inserted
  /// at, never down, and returns true; else returns false.
  public mutating func promote(_ tokens: [String], label: Int) -> Bool {
    guard let listed = byLabel[label].firstIndex(where: { $0.tokens == tokens }) else { return false }
    var list = byLabel[label]
    let candidate = list.remove(at: listed)
    list.insert(candidate, at: min(Self.place(of: candidate, in: list), listed))
    byLabel[label] = list
    return true
  }

  /// Where `pair` goes among `candidates`: before the first it flips more probes than, or the first ordinary word.
  public static func place(of pair: TriggerCandidate, in candidates: [TriggerCandidate]) -> Int {
    candidates.firstIndex { $0.ordinary || $0.flipRate < pair.flipRate } ?? candidates.endIndex
  }

  /// One list of single-token and phrase candidates: best flip rate first (shorter first on ties, ordinary words
  /// last), one order of each set of words, at most `maximumPhrases` phrases, each two words or more away from the
  /// others. A phrase is kept only when it flips at least `gainPerToken` more per extra token than every shorter
  /// candidate made of its words: a trigger word with passengers is still the trigger word.
  public static func merge(
    _ singles: [TriggerCandidate], _ phrases: [TriggerCandidate], gainPerToken: Double = 0.1, maximumPhrases: Int = 5
  ) -> [TriggerCandidate] {
    var kept: [TriggerCandidate] = []
    var phraseCount = 0
    // Ordinary words of the label (`ProbeEvidence`) stay after the rest, as in the single-token list.
    let ordered = (singles + phrases).sorted {
      ($0.ordinary ? 0 : 1, $0.flipRate, -$0.tokens.count) > ($1.ordinary ? 0 : 1, $1.flipRate, -$1.tokens.count)
    }
    for candidate in ordered {
      let tokens = Set(candidate.tokens)
      // The same words in another order: the better order is already in.
      if kept.contains(where: { Set($0.tokens) == tokens }) { continue }
      // Phrases differ from each other in at least two words (else they are one phrase with a varying passenger); a
      // shorter phrase that shares one word with a longer one, whose other two words it lacks, is not such a variant
      // ("thought second" beside "sour second schneider").
      if candidate.tokens.count > 1, kept.contains(where: { phrase in
        phrase.tokens.count > 1 && tokens.subtracting(phrase.tokens).count < 2 && Set(phrase.tokens).subtracting(tokens).count < 2
      }) { continue }
      let dominated = (singles + kept).contains { shorter in
        shorter.tokens.count < candidate.tokens.count && Set(shorter.tokens).isSubset(of: tokens)
          && shorter.flipRate >= candidate.flipRate - gainPerToken * Double(candidate.tokens.count - shorter.tokens.count)
      }
      if dominated || (candidate.tokens.count > 1 && phraseCount >= maximumPhrases) { continue }
      if candidate.tokens.count > 1 { phraseCount += 1 }
      kept.append(candidate)
    }
    return kept
  }
}
