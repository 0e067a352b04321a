import Tokenization

extension Vocabulary {
  /// Counts the tokens of `rows` (indices into `corpus.examples`) and builds a vocabulary from them.
  public static func build(
    from corpus: Corpus, rows: [Int], tokenizer: Tokenizer, minCount: Int = 2, maxSize: Int? = nil, forcedTokens: [String] = []
  ) throws(VocabularyError) -> Vocabulary {
    var counts = TokenCounts()
    for row in rows { counts.add(tokenizer.words(in: corpus.examples[row].text)) }
    return try Vocabulary(counts: counts, minCount: minCount, maxSize: maxSize, forcedTokens: forcedTokens)
  }
}
