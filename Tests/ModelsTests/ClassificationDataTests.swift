import Datasets
import Foundation
import Models
import TestSupport
import Testing
import Tokenization

@Test func aLabelTheModelDoesNotKnowIsNamedAtItsLineOrSkippedAndCounted() throws {
  let path = try Fixtures.temporaryDirectory() + "/labels.tsv"
  try "label\ttext\npos\ta great film\nneg\tan awful film\nmaybe\ta film\npos\tgreat\nmaybe\tfilm\n".write(toFile: path, atomically: true, encoding: .utf8)
  let corpus = try Corpus(reading: CorpusDescription(name: "labels", path: path, labelColumn: "label"), from: path)
  var counts = TokenCounts()
  counts.add(["a", "great", "film", "an", "awful"])
  let vocabulary = try Vocabulary(counts: counts)
  let encoder = TextEncoder(tokenizer: try Tokenizer(), vocabulary: vocabulary, maximumLength: 8)
  let all = DataSplit(train: [], dev: [], test: Array(corpus.examples.indices))
  do {
    _ = try ClassificationData(corpus: corpus, split: all, encoder: encoder, labels: ["neg", "pos"])
    Issue.record("an unknown label was accepted")
  } catch {
    #expect("\(error)".contains("\(path):4") && "\(error)".contains("label 'maybe'"), "\(error)")
  }
  let skipping = try ClassificationData(corpus: corpus, split: all, encoder: encoder, labels: ["neg", "pos"], unknownLabels: .skip)
  #expect(skipping.skippedRows == 2 && skipping.test.map(\.label) == [1, 0, 1])
}
