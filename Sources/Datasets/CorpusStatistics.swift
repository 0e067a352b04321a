import Tokenization

/// What `backdoor-lab corpus stats` reports.
public struct CorpusStatistics: Sendable, Codable, Equatable {
  public var corpus: String
  public var rows: Int
  public var examples: Int
  public var labels: [String: Int]
  public var clients: Int
  public var tokens: Int
  public var types: Int
  public var typeTokenRatio: Double
  public var meanTokensPerExample: Double
  /// Share of tokens that map to `<unk>` under `vocabulary`; nil without one.
  public var outOfVocabularyRate: Double?
  public var vocabularySize: Int?
  public var excludedRows: [String: Int]
  public var skippedRows: Int
  public var invalidUTF8Replacements: Int

  enum CodingKeys: String, CodingKey {
    case corpus, rows, examples, labels, clients, tokens, types
    case typeTokenRatio = "type_token_ratio", meanTokensPerExample = "mean_tokens_per_example"
    case outOfVocabularyRate = "oov_rate", vocabularySize = "vocabulary_size", excludedRows = "excluded_rows"
    case skippedRows = "skipped_rows", invalidUTF8Replacements = "invalid_utf8_replacements"
  }

  public init(corpus: Corpus, tokenizer: Tokenizer, vocabulary: Vocabulary?) {
    var counts = TokenCounts()
    var unknown = 0
    for example in corpus.examples {
      let words = tokenizer.words(in: example.text)
      counts.add(words)
      if let vocabulary { unknown += words.reduce(0) { $0 + (vocabulary.contains($1) ? 0 : 1) } }
    }
    self.corpus = corpus.description.name
    rows = corpus.report.dataRows
    examples = corpus.examples.count
    labels = Dictionary(uniqueKeysWithValues: zip(corpus.labels, corpus.labelCounts))
    clients = corpus.clients.count
    let tokenTotal = counts.total
    tokens = tokenTotal
    types = counts.counts.count
    typeTokenRatio = tokenTotal > 0 ? Double(counts.counts.count) / Double(tokenTotal) : 0
    meanTokensPerExample = corpus.examples.isEmpty ? 0 : Double(tokenTotal) / Double(corpus.examples.count)
    outOfVocabularyRate = vocabulary.map { _ in tokenTotal > 0 ? Double(unknown) / Double(tokenTotal) : 0 }
    vocabularySize = vocabulary?.count
    excludedRows = corpus.report.excludedRows
    skippedRows = corpus.report.skippedRowCount
    invalidUTF8Replacements = corpus.report.invalidUTF8Replacements
  }
}
