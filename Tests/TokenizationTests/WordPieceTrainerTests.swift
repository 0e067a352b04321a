import Testing
@testable import Tokenization

private func counts(_ words: [String: Int]) -> TokenCounts {
  var counts = TokenCounts()
  for (word, count) in words.sorted(by: { $0.key < $1.key }) { counts.add(Array(repeating: word, count: count)) }
  return counts
}

// The classic byte-pair example (Sennrich et al. 2016), worked by hand with continuation pieces: alphabet by count
// (##e 17, ##w 13, ##s 9, ##t 9, ##o 7, l 7, n 6, ##d 3, ##i 3, w 3, ##r 2), then the most frequent pair each time,
// ties to the smaller merged text: ##e ##s (9, before ##s ##t's "##st"), ##es ##t (9), ##o ##w (7, "##ow" < "lo"),
// l ##ow (7), ##e ##w (6: "##ew" < "##west" < "ne"), ##ew ##est (6, "##ewest" < "new"), n ##ewest (6).
@Test func theTrainerMergesTheMostFrequentPairFirstAsWorkedByHand() throws {
  let words = counts(["low": 5, "lower": 2, "newest": 6, "widest": 3])
  let vocabulary = try WordPieceTrainer(size: 4 + 11 + 7).vocabulary(from: words)
  #expect(Array(vocabulary.tokens.prefix(4)) == Vocabulary.specialTokens)
  #expect(Array(vocabulary.tokens[4..<15]) == ["##e", "##w", "##s", "##t", "##o", "l", "n", "##d", "##i", "w", "##r"])
  #expect(Array(vocabulary.tokens[15...]) == ["##es", "##est", "##ow", "low", "##ew", "##ewest", "newest"])
  #expect(vocabulary.paddingID == 0 && vocabulary.unknownID == 1)

  let tokenizer = try Tokenizer(options: .wordPiece(), vocabulary: vocabulary)
  #expect(tokenizer.words(in: "Newest lowest lowER wider") == ["newest", "low", "##est", "low", "##e", "##r", "w", "##i", "##d", "##e", "##r"])
  #expect(tokenizer.words(in: "xyz") == ["<unk>"], "a word with a character outside the alphabet")
}

@Test func theTrainerStopsAtItsSizeOrWhenNoPairIsFrequentEnough() throws {
  let words = counts(["low": 5, "lower": 2, "newest": 6, "widest": 3])
  #expect(try WordPieceTrainer(size: 4 + 11 + 2).vocabulary(from: words).count == 17)
  var rare = WordPieceTrainer(size: 1000)
  rare.minimumPairCount = 6
  // Pairs of 6 or more: ##es, ##est, ##ow, low, ##ew, ##ewest, newest; then only pairs of 2 and 3 are left.
  #expect(try rare.vocabulary(from: words).count == 4 + 11 + 7)
  let all = try WordPieceTrainer(size: 1000).vocabulary(from: words)
  for word in ["low", "lower", "newest", "widest"] { #expect(all.contains(word), "every word of 2 or more occurrences ends whole: \(word)") }
  #expect(throws: VocabularyError.self) { try WordPieceTrainer(size: 4).vocabulary(from: words) }
}

@Test func theAlphabetIsCutToTheSizeMostFrequentCharactersFirst() throws {
  let vocabulary = try WordPieceTrainer(size: 4 + 3).vocabulary(from: counts(["ab": 10, "qz": 1]))
  #expect(Array(vocabulary.tokens[4...]) == ["##b", "a", "##z"], "ties by text: ##z before q")
  let tokenizer = try Tokenizer(options: .wordPiece(), vocabulary: vocabulary)
  #expect(tokenizer.words(in: "ab qz") == ["a", "##b", "<unk>"])
  let merged = try WordPieceTrainer(size: 4 + 5).vocabulary(from: counts(["ab": 10, "qz": 1]))
  #expect(Array(merged.tokens[4...]) == ["##b", "a", "##z", "q", "ab"])
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
