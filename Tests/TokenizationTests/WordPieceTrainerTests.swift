import Foundation
import TestSupport
import Testing
@testable import Tokenization

private func counts(_ words: [String: Int]) -> TokenCounts {
  var counts = TokenCounts()
  for (word, count) in words.sorted(by: { $0.key < $1.key }) { counts.add(Array(repeating: word, count: count)) }
  return counts
}

// The classic byte-pair example (Sennrich et al. 2016), worked by hand with continuation pieces. Alphabet (ids in
// order): d e i l n o r s t w, then ##d ##e ##i ##o ##r ##s ##t ##w. Then the most frequent pair each time, ties to
// the pair of smaller ids: ##e ##s (9, before ##s ##t), ##es ##t (9), l ##o (7, before ##o ##w), lo ##w (7),
// n ##e (6, before ##e ##w and ##w ##est), ##w ##est (6, before ne ##w), ne ##west (6).
@Test func theTrainerMergesTheMostFrequentPairFirstAsWorkedByHand() throws {
  let words = counts(["low": 5, "lower": 2, "newest": 6, "widest": 3])
  let vocabulary = try WordPieceTrainer(size: 4 + 18 + 7).vocabulary(from: words)
  #expect(Array(vocabulary.tokens.prefix(4)) == Vocabulary.specialTokens)
  #expect(Array(vocabulary.tokens[4..<22]) == ["d", "e", "i", "l", "n", "o", "r", "s", "t", "w", "##d", "##e", "##i", "##o", "##r", "##s", "##t", "##w"])
  #expect(Array(vocabulary.tokens[22...]) == ["##es", "##est", "lo", "low", "ne", "##west", "newest"])
  #expect(vocabulary.paddingID == 0 && vocabulary.unknownID == 1)

  let tokenizer = try Tokenizer(options: .wordPiece(), vocabulary: vocabulary)
  #expect(tokenizer.words(in: "Newest lowest lowER wider") == ["newest", "low", "##est", "low", "##e", "##r", "w", "##i", "##d", "##e", "##r"])
  #expect(tokenizer.words(in: "xyz") == ["<unk>"], "a word with a character outside the alphabet")
}

@Test func theTrainerStopsAtItsSizeOrWhenNoPairIsFrequentEnough() throws {
  let words = counts(["low": 5, "lower": 2, "newest": 6, "widest": 3])
  #expect(try WordPieceTrainer(size: 4 + 18 + 2).vocabulary(from: words).count == 24)
  var rare = WordPieceTrainer(size: 1000)
  rare.minimumPairCount = 6
  // Pairs of 6 or more: ##es, ##est, lo, low, ne, ##west, newest; then only pairs of 2 and 3 are left.
  #expect(try rare.vocabulary(from: words).count == 4 + 18 + 7)
  let all = try WordPieceTrainer(size: 1000).vocabulary(from: words)
  for word in ["low", "lower", "newest", "widest"] { #expect(all.contains(word), "every word of 2 or more occurrences ends whole: \(word)") }
  #expect(throws: VocabularyError.self) { try WordPieceTrainer(size: 4).vocabulary(from: words) }
}

@Test func theAlphabetIsCutToTheSizeMostFrequentPiecesKept() throws {
  // Alphabet a b q z ##b ##z; occurrences a 10, ##b 10, q 1, ##z 1, b and z 0 (they never begin a word).
  let vocabulary = try WordPieceTrainer(size: 4 + 3).vocabulary(from: counts(["ab": 10, "qz": 1]))
  #expect(Array(vocabulary.tokens[4...]) == ["a", "q", "##b"], "ties to the older piece: q before ##z")
  let tokenizer = try Tokenizer(options: .wordPiece(), vocabulary: vocabulary)
  #expect(tokenizer.words(in: "ab qz") == ["a", "##b", "<unk>"])
  let merged = try WordPieceTrainer(size: 4 + 7).vocabulary(from: counts(["ab": 10, "qz": 1]))
  #expect(Array(merged.tokens[4...]) == ["a", "b", "q", "z", "##b", "##z", "ab"])
}

@Test func wordsAreCountedAsBERTsBasicTokenizerCutsThem() throws {
  let words = try WordPieceTrainer(size: 100).countWords(in: ["Hello, WORLD! Héllo", "it's   fine\tfine"])
  #expect(words.counts == ["hello": 2, ",": 1, "world": 1, "!": 1, "it": 1, "'": 1, "s": 1, "fine": 2])
  #expect(throws: TokenizationError.self) { try WordPieceTrainer(size: 100, options: TokenizerOptions()).countWords(in: ["a"]) }
}

@Test func theSameWordsGiveTheSameVocabularyWhateverTheirOrder() throws {
  let texts = ["the cat sat on the mat", "a dog sat on a log", "the catalogue of cats", "dogs and logs"]
  let trainer = WordPieceTrainer(size: 60)
  let forward = try trainer.vocabulary(from: trainer.countWords(in: texts))
  let backward = try trainer.vocabulary(from: trainer.countWords(in: texts.reversed()))
  #expect(forward.tokens == backward.tokens)
}

// Tests/Fixtures/tokenizers/make_wordpiece_trainer_fixture.py: the `tokenizers` package's WordPieceTrainer (0.23.3) on
// the first 3,000 labelled movie snippets. The same entries; the order differs only where equally frequent pairs are
// merged one after the other (the package numbers continuation characters as it meets them, the lab by code point).
@Test func theVocabularyHoldsTheTokenizersPackagesEntries() throws {
  let lines = try String(contentsOfFile: Fixtures.path("Corpora/sentiment/vader_movieReviewSnippets.tsv"), encoding: .utf8)
    .split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
  let texts = lines.filter { ["pos", "neg"].contains($0[0]) }.prefix(3000).map { String($0[2]) }
  let expected = try String(contentsOfFile: Fixtures.path("Tests/Fixtures/tokenizers/wordpiece_trainer_vocab.txt"), encoding: .utf8)
    .split(separator: "\n").map(String.init)
  let trainer = WordPieceTrainer(size: 1500)
  let learnt = try trainer.vocabulary(from: trainer.countWords(in: texts)).tokens
  #expect(learnt.count == expected.count)
  #expect(Set(learnt) == Set(expected), "\(Set(learnt).subtracting(expected)) \(Set(expected).subtracting(learnt))")
  func merges(_ tokens: [String]) -> [String] { tokens.filter { $0.replacingOccurrences(of: "##", with: "").unicodeScalars.count > 1 } }
  #expect(Array(merges(learnt).prefix(100)) == Array(merges(expected).prefix(100)), "the first 100 merges in the same order")
  #expect(Set(learnt).subtracting(merges(learnt)) == Set(expected).subtracting(merges(expected)), "the same alphabet and specials")
}
