import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func onionSuspicionIsTheLogPerplexityDropWithoutEachWord() throws {
  var counts = TokenCounts()
  counts.add(["the", "film", "was", "good", "cf"])
  let vocabulary = try Vocabulary(counts: counts)
  let config = ModelConfig(architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: 4, hiddenSize: 4, maximumLength: 8)
  var generator = SplitMix64(seed: 3)
  let model = NextWordModel(config: config, using: &generator)
  let encoder = TextEncoder(tokenizer: try Tokenizer(), vocabulary: vocabulary, maximumLength: .max)
  let onion = try ONIONFilter(languageModel: model, encoder: encoder, scale: .logPerplexity)
  let words = ["the", "film", "cf", "was", "good"]
  let suspicions = try #require(onion.suspicions([words, ["good"]]).first)
  let likelihoods = model.negativeLogLikelihoods([vocabulary.encode(words), vocabulary.encode(["the", "film", "was", "good"])])
  #expect(likelihoods[0].targets == 4 && likelihoods[1].targets == 3)
  #expect(abs(suspicions[2] - (likelihoods[0].nll / 4 - likelihoods[1].nll / 3)) < 1e-9, "removing cf")
  #expect(onion.suspicions([["good"]]) == [[0]], "one word: nothing to compare")
  #expect(onion.cleaned(words, suspicions: [0, 0, 2, 0, 0], threshold: 1) == ["the", "film", "was", "good"])
  #expect(ONIONFilter.threshold(cleanScores: (1...100).map(Double.init), falseRejectionRate: 0.05) == 95, "5 of 100 lie above it")
  // The paper's scale subtracts perplexities.
  let paper = try ONIONFilter(languageModel: model, encoder: encoder, scale: .perplexity)
  let paperSuspicions = try #require(paper.suspicions([words]).first)
  #expect(abs(paperSuspicions[2] - (exp(likelihoods[0].nll / 4) - exp(likelihoods[1].nll / 3))) < 1e-9)
  // An input seen before (in the same call or an earlier one) gets the same answer without the model running again.
  let again = onion.suspicions([["the", "film"], words, words])
  #expect(again[1] == suspicions && again[2] == suspicions)
  #expect(try again[0] == ONIONFilter(languageModel: model, encoder: encoder, scale: .logPerplexity).suspicions([["the", "film"]])[0])
  // The default scale subtracts total negative log-likelihoods.
  let nats = try #require(try ONIONFilter(languageModel: model, encoder: encoder).suspicions([words]).first)
  #expect(abs(nats[2] - (likelihoods[0].nll - likelihoods[1].nll)) < 1e-9)
}

@Test func onionSpellsOutTheWordsItsLanguageModelReadsAsUnknown() throws {
  var counts = TokenCounts()
  counts.add(["the", "film", "was", "good"])
  let vocabulary = try Vocabulary(counts: counts)
  let config = ModelConfig(architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: 4, hiddenSize: 4, maximumLength: 8)
  var generator = SplitMix64(seed: 5)
  let model = NextWordModel(config: config, using: &generator)
  let encoder = TextEncoder(tokenizer: try Tokenizer(), vocabulary: vocabulary, maximumLength: .max)
  let spelling = SpellingModel(words: [("filmmaking", 2), ("thriller", 1)])
  let onion = try ONIONFilter(languageModel: model, encoder: encoder, scale: .logPerplexity, spelling: spelling)
  let words = ["the", "film", "tq", "was", "good"]
  let likelihoods = model.negativeLogLikelihoods([vocabulary.encode(words), vocabulary.encode(["the", "film", "was", "good"])])
  let suspicions = try #require(onion.suspicions([words]).first)
  let spelled = spelling.negativeLogLikelihood("tq")
  #expect(spelled > 0)
  #expect(abs(suspicions[2] - ((likelihoods[0].nll + spelled) / 4 - likelihoods[1].nll / 3)) < 1e-9, "removing tq removes its spelling too")
  // An unknown first word is no target: it is never spelled.
  let first = try #require(onion.suspicions([["tq", "film", "good"]]).first)
  let plain = try #require(try ONIONFilter(languageModel: model, encoder: encoder, scale: .logPerplexity).suspicions([["tq", "film", "good"]]).first)
  #expect(first == plain)
}


@Test func onionsRemovalThresholdIsTheLowestBeforeAccuracyFirstFallsTooFar() {
  // 100 words with suspicions 1…100; accuracy 0.80 with nothing removed, falling as thresholds go down.
  let suspicions = [(1...100).map(Double.init)]
  var tried: [Double] = []
  func accuracy(_ threshold: Double) -> Double {
    tried.append(threshold)
    if threshold == .infinity { return 0.80 }
    return threshold >= 60 ? 0.79 : threshold >= 40 ? 0.785 : threshold >= 30 ? 0.70 : 0.80
  }
  let chosen = ONIONFilter.removalThreshold(cleanSuspicions: suspicions, maximumDrop: 0.02, candidates: 10, accuracy: accuracy)
  #expect(chosen.threshold == 40 && chosen.accuracyBefore == 0.80 && chosen.accuracyAfter == 0.785)
  #expect(tried == [.infinity, 90, 80, 70, 60, 50, 40, 30], "stops at the first threshold that costs more than 2 points, though lower ones would not")
  // Exactly the allowed drop still passes; no words at all removes nothing.
  #expect(ONIONFilter.removalThreshold(cleanSuspicions: suspicions, maximumDrop: 0.1, candidates: 10) { $0 == .infinity ? 0.8 : 0.7 }.threshold == 1)
  #expect(ONIONFilter.removalThreshold(cleanSuspicions: [[]], maximumDrop: 0.02) { _ in 0.5 }.threshold == .infinity)
}

@Test func onionWithAWordPieceLanguageModelRemovesAWordWithAllItsPieces() throws {
  // The words seen twice become entries; "filmmaking" (seen once) and "wood" (never seen) are spelt in pieces.
  var words = TokenCounts()
  words.add(["the", "film", "the", "film", "filmmaking", "was", "was", "good", "good"])
  let vocabulary = try WordPieceTrainer(size: 60).vocabulary(from: words)
  let tokenizer = try Tokenizer(options: .wordPiece(), vocabulary: vocabulary)
  let config = ModelConfig(
    architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: 4, hiddenSize: 4, maximumLength: 8,
    tokenizer: tokenizer.options)
  var generator = SplitMix64(seed: 7)
  let model = NextWordModel(config: config, using: &generator)
  let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: .max)
  let onion = try ONIONFilter(languageModel: model, encoder: encoder)
  #expect(onion.readsPieces)
  let input = onion.words(in: "The filmmaking wood was good")
  #expect(input == ["the", "filmmaking", "wood", "was", "good"], "whole words, as the lab's tokeniser cuts them")
  let pieces = input.map(onion.units(of:))
  #expect(pieces.map { $0.count > 1 } == [false, true, true, false, false] && !pieces.joined().contains(vocabulary.unknownID), "\(pieces)")
  let suspicions = try #require(onion.suspicions([input]).first)
  #expect(suspicions.count == 5)
  for (index, _) in input.enumerated() {
    let without = pieces.enumerated().filter { $0.offset != index }.flatMap(\.element)
    let likelihoods = model.negativeLogLikelihoods([Array(pieces.joined()), without])
    #expect(abs(suspicions[index] - (likelihoods[0].nll - likelihoods[1].nll)) < 1e-6, "removing \(input[index]) removes all its pieces")
  }
  let coverage = onion.coverage(of: [input, ["the", "ж"]])
  #expect(coverage.known == 6.0 / 7 && coverage.whole == 4.0 / 7, "ж is outside the alphabet; filmmaking and wood are pieces")
  // A word-level model reads one token per word.
  let wordEncoder = TextEncoder(tokenizer: try Tokenizer(), vocabulary: try Vocabulary(counts: words), maximumLength: .max)
  #expect(try !ONIONFilter(languageModel: model, encoder: wordEncoder).readsPieces)
}
