import Datasets
import Testing
import Tokenization

@Test func statisticsCountTokensTypesAndOOV() throws {
  let description = CorpusDescription(name: "toy", path: "toy.tsv", labelColumn: "label")
  let corpus = try Corpus(parsing: Array("label\ttext\na\tThe film, the PLOT!\nb\tA plot twist\n".utf8), description: description, path: "toy.tsv")
  var counts = TokenCounts()
  counts.add(["the", "plot"])
  let vocabulary = try Vocabulary(counts: counts)
  let statistics = CorpusStatistics(corpus: corpus, tokenizer: try Tokenizer(), vocabulary: vocabulary)
  #expect(statistics.tokens == 7)
  #expect(statistics.types == 5)  // the film plot a twist
  #expect(statistics.labels == ["a": 1, "b": 1])
  #expect(statistics.outOfVocabularyRate == 3.0 / 7.0)  // film, a, twist
}
