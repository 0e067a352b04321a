import Foundation
import Testing
import TestSupport
import Tokenization

private func counts(_ text: String) -> TokenCounts {
  var counts = TokenCounts()
  counts.add(text.split(separator: " ").map(String.init))
  return counts
}

@Test func idsFollowCountThenBytesAfterTheSpecials() throws {
  let vocabulary = try Vocabulary(counts: counts("b a c a b a d Z é"))
  #expect(vocabulary.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "Z", "c", "d", "é"])
  #expect(vocabulary.counts == [0, 0, 0, 0, 3, 2, 1, 1, 1, 1])
  #expect(vocabulary.id(of: "a") == 4)
  #expect(vocabulary.id(of: "never seen") == vocabulary.unknownID)
}

@Test func minCountMaxSizeAndForcedTokens() throws {
  let text = "a a a b b c c d e"
  #expect(try Vocabulary(counts: counts(text), minCount: 2).tokens.dropFirst(4) == ["a", "b", "c"])
  #expect(try Vocabulary(counts: counts(text), maxSize: 6).tokens.dropFirst(4) == ["a", "b"])
  // A forced token takes the place of the rarest counted one and keeps its real count.
  let forced = try Vocabulary(counts: counts(text), minCount: 2, maxSize: 7, forcedTokens: ["cf", "e"])
  #expect(forced.tokens.dropFirst(4) == ["a", "e", "cf"])
  #expect(forced.counts.dropFirst(4) == [3, 1, 0])
  #expect(throws: VocabularyError.self) { try Vocabulary(counts: counts(text), maxSize: 5, forcedTokens: ["x", "y"]) }
  #expect(throws: VocabularyError.self) { try Vocabulary(counts: counts(text), minCount: 0) }
}

@Test func encodeAndDecode() throws {
  let vocabulary = try Vocabulary(counts: counts("the film the plot"))
  let ids = vocabulary.encode(["the", "plot", "cf"])
  #expect(ids == [4, 6, 1])
  #expect(vocabulary.decode(ids) == ["the", "plot", "<unk>"])
}

@Test func saveAndLoadGiveIdenticalIds() throws {
  let vocabulary = try Vocabulary(counts: counts("東京 😀 don't the the 3.5 café"), forcedTokens: ["cf"])
  let path = try Fixtures.temporaryDirectory() + "/vocab.tsv"
  try vocabulary.save(to: path)
  let loaded = try Vocabulary.load(from: path)
  #expect(loaded == vocabulary)
  #expect(loaded.tokens.map(loaded.id(of:)) == Array(0..<vocabulary.count))
  #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\nthe\t2\n"))
}

@Test(arguments: [
  ("<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\nthe\n", 5, "expected 'token<TAB>count'"),
  ("<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\nthe\tmany\n", 5, "not a non-negative integer"),
  ("<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\nthe\t3\nthe\t2\n", 6, "duplicate token"),
  ("<unk>\t0\n<pad>\t0\n<bos>\t0\n<eos>\t0\n", 1, "must be <pad>"),
  ("<pad>\t0\n<unk>\t0\n", 3, "starts with the 4 specials"),
])
func malformedVocabularyFilesNameTheLine(text: String, line: Int, reason: String) {
  do {
    _ = try Vocabulary(serialized: text, source: "v.tsv")
    Issue.record("accepted a malformed vocabulary")
  } catch {
    #expect(error.description.hasPrefix("v.tsv:\(line): "), "\(error)")
    #expect(error.description.contains(reason), "\(error)")
  }
}

@Test func unsavableTokensAreRefused() throws {
  #expect(throws: VocabularyError.unsavableToken("a\tb")) { try Vocabulary(counts: TokenCounts(), forcedTokens: ["a\tb"]) }
}

@Test func aVocabularyWithWindowsLineEndingsReadsAsWithUnixOnes() throws {
  let unix = try Vocabulary(serialized: "<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\nfilm\t3\n", source: "v.tsv")
  let windows = try Vocabulary(serialized: "<pad>\t0\r\n<unk>\t0\r\n<bos>\t0\r\n<eos>\t0\r\nfilm\t3\r\n", source: "v.tsv")
  #expect(windows == unix && windows.id(of: "film") == 4)
  #expect(Vocabulary.lines(of: "a\r\nb\nc") == ["a", "b", "c"])
}
