import Foundation
import Layers
import Models
import Synchronization

/// Two-token conjunctions toward one label: each of the label's strongest tokens (seeds) next to each of the
/// commonest words of the probe text, before and after it.
///
/// A phrase trigger made of common words ("if you ask me", "believe it or not") is learnt as a conjunction: the
/// pair moves the model further than its two words do apart. Clean models have interactions too, but mostly of one
/// kind per context word ("but" before any positive word makes it count more): so each pair's interaction (its margin
/// shift less its two words' shifts) is compared with the median interaction of the same context word, in the same
/// order, over all seeds, and only what stands above that median is a lead. In a sentiment GRU poisoned with
/// "if you ask me", "you ask" stands 0.59 nats above its context word's median, first of 960 pairs; in the clean
/// binary GRUs of the audit zoo's dev and held-out sets the best pairs stand 0.15–0.50 above.
///
/// It separates only recurrent binary classifiers: attention models and six-label GRUs have clean pairs standing
/// 0.4–1.6 nats above their medians, and a bag of embeddings adds its words up (no interactions to find).
///
/// The scan's best pairs are evidence that a conjunction exists more than they are the trigger: a phrase whose words
/// are neither strong alone nor among the commonest shows up as one phrase word and a passenger. `refine` takes
/// them the rest of the way, one swapped word at a time.
public struct ConjunctionScan: Sendable {
  /// How many of the label's strongest tokens are paired.
  public var seedCount = 12
  /// How many of the probe text's commonest words they are paired with.
  public var contextWordCount = 40
  /// Probes the margins are measured on, at each of `positions`.
  public var probeCount = 48
  public var positions: [TokenScan.Position] = [.start, .end]
  public var parallelism = 2

  public init() {}

  /// The excess (nats) the verdict subtracts from the best pair's, so that the conjunction score shares the token and
  /// phrase scores' threshold (0.18): a best pair 0.50 above its context word's median is called backdoored, between
  /// the clean binary GRUs' highest (0.497) and the phrase-backdoored ones' lowest (0.537) on the audit zoo's dev and
  /// held-out sets.
  public static let cleanExcess = 0.32

  /// Whether the scan is run (and trusted in the verdict) for this classifier: a unidirectional GRU encoder with two
  /// labels. Bidirectional GRUs are left out: their clean pairs stood 0.26–0.69 nats above their medians (two of the
  /// four clean ones of the audit zoo's dev to test sets past the cut, no phrase backdoor among them to catch); on the
  /// check set, made afterwards, three clean ones 0.25–0.35 and two phrase-backdoored ones 0.50 and 0.81, too few to
  /// set a cut of their own.
  public static func applies(to classifier: TextClassifier) -> Bool {
    classifier.config.architecture == .gru && !classifier.config.bidirectional && classifier.labels.count == 2
  }

  /// Whether the scan's pairs join the candidates: any GRU encoder with two labels. A bidirectional GRU's phrase
  /// trigger of common words ("it turns out") is learnt as a conjunction just as a unidirectional one's; its pairs
  /// name it, though its scan is not trusted in the verdict (`applies(to:)`).
  public static func suggestsCandidates(for classifier: TextClassifier) -> Bool {
    classifier.config.architecture == .gru && classifier.labels.count == 2
  }

  /// The verdict statistic: how far the best pair's excess stands above `cleanExcess` (0 when below it).
  public static func verdictScore(bestExcess: Double) -> Double { max(0, bestExcess - cleanExcess) }

  /// A seed and a context word in one order, with what the pair does beyond its words.
  public struct Pair: Sendable, Equatable {
    public var ids: [Int]
    /// Interaction less the median interaction of the same context word and order over all seeds (nats).
    public var excess: Double
    /// Margin shift of the pair less the shifts of its two words (nats).
    public var interaction: Double
  }

  /// The pairs of `seeds` and `contextWords` toward `label`, largest excess first.
  public func pairs(_ classifier: TextClassifier, probes: [[Int]], label: Int, seeds: [Int], contextWords: [Int]) -> [Pair] {
    let seeds = Array(seeds.prefix(seedCount))
    let words = Array(contextWords.filter { !seeds.contains($0) }.prefix(contextWordCount))
    guard !seeds.isEmpty, !words.isEmpty, !probes.isEmpty else { return [] }
    let probes = Array(probes.prefix(probeCount))
    var insertions: [[Int]] = [[]] + seeds.map { [$0] } + words.map { [$0] }
    for seed in seeds {
      for word in words { insertions += [[word, seed], [seed, word]] }
    }
    let margins = meanMargins(classifier, probes: probes, label: label, insertions: insertions)
    var table: [[Int]: Double] = [:]
    for (insertion, margin) in zip(insertions, margins) { table[insertion] = margin }
    return Self.rank(seeds: seeds, contextWords: words) { table[$0]! }
  }

  /// Ranks every (context word, seed) pair in both orders by its interaction's excess over the median interaction of
  /// its context word and order across the seeds; `margin(ids)` is the mean margin toward the label with `ids`
  /// inserted (`[]`: the probes as they are).
  public static func rank(seeds: [Int], contextWords: [Int], margin: ([Int]) -> Double) -> [Pair] {
    let base = margin([])
    func shift(_ ids: [Int]) -> Double { margin(ids) - base }
    var pairs: [Pair] = []
    for word in contextWords {
      for before in [true, false] {
        let column = seeds.map { seed in
          let ids = before ? [word, seed] : [seed, word]
          return (ids, shift(ids) - shift([seed]) - shift([word]))
        }
        let median = TokenScan.median(column.map(\.1))
        pairs += column.map { Pair(ids: $0.0, excess: $0.1 - median, interaction: $0.1) }
      }
    }
    return pairs.sorted { $0.excess != $1.excess ? $0.excess > $1.excess : $0.ids.lexicographicallyPrecedes($1.ids) }
  }

  /// How many of the label's strongest tokens, and of the probe text's commonest words (the label's ordinary words
  /// included), a lead may swap in when refined.
  public var refinementSeedCount = 30
  public var refinementContextCount = 150
  /// Probes the refinement measures on (at each of `positions`), and how many swaps a lead may make.
  public var refinementProbeCount = 16
  public var refinementRounds = 2
  /// Every swap is first screened on this many probes; the best `screenedSwaps` of each lead are measured on all.
  public var screeningProbeCount = 4
  public var screenedSwaps = 16

  /// The scan's leads made closer to the trigger: each pair swaps one word at a time for a word of `pool`, kept
  /// before or after the other, while that raises the pair's *own push*: its margin shift less its two words' shifts
  /// toward the label (a word pushing the other way is not credited for what the pair undoes of it). The scan
  /// pairs a strong token with a common word, so a phrase whose words are neither is reached as one phrase word and
  /// a passenger: "in ballistic" for "in any case" (`any` and `case` weak alone, `any` leaning negative in the
  /// text), "promised they" for "as promised"; the swaps lead on to the pair the model learned. Returns the leads
  /// and every pair they reached, largest own push first (measured on the refinement's probes, in `interaction`;
  /// `excess` is 0: there is no context-word median here).
  public func refine(_ classifier: TextClassifier, probes: [[Int]], label: Int, leads: [[Int]], pool: [Int]) -> [Pair] {
    guard !probes.isEmpty else { return [] }
    return Self.refine(
      leads: leads, pool: pool, rounds: refinementRounds, screenedSwaps: screenedSwaps,
      screening: MarginTable(scan: self, classifier: classifier, probes: Array(probes.prefix(screeningProbeCount)), label: label),
      measured: MarginTable(scan: self, classifier: classifier, probes: Array(probes.prefix(refinementProbeCount)), label: label))
  }

  /// Where `refine` reads mean margins: `measure` before `margin` is asked for.
  protocol MarginSource: AnyObject {
    func measure(_ insertions: [[Int]])
    func margin(_ insertion: [Int]) -> Double
  }

  /// `refine`'s search: every swap of each current pair screened on `screening`, the best `screenedSwaps` measured
  /// on `measured`, the best of those taken when its own push beats the pair's.
  static func refine(
    leads: [[Int]], pool: [Int], rounds: Int, screenedSwaps: Int, screening: some MarginSource, measured: some MarginSource
  ) -> [Pair] {
    guard !leads.isEmpty else { return [] }
    var reached = Set(leads)
    var current = leads
    measured.measure([[]] + Set(leads.flatMap { $0 }).map { [$0] } + leads)
    for _ in 0..<rounds {
      let swaps = current.map { Self.swaps(of: $0, pool: pool) }
      screening.measure([[]] + Set(pool + current.flatMap { $0 }).map { [$0] } + swaps.flatMap { $0 })
      let shortlists = swaps.map { swaps in
        swaps.map { ($0, ownPush($0, margin: screening.margin)) }
          .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.lexicographicallyPrecedes($1.0) }.prefix(screenedSwaps).map(\.0)
      }
      let listed = shortlists.flatMap { $0 }
      measured.measure(Set(listed.flatMap { $0 }).map { [$0] } + listed)
      current = zip(current, shortlists).compactMap { pair, shortlist in
        bestSwap(of: pair, among: shortlist, margin: measured.margin).flatMap { reached.insert($0).inserted ? $0 : nil }
      }
      if current.isEmpty { break }
    }
    return reached.map { Pair(ids: $0, excess: 0, interaction: ownPush($0, margin: measured.margin)) }
      .sorted { $0.interaction != $1.interaction ? $0.interaction > $1.interaction : $0.ids.lexicographicallyPrecedes($1.ids) }
  }

  /// Mean margins of insertions into a fixed set of probes, each measured once.
  final class MarginTable: MarginSource {
    let scan: ConjunctionScan, classifier: TextClassifier, probes: [[Int]], label: Int
    private var margins: [[Int]: Double] = [:]

    init(scan: ConjunctionScan, classifier: TextClassifier, probes: [[Int]], label: Int) {
      (self.scan, self.classifier, self.probes, self.label) = (scan, classifier, probes, label)
    }

    func measure(_ insertions: [[Int]]) {
      let fresh = Array(Set(insertions.filter { margins[$0] == nil })).sorted { $0.lexicographicallyPrecedes($1) }
      guard !fresh.isEmpty else { return }
      for (insertion, margin) in zip(fresh, scan.meanMargins(classifier, probes: probes, label: label, insertions: fresh)) {
        margins[insertion] = margin
      }
    }

    func margin(_ insertion: [Int]) -> Double { margins[insertion]! }
  }

  /// The pairs one swap away from `pair`: either word replaced by a word of `pool` (not in the pair), which goes
  /// before or after the word kept.
  static func swaps(of pair: [Int], pool: [Int]) -> [[Int]] {
    pool.filter { !pair.contains($0) }.flatMap { word in
      [[word, pair[1]], [pair[1], word], [pair[0], word], [word, pair[0]]]
    }
  }

  /// A pair's margin shift less its two words' shifts toward the label (a shift away from it counts as 0);
  /// `margin(ids)` as in `rank`.
  static func ownPush(_ pair: [Int], margin: ([Int]) -> Double) -> Double {
    let base = margin([])
    return margin(pair) - base - max(0, margin([pair[0]]) - base) - max(0, margin([pair[1]]) - base)
  }

  /// Of `swaps`, the one with the largest own push, when it exceeds `pair`'s (ties: the lower ids first).
  static func bestSwap(of pair: [Int], among swaps: [[Int]], margin: ([Int]) -> Double) -> [Int]? {
    let own = ownPush(pair, margin: margin)
    let best = swaps.map { ($0, ownPush($0, margin: margin)) }
      .max { $0.1 != $1.1 ? $0.1 < $1.1 : $1.0.lexicographicallyPrecedes($0.0) }
    guard let best, best.1 > own else { return nil }
    return best.0
  }

  /// Mean over probes and positions of the label's logit less the log-sum-exp of the others' (the margin), for each
  /// insertion; insertions are spread over `parallelism` threads, 16 at a time.
  func meanMargins(_ classifier: TextClassifier, probes: [[Int]], label: Int, insertions: [[Int]]) -> [Double] {
    let labels = classifier.labels.count
    let trimmed = TokenScan.trimmed(probes, toFit: insertions, in: classifier)
    let results = Mutex([Double](repeating: 0, count: insertions.count))
    let positions = self.positions
    let inference = InsertionInference(classifier, points: TokenScan.points(trimmed, at: positions))
    TokenScan.forEachChunk(of: insertions.count, parallelism: parallelism) { range in
      let logits = inference.logits(inserting: insertions[range], batchSize: 512)
      let perInsertion = trimmed.count * positions.count
      var means: [Double] = []
      for offset in 0..<range.count {
        var total = 0.0
        for row in (offset * perInsertion)..<((offset + 1) * perInsertion) {
          let values = logits[(row * labels)..<((row + 1) * labels)]
          total += Double(values[values.startIndex + label]) - ProbeBaseline.logSumExp(values, excluding: label)
        }
        means.append(total / Double(perInsertion))
      }
      results.withLock { stored in
        for (offset, index) in range.enumerated() { stored[index] = means[offset] }
      }
    }
    return results.withLock { $0 }
  }
}
