import Models

/// The best pair of words taken from two different candidates at the head of a label's list.
///
/// A phrase trigger learnt mostly through one word ("course" of "of course") leaves its other word weak alone, so
/// the phrase search pairs the strong word with passengers and finds the other word with something else: the list
/// reads "course | of tv | tv" or "news | good slo | 1000". Among the ordered pairs of words drawn from two different
/// listed candidates, the one that moves the label's margin most is the phrase itself in all six such lists of the
/// audit zoo where both words were listed apart ("of course" 6.22 nats against "course tv" 5.34 and "course" alone
/// 5.11): the word the model learnt to read before the trigger's strong word adds more to it than any other listed
/// word, though it pushes little or even the other way alone (`of` −0.26). Own push (the pair's shift beyond its
/// words' shifts) does not pick it: it favours a weak word next to a moderately strong one.
public struct CandidateRecombination: Sendable {
  /// How many candidates from the head of the list lend their words.
  public var candidateCount = 5
  /// Probes the margins are measured on, at each of `positions`.
  public var probeCount = 48
  public var positions: [TokenScan.Position] = [.start, .end]
  public var parallelism = 2

  public init() {}

  /// The ordered pairs of distinct words from two different candidates of `candidates` (token ids, best first; only
  /// the first `candidateCount` count), leaving out words already listed together in one candidate.
  public func pairs(from candidates: [[Int]]) -> [[Int]] {
    let listed = Array(candidates.prefix(candidateCount))
    var pairs = Set<[Int]>()
    for (i, first) in listed.enumerated() {
      for (j, second) in listed.enumerated() where i != j {
        for a in first {
          for b in second where a != b && !listed.contains(where: { $0.contains(a) && $0.contains(b) }) { pairs.insert([a, b]) }
        }
      }
    }
    return pairs.sorted { $0.lexicographicallyPrecedes($1) }
  }

  /// The pair of `pairs(from: candidates)` with the largest mean margin toward `label`, when that margin exceeds both
  /// of its words' alone; nil when there is none (ties: the lower ids first).
  public func bestPair(_ classifier: TextClassifier, probes: [[Int]], label: Int, candidates: [[Int]]) -> [Int]? {
    let pairs = pairs(from: candidates)
    guard !pairs.isEmpty, !probes.isEmpty else { return nil }
    var scan = ConjunctionScan()
    scan.positions = positions
    scan.parallelism = parallelism
    let words = Set(pairs.flatMap { $0 }).sorted()
    let insertions = words.map { [$0] } + pairs
    let margins = scan.meanMargins(classifier, probes: Array(probes.prefix(probeCount)), label: label, insertions: insertions)
    var table: [[Int]: Double] = [:]
    for (insertion, margin) in zip(insertions, margins) { table[insertion] = margin }
    return Self.best(pairs, margin: { table[$0]! })
  }

  /// Of `pairs`, the one with the largest `margin`, when it exceeds the margin of each of its words alone.
  static func best(_ pairs: [[Int]], margin: ([Int]) -> Double) -> [Int]? {
    let best = pairs.max { margin($0) != margin($1) ? margin($0) < margin($1) : $1.lexicographicallyPrecedes($0) }
    guard let best, margin(best) > max(margin([best[0]]), margin([best[1]])) else { return nil }
    return best
  }
}
