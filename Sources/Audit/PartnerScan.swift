import Models

/// The word that completes a label's strongest token into the phrase the model learnt: the probe text's commonest
/// words, each right before and right after the token (the anchor), ranked by what the pair does beyond its words.
///
/// A phrase trigger of common words is often learnt mostly through one of them ("mind" of "mind you", "reflection"
/// of "on reflection"): the token scan lists that word, and the phrase search pairs it with whatever pushes the label
/// most on its own ("mind has", "reflection sitting"), because the phrase's other word does little or nothing alone.
/// What marks the other word is its own push next to the anchor (the pair's margin shift less its two words' shifts
/// toward the label). Some words push with any strong token, in one order ("eventually reflection" and "eventually
/// alas" alike), so a word's own push next to the anchor is taken less its median own push, in the same order, next
/// to the label's next strongest tokens (the references): the excess. Among the misses of the audit zoo's nine
/// sets, the pair with the largest excess was the phrase for "mind you" (0.72 nats, the next 0.50), "on reflection",
/// "by contrast", "in all honesty", "by the by" and "a reminder"; for attention models and bags, whose phrase
/// backdoors mostly rest on one word, it found nothing (no pair of a bag interacts).
public struct PartnerScan: Sendable {
  /// How many of the probe text's commonest words are tried next to the anchor.
  public var wordCount = 1_000
  /// How many of the label's next strongest tokens are references.
  public var referenceCount = 4
  /// Probes every word is screened on (next to the anchor, in both orders), at each of `positions`.
  public var screeningProbeCount = 8
  /// How many pairs of each order, by own push on the screening probes, are measured on `probeCount` probes.
  public var shortlist = 48
  public var probeCount = 48
  public var positions: [TokenScan.Position] = [.start, .end]
  public var parallelism = 2

  public init() {}

  /// Whether the scan is run for this classifier: a GRU encoder (either direction, any number of labels). An
  /// attention model's or a bag's phrase backdoor rests on one word in most of the audit zoo's models (15 of 17
  /// attention ones), and beside that word the phrase's other words ranked 6th to 91st by excess; a bag's words add
  /// up, so no pair of a bag interacts.
  public static func applies(to classifier: TextClassifier) -> Bool { classifier.config.architecture == .gru }

  /// A word next to the anchor, in the order the pair is read.
  public struct Partner: Sendable, Equatable {
    public var ids: [Int]
    /// `ownPush` less the median own push of the same word, in the same order, next to each reference (nats).
    public var excess: Double
    /// The pair's margin shift less its two words' shifts toward the label (a shift away counts as 0; nats).
    public var ownPush: Double
  }

  /// The pairs of `anchor` with the first `wordCount` of `words` (in both orders) toward `label`, largest excess
  /// first: the `shortlist` pairs of each order with the largest own push on the screening probes, measured again
  /// on `probeCount` probes next to the anchor and next to each of `references` (the label's next strongest tokens).
  public func partners(
    _ classifier: TextClassifier, probes: [[Int]], label: Int, anchor: Int, references: [Int], words: [Int]
  ) -> [Partner] {
    let references = Array(references.filter { $0 != anchor }.prefix(referenceCount))
    let words = Array(words.filter { $0 != anchor && !references.contains($0) }.prefix(wordCount))
    guard !words.isEmpty, !probes.isEmpty else { return [] }
    var scan = ConjunctionScan()
    scan.positions = positions
    scan.parallelism = parallelism
    let screening = ConjunctionScan.MarginTable(scan: scan, classifier: classifier, probes: Array(probes.prefix(screeningProbeCount)), label: label)
    let measured = ConjunctionScan.MarginTable(scan: scan, classifier: classifier, probes: Array(probes.prefix(probeCount)), label: label)
    screening.measure([[], [anchor]] + words.map { [$0] } + words.flatMap { [[$0, anchor], [anchor, $0]] })
    let chosen = Self.shortlisted(words: words, anchor: anchor, count: shortlist, margin: screening.margin)
    measured.measure(
      [[]] + Set(chosen.flatMap { $0 } + references).map { [$0] }
        + chosen.flatMap { pair in ([anchor] + references).map { Self.replacing(anchor, in: pair, with: $0) } })
    return Self.rank(chosen, anchor: anchor, references: references, margin: measured.margin)
  }

  /// The `count` pairs of each order (word before the anchor, then after it) with the largest own push by `margin`
  /// (ties: the lower word id).
  static func shortlisted(words: [Int], anchor: Int, count: Int, margin: ([Int]) -> Double) -> [[Int]] {
    [true, false].flatMap { before in
      words.map { before ? [$0, anchor] : [anchor, $0] }
        .map { ($0, ConjunctionScan.ownPush($0, margin: margin)) }
        .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.lexicographicallyPrecedes($1.0) }
        .prefix(count).map(\.0)
    }
  }

  /// `pairs` (each holding `anchor`) as partners, largest excess first (ties: the lower ids first).
  static func rank(_ pairs: [[Int]], anchor: Int, references: [Int], margin: ([Int]) -> Double) -> [Partner] {
    pairs.map { pair in
      let own = ConjunctionScan.ownPush(pair, margin: margin)
      let usual = references.isEmpty ? 0 : TokenScan.median(references.map { ConjunctionScan.ownPush(replacing(anchor, in: pair, with: $0), margin: margin) })
      return Partner(ids: pair, excess: own - usual, ownPush: own)
    }
    .sorted { $0.excess != $1.excess ? $0.excess > $1.excess : $0.ids.lexicographicallyPrecedes($1.ids) }
  }

  static func replacing(_ anchor: Int, in pair: [Int], with token: Int) -> [Int] { pair.map { $0 == anchor ? token : $0 } }

  /// The partner pair worth listing: the first of `partners` when its excess and own push are both positive.
  public static func best(_ partners: [Partner]) -> Partner? {
    guard let first = partners.first, first.excess > 0, first.ownPush > 0 else { return nil }
    return first
  }
}
