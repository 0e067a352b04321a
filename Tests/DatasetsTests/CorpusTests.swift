import Datasets
import Foundation
import Testing
import TestSupport

private let labelled = CorpusDescription(name: "toy", path: "toy.tsv", labelColumn: "label", labels: ["neg", "pos"], excludedLabels: ["neu": "binary task"])

private func parse(_ text: String, _ description: CorpusDescription = labelled, badRows: BadRowPolicy = .fail) throws(CorpusError) -> Corpus {
  try Corpus(parsing: Array(text.utf8), description: description, path: "toy.tsv", badRows: badRows)
}

@Test func readsRowsLabelsAndClients() throws {
  let description = CorpusDescription(name: "toy", path: "toy.tsv", labelColumn: "label", clientColumn: "who")
  let corpus = try parse("who\tlabel\ttext\nann\tb\tgood film\nbob\ta\tbad plot\r\nann\tb\tfine\n", description)
  #expect(corpus.examples.map(\.text) == ["good film", "bad plot", "fine"])
  #expect(corpus.labels == ["a", "b"])  // discovered labels get ids in byte order
  #expect(corpus.examples.map(\.label) == [1, 0, 1])
  #expect(corpus.clients == ["ann", "bob"])
  #expect(corpus.examples.map(\.client) == [0, 1, 0])
  #expect(corpus.examples.map(\.line) == [2, 3, 4])
}

@Test func neutralRowsAreExcludedAndCounted() throws {
  let corpus = try parse("label\ttext\npos\tgreat\nneu\tit exists\nneg\tawful\nneu\tok\n")
  #expect(corpus.examples.count == 2)
  #expect(corpus.report.excludedRows == ["neu": 2])
  #expect(corpus.labelCounts == [1, 1])
}

@Test(arguments: [
  ("label\ttext\npos\tgreat\nneg\n", 3, "expected 2 tab-separated fields, found 1"),
  ("label\ttext\npos\tgreat\nneg\t  \n", 3, "empty text"),
  ("label\ttext\npos\tgreat\nmeh\tokay\n", 3, "unknown label 'meh'"),
  ("label\ttext\n\tgreat\n", 2, "empty label"),
  ("label\ttext\npos\tgreat\tagain\n", 2, "found 3"),
])
func badRowsAreErrorsNamingFileAndLine(text: String, line: Int, reason: String) {
  do {
    _ = try parse(text)
    Issue.record("accepted a bad row")
  } catch {
    #expect(error.description.hasPrefix("toy.tsv:\(line): "), "\(error)")
    #expect(error.description.contains(reason), "\(error)")
  }
}

@Test func badRowsCanBeSkippedAndCounted() throws {
  let corpus = try parse("label\ttext\npos\tgreat\nneg\nmeh\tokay\nneg\tawful\n", badRows: .skip)
  #expect(corpus.examples.map(\.text) == ["great", "awful"])
  #expect(corpus.report.skippedRowCount == 2)
  #expect(corpus.report.skippedRows.map(\.line) == [3, 4])
}

@Test func missingColumnsAndEmptyFilesAreErrors() {
  #expect(throws: CorpusError.missingColumn(path: "toy.tsv", column: "label", header: ["sentiment", "text"])) {
    try parse("sentiment\ttext\npos\tgreat\n")
  }
  #expect(throws: CorpusError.empty(path: "toy.tsv")) { try parse("") }
  #expect(throws: CorpusError.empty(path: "toy.tsv")) { try parse("label\ttext\nneu\tonly neutral\n") }
}

@Test func invalidUTF8IsReplacedCountedAndLocated() throws {
  var bytes = Array("label\ttext\npos\tgood\nneg\tba".utf8)
  bytes += [0xFF, 0xFE]
  bytes += Array("d\n".utf8)
  let corpus = try Corpus(parsing: bytes, description: labelled, path: "toy.tsv")
  #expect(corpus.examples[1].text == "ba\u{FFFD}\u{FFFD}d")
  #expect(corpus.report.invalidUTF8Replacements == 2)
  #expect(corpus.report.invalidUTF8Lines.first == 3)
}

@Test func unreadableFilesAreErrorsNamingThePath() {
  #expect(throws: CorpusError.self) { try Corpus(reading: labelled, from: "/nonexistent/toy.tsv") }
}

@Test func shippedCorporaReadWithTheirDocumentedCounts() throws {
  let home = LabHome(root: Fixtures.packageRoot)
  let sentiment = try home.load("sentiment")
  #expect(sentiment.examples.count == 10_568)
  #expect(sentiment.report.excludedRows == ["neu": 37])
  #expect(sentiment.labels == ["neg", "pos"])
  #expect(sentiment.labelCounts == [5_326, 5_242])
  let tweets = try home.load("tweets")
  #expect(tweets.examples.count == 4_196)
  let trec = try home.load("trec")
  #expect(trec.labelCounts == [86, 1_153, 1_245, 1_215, 824, 859])
  let spam = try home.load("spam")
  #expect(spam.labelCounts == [4_199, 638])
  let shakespeare = try home.load("shakespeare")
  #expect(shakespeare.examples.count == 103_992)
  #expect(shakespeare.clients.count == 1_426)
  #expect(shakespeare.labels.isEmpty)
  let english = try home.load("english")
  #expect(english.examples.count == 285_056)
  #expect(english.labels.isEmpty && english.clients.isEmpty)
  #expect(throws: CorpusError.unknownCorpus("sentimental")) { try home.load("sentimental") }
}

@Test func aByteOrderMarkIsNotPartOfTheFirstColumnAndAColumnGivenTwiceIsRefused() throws {
  let description = CorpusDescription(name: "t", path: "t.tsv", labelColumn: "label")
  let withMark = try Corpus(parsing: [0xEF, 0xBB, 0xBF] + Array("label\ttext\npos\ta good film\n".utf8), description: description, path: "t.tsv")
  #expect(withMark.labels == ["pos"] && withMark.examples.map(\.text) == ["a good film"])
  #expect(throws: CorpusError.badRow(path: "t.tsv", line: 1, reason: "column 'label' appears 2 times in the header; which one to read is unclear")) {
    try Corpus(parsing: Array("label\ttext\tlabel\npos\ta\tneg\n".utf8), description: description, path: "t.tsv")
  }
}
