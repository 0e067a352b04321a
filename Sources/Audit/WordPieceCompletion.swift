import Models
import Tokenization

/// Makes whole words of a WordPiece model's candidates. A trigger word the vocabulary lacks is several pieces
/// (`cromulent` → `cr ##om ##ul ##ent`), and the scans find parts of it: a piece that continues a word it lacks
/// (`##ent`), or the word's first pieces (`cr ##om ##ul`).
/// - Joining: a candidate that starts a word, followed by a listed one that starts with a continuation piece and is not
///   in it already (`cromul` + `##ent`), kept when together they flip at least as many probes as either alone; joined
///   candidates are joined again, for up to `maximumSteps` rounds.
/// - Leftward (done first): a candidate that still starts with a continuation piece gets the piece before it that adds most to
///   what the two do alone (flip rate together less the larger of the two alone: the pieces of a planted word were
///   learnt together, while a strong word of the label only brings its own effect), until a word-starting piece is
///   reached (no text holds a word that starts with `##`). Each step screens every piece at the middle of the first
///   `screeningProbes` probes and measures the best `shortlist` in full.
/// Nothing is added to the right of a word: with no dictionary to say where a word ends, pieces chosen for their
/// effect alone spell nonsense that outdoes the trigger (`cromomomom`).
public struct WordPieceCompletion: Sendable {
  public var screeningProbes = 24
  public var shortlist = 8
  /// Pieces added leftward to one candidate; rounds of joining.
  public var maximumSteps = 6
  public var parallelism = 1

  public init() {}

  /// Whole-word forms of `candidates` (token ids, best first), each with its flip rate toward `label`; those that
  /// are already whole words and join nothing are left out.
  public func complete(_ candidates: [[Int]], label: Int, context: AuditContext) -> [[Int]] {
    guard let tokenizer = context.tokenizer, tokenizer.options.kind == .wordpiece else { return [] }
    let prefix = tokenizer.options.continuationPrefix
    let vocabulary = context.vocabulary
    func continues(_ id: Int) -> Bool { vocabulary.tokens[id].hasPrefix(prefix) && vocabulary.tokens[id].count > prefix.count }
    func endsWord(_ id: Int) -> Bool { vocabulary.tokens[id].allSatisfy(\.isPunctuation) }
    var full = context.tokenScan
    full.parallelism = parallelism
    func flipRates(_ sequences: [[Int]]) -> [Double] {
      full.effects(context.classifier, inserting: sequences, into: context.probes).map { $0[label].flipRate }
    }

    let candidates = candidates.filter { !$0.isEmpty }
    var results: [[Int]] = []
    // Leftward to a word start: never punctuation, which BERT's tokenisation always leaves alone.
    var screening = full
    screening.positions = [.middle]
    let screeningProbes = Array(context.probes.prefix(screeningProbes))
    let starts = TokenScan.scannable(vocabulary).filter { !endsWord($0) }
    let leftward = candidates.filter { continues($0[0]) }
    let screenedAlone = leftward.isEmpty ? [:] : Dictionary(
      uniqueKeysWithValues: zip(starts, screening.effects(context.classifier, inserting: starts.map { [$0] }, into: screeningProbes).map { $0[label].flipRate }))
    for candidate in leftward {
      var current = candidate
      for _ in 0..<maximumSteps where continues(current[0]) {
        let options = starts.filter { !current.contains($0) }  // no piece twice
        let sequences = options.map { [$0] + current }
        let together = screening.effects(context.classifier, inserting: sequences + [current], into: screeningProbes).map { $0[label].flipRate }
        let currentAlone = together.last!
        let gain = sequences.indices.map { together[$0] - max(screenedAlone[options[$0]]!, currentAlone) }
        let order = sequences.indices.sorted { (-gain[$0], $0) < (-gain[$1], $1) }.prefix(shortlist)
        let measured = flipRates(order.map { sequences[$0] } + order.map { [options[$0]] } + [current])
        let count = order.count
        let fullGain = (0..<count).map { measured[$0] - max(measured[count + $0], measured[2 * count]) }
        current = sequences[order[order.startIndex + fullGain.indices.max { (fullGain[$0], -$0) < (fullGain[$1], -$1) }!]]
      }
      if !continues(current[0]) { results.append(current) }
    }
    // Joining: word starts (listed or just made) followed by listed continuations, round after round.
    let continuations = candidates.filter { continues($0[0]) }
    var known = Dictionary(zip(candidates + results, flipRates(candidates + results)), uniquingKeysWith: { a, _ in a })
    var frontier = (candidates + results).filter { !continues($0[0]) && !endsWord($0.last!) }
    for _ in 0..<maximumSteps {
      let joined = frontier.flatMap { first in
        continuations.filter { part in !first.contains(part) && known[first + part] == nil }.map { (first, $0, first + $0) }
      }
      guard !joined.isEmpty else { break }
      let rates = flipRates(joined.map(\.2))
      frontier = []
      for ((first, part, both), rate) in zip(joined, rates) where known[both] == nil {
        known[both] = rate
        if rate >= max(known[first] ?? 0, known[part] ?? 0) {
          results.append(both)
          frontier.append(both)
        }
      }
    }
    var seen = Set<[Int]>()
    return results.filter { seen.insert($0).inserted }
  }
}

/// For a WordPiece model, the suspected target's best candidates joined and made whole words (`WordPieceCompletion`),
/// each listed where its flip rate puts it.
public struct WordCompletionStage: AuditStage {
  public var name: AuditStageName { .wordCompletion }
  public var scope: AuditStageScope { .finalCandidates }
  /// How many of the label's best candidates are completed and joined.
  public var candidates = 5
  public init() {}

  public func applies(to context: AuditContext) -> Bool { context.tokenizer?.options.kind == .wordpiece }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    guard let label else { return }
    var completion = WordPieceCompletion()
    completion.parallelism = context.settings.parallelism
    let best = state.candidates[label].filter { !$0.ordinary }.prefix(candidates).map { $0.tokens.map(context.vocabulary.id(of:)) }
    // Best first, so that among equal flip rates the larger log-probability shift is listed first (`place` puts a
    // candidate after those it does not outdo).
    let completed = completion.complete(best, label: label, context: context)
      .filter { whole in !state.candidates[label].contains { $0.tokens == whole.map { context.vocabulary.tokens[$0] } } }
      .map { context.candidate($0, label: label, scanned: state.scan, source: .wholeWord) }
      .sorted { ($0.flipRate, $0.logProbabilityShift) > ($1.flipRate, $1.logProbabilityShift) }
    for candidate in completed { state.candidates.insert(candidate, label: label) }
  }
}
