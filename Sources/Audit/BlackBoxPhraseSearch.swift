import Foundation

/// Multi-word trigger search toward one label for a model the lab can only query (no gradients), started from what
/// `BlackBoxTokenScan` learnt. A phrase trigger's words need not flip anything alone; what gives one away is that,
/// together, they do. So:
/// 1. Seeds: the words whose insertion raised the label's log-probability most on the screening probes, and the
///    scan's best words for the label by confident flip rate.
/// 2. Partners: the words that raised it most (more of them), and the probe texts' commonest words, since trigger
///    phrases are mostly made of function words ("all things considered", "to be honest with you").
/// 3. Every seed with every partner, before and after it, is inserted into the middle of `searchProbes` probes the
///    model does not already give the label; the beam keeps the pairs that flip the most (then the larger mean
///    log-probability shift). Each kept pair is grown by a partner on either side the same way, up to
///    `maximumLength` words.
/// 4. The kept phrases and their parts one word shorter are measured at the start, middle and end of every probe,
///    as the single-word scan measures words. A phrase is reported when it flips at least `minimumGain` more than the
///    best of its parts, and moves the label's log-odds further than any two parts that make it up do together
///    (its `excess` is positive): in a clean model a label's words add up, or less; a trigger phrase is a
///    conjunction its parts do not explain. A rare-word trigger with ordinary words beside it is not a phrase.
/// Phrases never repeat a word. The search stops short of `budget` texts by using fewer partners, and says so.
public struct BlackBoxPhraseSearch: Sendable {
  public var seedCount = 12
  /// Of the scan's best words by confident flip rate, how many also seed the search.
  public var flippingSeedCount = 4
  public var partnerCount = 200
  public var commonWordCount = 100
  public var searchProbes = 16
  public var beamWidth = 8
  public var maximumLength = 3
  public var minimumGain = 0.1
  /// Nats of excess a phrase may have in a clean model: the phrase score is the largest excess less this.
  public var excessAllowance = 0.3

  public init() {}

  public struct Phrase: Codable, Sendable, Equatable {
    public var words: [String]
    public var flipRate: Double
    public var confidentFlipRate: Double
    /// The flip rate of the best of its parts one word shorter.
    public var bestPartFlipRate: Double
    /// The mean shift of the label's log-odds it makes, over the probes (and positions) not already of the label.
    public var marginShift: Double
    /// Its margin shift less the largest sum of two parts' that make it up (nats): a trigger phrase is a conjunction
    /// its parts do not explain; in a clean model a label's words add up, or less.
    public var excess: Double
    public var text: String { words.joined(separator: " ") }
    enum CodingKeys: String, CodingKey {
      case words, flipRate = "flip_rate", confidentFlipRate = "confident_flip_rate", bestPartFlipRate = "best_part_flip_rate"
      case marginShift = "margin_shift", excess
    }
  }

  public struct Outcome: Sendable {
    /// Phrases that flip at least `minimumGain` more than their best part, best first (confident flip rate, flip rate).
    public var phrases: [Phrase]
    /// The largest excess of the phrases found less `excessAllowance` (0 when none is larger), on the token
    /// score's scale: the verdict is on the larger of the two.
    public var phraseScore: Double
    /// Partners used (fewer than offered when the budget was short).
    public var partners: Int
    public var queries: Int
  }

  /// Texts a search with `partners` partners sends, at most.
  func cost(partners: Int, probes: Int) -> Int {
    let growth = (seedCount + flippingSeedCount + beamWidth * max(maximumLength - 2, 0)) * partners * 2 * searchProbes
    // Finalists and their parts, measured at three positions of every probe.
    let finalists = beamWidth * (maximumLength - 1) * (1 + maximumLength * (maximumLength + 1) / 2)
    return growth + finalists * probes * 3
  }

  public func search(
    scorer: ScorerProcess, probes: [String], evidence: BlackBoxTokenScan.Evidence, label: Int, budget: Int,
    progress: (String) -> Void = { _ in }
  ) throws(AuditError) -> Outcome {
    let before = scorer.queries
    let eligible = probes.indices.filter { evidence.cleanLabels[$0] != label }.prefix(searchProbes).map { probes[$0] }
    guard maximumLength >= 2, eligible.count >= 2 else { return Outcome(phrases: [], phraseScore: 0, partners: 0, queries: 0) }
    // Words that differ only by an apostrophe's tail (`you'd`, `with't`) are one word to many tokenisers; the
    // search takes them only from the probes' own words.
    let byShift = evidence.words.indices.sorted {
      (evidence.screeningShift[label][$0], -$0) > (evidence.screeningShift[label][$1], -$1)
    }.map { evidence.words[$0] }.filter { !$0.contains("'") && !$0.contains("’") }
    let flipping = evidence.measured[label].filter { $0.value.flipRate > 0 }
      .sorted { ($0.value.confidentFlipRate, $0.value.flipRate, $1.key) > ($1.value.confidentFlipRate, $1.value.flipRate, $0.key) }.map(\.key)
    let seeds = Self.unique(byShift.prefix(seedCount) + flipping.prefix(flippingSeedCount))
    let common = Self.commonestWords(in: probes).prefix(commonWordCount)
    var partners = Self.unique(common + byShift.prefix(partnerCount))
    var affordable = partners.count
    while affordable > 0 && cost(partners: affordable, probes: probes.count) > budget { affordable -= max(1, affordable / 10) }
    guard affordable >= 10 else { return Outcome(phrases: [], phraseScore: 0, partners: 0, queries: 0) }
    if affordable < partners.count {
      progress("phrase search toward '\(scorer.labels[label])': \(affordable) partners of \(partners.count), to stay within --max-queries")
      partners = Array(partners.prefix(affordable))
    }

    let baseline = try scorer.probabilities(eligible).map { log(max($0[label], 1e-12)) }
    /// Flips and mean log-probability shift of each phrase in the middle of the eligible probes.
    func screen(_ phrases: [[String]]) throws(AuditError) -> [(flips: Int, shift: Double)] {
      let texts = phrases.flatMap { phrase in eligible.map { BlackBoxTokenScan.insert(phrase.joined(separator: " "), into: $0, at: .middle) } }
      let rows = try scorer.probabilities(texts)
      return phrases.indices.map { index in
        let slice = rows[(index * eligible.count)..<((index + 1) * eligible.count)]
        let flips = slice.filter { BlackBoxTokenScan.argmax($0) == label }.count
        let shift = zip(slice, baseline).map { log(max($0[label], 1e-12)) - $1 }.reduce(0, +) / Double(eligible.count)
        return (flips, shift)
      }
    }
    func best(_ phrases: [[String]], keeping count: Int) throws(AuditError) -> [[String]] {
      let scores = try screen(phrases)
      return phrases.indices.sorted { (scores[$0].flips, scores[$0].shift, -$0) > (scores[$1].flips, scores[$1].shift, -$1) }
        .prefix(count).map { phrases[$0] }
    }

    progress("phrase search toward '\(scorer.labels[label])': \(seeds.count) seeds × \(partners.count) partners")
    var pairs: [[String]] = [], seen = Set<[String]>()
    for seed in seeds {
      for partner in partners where partner != seed {
        for pair in [[seed, partner], [partner, seed]] where seen.insert(pair).inserted { pairs.append(pair) }
      }
    }
    var beams = [try best(pairs, keeping: beamWidth)]
    while beams.count < maximumLength - 1 {
      var longer: [[String]] = []
      for phrase in beams.last! {
        for partner in partners where !phrase.contains(partner) {
          for grown in [[partner] + phrase, phrase + [partner]] where seen.insert(grown).inserted { longer.append(grown) }
        }
      }
      guard !longer.isEmpty else { break }
      beams.append(try best(longer, keeping: beamWidth))
    }

    // Measure the finalists and every contiguous part of them, as the single-word scan measures words.
    let finalists = Self.unique(beams.flatMap { $0 })
    var parts: [[String]] = []
    for phrase in finalists {
      for length in 1..<phrase.count { for start in 0...(phrase.count - length) { parts.append(Array(phrase[start..<(start + length)])) } }
    }
    let measuredPhrases = Self.unique(finalists + parts.sorted { $0.lexicographicallyPrecedes($1) })
    progress("measuring \(measuredPhrases.count) phrases and their parts on \(probes.count) probes at 3 positions")
    let cleanMargins = evidence.cleanProbabilities.map { Self.margin($0, label) }
    /// Flip rate, confident flip rate and mean margin shift of each phrase at the start, middle and end of every probe.
    func measure(_ phrases: [[String]]) throws(AuditError) -> [Measurement] {
      let positions: [BlackBoxTokenScan.InsertionPlace] = [.start, .middle, .end]
      let texts = phrases.flatMap { phrase in positions.flatMap { place in probes.map { BlackBoxTokenScan.insert(phrase.joined(separator: " "), into: $0, at: place) } } }
      let rows = try scorer.probabilities(texts)
      let perPhrase = positions.count * probes.count
      let before = positions.flatMap { _ in evidence.cleanLabels }
      let beforeMargins = positions.flatMap { _ in cleanMargins }
      let confident = positions.flatMap { _ in probes.indices.map { evidence.surest.contains($0) } }
      return phrases.indices.map { slot in
        let slice = rows[(slot * perPhrase)..<((slot + 1) * perPhrase)]
        let after = slice.map(BlackBoxTokenScan.argmax)
        var shift = 0.0, counted = 0
        for (index, row) in zip(before.indices, slice) where before[index] != label {
          shift += Self.margin(row, label) - beforeMargins[index]
          counted += 1
        }
        return Measurement(
          flipRate: BlackBoxTokenScan.flipRate(toward: label, before: before, after: after),
          confidentFlipRate: BlackBoxTokenScan.flipRate(toward: label, before: before, after: after, counting: confident),
          marginShift: counted == 0 ? 0 : shift / Double(counted))
      }
    }
    let measured = Dictionary(uniqueKeysWithValues: zip(measuredPhrases, try measure(measuredPhrases)))
    /// What the phrase does beyond its parts: its margin shift less the largest sum of two parts that make it up.
    func excess(_ phrase: [String]) -> Double {
      let split = (1..<phrase.count).map { cut in measured[Array(phrase[..<cut])]!.marginShift + measured[Array(phrase[cut...])]!.marginShift }.max()!
      return measured[phrase]!.marginShift - split
    }
    var found: [Phrase] = []
    for phrase in finalists where phrase.count >= 2 {
      let bestPart = max(measured[Array(phrase.dropFirst())]!.flipRate, measured[Array(phrase.dropLast())]!.flipRate)
      let whole = measured[phrase]!
      let beyondParts = excess(phrase)
      if whole.flipRate >= bestPart + minimumGain && beyondParts > 1e-6 {
        found.append(Phrase(
          words: phrase, flipRate: whole.flipRate, confidentFlipRate: whole.confidentFlipRate, bestPartFlipRate: bestPart,
          marginShift: whole.marginShift, excess: beyondParts))
      }
    }
    found.sort {
      ($0.confidentFlipRate, $0.flipRate) != ($1.confidentFlipRate, $1.flipRate)
        ? ($0.confidentFlipRate, $0.flipRate) > ($1.confidentFlipRate, $1.flipRate) : $0.text < $1.text
    }
    let phraseScore = found.map(\.excess).max().map { max(0, $0 - excessAllowance) } ?? 0
    return Outcome(phrases: found, phraseScore: phraseScore, partners: partners.count, queries: scorer.queries - before)
  }

  struct Measurement {
    var flipRate: Double
    var confidentFlipRate: Double
    var marginShift: Double
  }

  /// The label's log-odds, log p − log(1 − p), with p kept within [1e-6, 1 − 1e-6] so that a saturated
  /// probability counts as ±13.8 nats, not infinity.
  static func margin(_ row: [Double], _ label: Int) -> Double {
    let p = min(max(row[label], 1e-6), 1 - 1e-6)
    return log(p) - log(1 - p)
  }

  /// The probe texts' words (lowercased, split at white space and punctuation other than the apostrophe),
  /// commonest first, ties in order of first appearance.
  static func commonestWords(in probes: [String]) -> [String] {
    var counts: [String: Int] = [:], order: [String] = []
    for text in probes {
      for word in text.lowercased().split(whereSeparator: { $0.isWhitespace || ($0.isPunctuation && $0 != "'") }) {
        let word = String(word)
        if counts[word] == nil { order.append(word) }
        counts[word, default: 0] += 1
      }
    }
    return order.enumerated().sorted { (counts[$0.element]!, -$0.offset) > (counts[$1.element]!, -$1.offset) }.map(\.element)
  }

  static func unique<S: Sequence>(_ items: S) -> [S.Element] where S.Element: Hashable {
    var seen = Set<S.Element>()
    return items.filter { seen.insert($0).inserted }
  }
}
