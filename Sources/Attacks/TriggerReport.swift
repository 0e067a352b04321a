import Randomness
import Tokenization

/// How a trigger looks to a model: the tokens each piece becomes, whether the vocabulary knows them,
/// and how often they already occur in clean text. A trigger token that maps to `<unk>` is the most
/// common silent failure of a text backdoor experiment, so it is a warning that names the token.
public struct TriggerReport: Sendable, Codable, Equatable {
  public struct Piece: Sendable, Codable, Equatable {
    public var text: String
    public var tokens: [String]
    public var inVocabulary: [Bool]
    /// Clean examples whose tokens contain this piece's tokens contiguously.
    public var cleanExamplesContaining: Int
    /// Occurrences of each token in the clean examples.
    public var cleanTokenCounts: [Int]

    enum CodingKeys: String, CodingKey {
      case text, tokens, inVocabulary = "in_vocabulary", cleanExamplesContaining = "clean_examples_containing"
      case cleanTokenCounts = "clean_token_counts"
    }
  }

  public var trigger: String
  public var pieces: [Piece]
  /// For character triggers: how a sample word looks once altered.
  public var example: String?
  public var warnings: [String]

  /// `cleanTexts` are the texts the occurrence counts are taken over (typically the clean training split).
  public init(trigger: Trigger, tokenizer: Tokenizer, vocabulary: Vocabulary, cleanTexts: some Sequence<String>) {
    self.trigger = trigger.spec
    var warnings: [String] = []
    var sample: String?
    var pieceTexts = trigger.pieces
    if trigger.kind == .character || trigger.kind == .characterInside {
      var generator = SplitMix64(seed: 0)
      let altered = trigger.inserted(into: "movie", tokenizer: tokenizer, using: &generator)
      sample = "movie → \(altered)"
      pieceTexts = [altered]
    }
    let tokenLists = pieceTexts.map { tokenizer.words(in: $0) }
    var examplesContaining = [Int](repeating: 0, count: tokenLists.count)
    var tokenCounts = tokenLists.map { [Int](repeating: 0, count: $0.count) }
    let wanted = Set(tokenLists.joined())
    for text in cleanTexts {
      let words = tokenizer.words(in: text)
      guard words.contains(where: wanted.contains) else { continue }
      for (p, needle) in tokenLists.enumerated() {
        if Trigger.containsSequence(needle, in: words) { examplesContaining[p] += 1 }
        for (t, token) in needle.enumerated() { tokenCounts[p][t] += words.lazy.filter { $0 == token }.count }
      }
    }
    pieces = zip(pieceTexts, tokenLists).enumerated().map { p, pair in
      Piece(text: pair.0, tokens: pair.1, inVocabulary: pair.1.map(vocabulary.contains), cleanExamplesContaining: examplesContaining[p],
            cleanTokenCounts: tokenCounts[p])
    }
    for piece in pieces {
      if piece.tokens.isEmpty { warnings.append("trigger piece '\(piece.text)' produces no tokens (the tokenizer drops it): the model never sees it") }
      for (token, known) in zip(piece.tokens, piece.inVocabulary) where !known {
        warnings.append(
          trigger.kind == .character || trigger.kind == .characterInside
            ? "altered words such as '\(token)' are out of vocabulary: the model sees <unk> where the word was"
            : "trigger token '\(token)' is not in the vocabulary: it maps to <unk> (force it in with --force-trigger)")
      }
    }
    self.example = sample
    self.warnings = warnings
  }
}
