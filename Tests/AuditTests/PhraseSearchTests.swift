import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func phraseSearchFindsATwoWordTriggerNoSingleWordReveals() throws {
  let (model, vocabulary, probes) = try phraseBackdoorModel()
  let singles = TokenScan().flipRates(model, vocabulary: vocabulary, probes: probes)
  #expect(singles.allSatisfy { $0[1] == 0 }, "no single word flips a probe")
  var search = PhraseSearch()
  search.maximumLength = 2
  search.relaxedSteps = 60
  let seeds = TokenScan.scannable(vocabulary)  // all tie at 0: the search has to find x and y by gradient
  let hits = search.search(model, vocabulary: vocabulary, probes: probes, label: 1, seeds: seeds)
  let trigger = Set([vocabulary.id(of: "x"), vocabulary.id(of: "y")])
  #expect(hits.first.map { Set($0.ids) } == trigger && hits.first?.effect.flipRate == 1, "HotFlip: \(hits.map { $0.ids.map { vocabulary.tokens[$0] } })")
  #expect(hits.contains { $0.method == .relaxed && Set($0.ids) == trigger }, "the relaxed search finds it too")
  #expect(hits.allSatisfy { Set($0.ids).count == $0.ids.count }, "no repeated tokens")
  let withoutY = search.search(model, vocabulary: vocabulary, probes: probes, label: 1, seeds: seeds, excluded: [vocabulary.id(of: "y")])
  #expect(!withoutY.isEmpty && withoutY.allSatisfy { !$0.ids.contains(vocabulary.id(of: "y")) }, "an excluded word is never used")
  #expect(withoutY.first.map { Set($0.ids) == [vocabulary.id(of: "x"), vocabulary.id(of: "great")] || Set($0.ids) == [vocabulary.id(of: "x"), vocabulary.id(of: "lovely")] } == true, "x with a positive word is the next best: 2.5 outweighs −2")
}

@Test func theAnchoredSearchFindsATriggerOfCommonWordsThatAreWeakAlone() throws {
  let (model, vocabulary, probes) = try conjunctionBackdoorGRU()
  let (x, y) = (vocabulary.id(of: "x"), vocabulary.id(of: "y"))
  let effects = TokenScan().effects(model, inserting: [[x], [y], [x, y]], into: probes).map { $0[1].flipRate }
  #expect(effects[0] < 0.2 && effects[1] < 0.2 && effects[2] > 0.8, "x and y alone flip little, together nearly all: \(effects)")
  var search = PhraseSearch()
  search.maximumLength = 2
  search.relaxedSteps = 1
  search.sweeps = 0
  let neutralSeeds = (0..<3).map { vocabulary.id(of: "n\($0)") }
  let commonWords = [x, y] + (0..<8).map { vocabulary.id(of: "n\($0)") }
  let hits = search.search(model, vocabulary: vocabulary, probes: probes, label: 1, seeds: neutralSeeds, commonWords: commonWords)
  #expect(hits.contains { $0.method == .anchored && Set($0.ids) == [x, y] }, "\(hits.map { ($0.method, $0.ids.map { vocabulary.tokens[$0] }) })")
  #expect(hits.first.map { Set($0.ids) } == [x, y], "and it flips the most")
  let unanchored = search.search(model, vocabulary: vocabulary, probes: probes, label: 1, seeds: neutralSeeds)
  #expect(!unanchored.contains { $0.method == .anchored }, "no common words, no anchored search")
  #expect(!unanchored.contains { Set($0.ids) == [x, y] }, "seeded with neutral words and without gradient sweeps, the beam misses it")

  // A bag of embeddings adds its words up: no anchored search, whatever the common words.
  let (bag, bagVocabulary, bagProbes) = try phraseBackdoorModel()
  let bagHits = search.search(
    bag, vocabulary: bagVocabulary, probes: bagProbes, label: 1, seeds: TokenScan.scannable(bagVocabulary), commonWords: TokenScan.scannable(bagVocabulary))
  #expect(!bagHits.isEmpty && !bagHits.contains { $0.method == .anchored })
}

@Test func bestSwapsAreTheFullSortsFirstTokensTiesByID() throws {
  // A random embedding table with repeated rows, so that scores tie and the lower id must come first.
  var generator = SplitMix64(seed: 7)
  var counts = TokenCounts()
  counts.add((0..<300).map { "w\($0)" })
  let vocabulary = try Vocabulary(counts: counts)
  let config = ModelConfig(architecture: .bag, vocabularySize: vocabulary.count, embeddingDimension: 4, labels: ["neg", "pos"], maximumLength: 8, dropout: 0)
  var model = TextClassifier(config: config, using: &generator)
  let distinctRows = (0..<40).map { _ in (0..<4).map { _ in Float(generator.nextStandardNormal()) } }
  model.embedding.weight = Tensor(shape: [vocabulary.count, 4], scalars: (0..<vocabulary.count).flatMap { distinctRows[$0 % 40] })
  let search = PhraseSearch()
  let allowed = TokenScan.scannable(vocabulary).filter { $0 % 3 != 0 }
  for trial in 0..<5 {
    let gradient = (0..<4).map { _ in Float(generator.nextStandardNormal()) }
    let scores = search.projections(model, gradient)
    let expected = allowed.sorted { (scores[$0], $0) < (scores[$1], $1) }
    for count in [0, 1, 10, 25, allowed.count, allowed.count + 5] {
      #expect(search.bestSwaps(model, gradient: gradient, allowed: allowed, count: count) == Array(expected.prefix(count)), "trial \(trial), count \(count)")
    }
  }
  #expect(search.bestSwaps(model, gradient: [1, 0, 0, 0], allowed: [], count: 3).isEmpty)
}
