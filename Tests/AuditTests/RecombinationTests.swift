import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func recombinationPairsWordsOfTwoListedCandidatesAndKeepsTheOneThatMovesTheMarginMost() throws {
  var recombination = CandidateRecombination()
  let pairs = recombination.pairs(from: [[1], [2, 3], [4], [1]])
  #expect(pairs.count == 10, "ordered pairs across candidates, none of two words already listed together: \(pairs)")
  #expect(!pairs.contains([2, 3]) && !pairs.contains([3, 2]) && !pairs.contains([1, 1]) && pairs.contains([3, 1]))
  recombination.candidateCount = 2
  #expect(recombination.pairs(from: [[1], [2], [3]]) == [[1, 2], [2, 1]], "only the head of the list lends words")
  #expect(recombination.pairs(from: [[1, 2]]).isEmpty)

  // The hand-set bag's mean pos margin with insertion I is 2 · positivity(I) / (7 + |I|): "great lovely" (4/9)
  // moves it beyond either word alone (2/8); "cf great" (26/9) stays below "cf" alone (24/8).
  let (model, vocabulary, probes) = try handSetModel(backdoored: true)
  let ids = { (words: [String]) in words.map(vocabulary.id(of:)) }
  let pos = model.labels.firstIndex(of: "pos")!
  let full = CandidateRecombination()
  let best = try #require(full.bestPair(model, probes: probes, label: pos, candidates: [ids(["great"]), ids(["the", "film"]), ids(["lovely"])]))
  #expect(Set(best) == Set(ids(["great", "lovely"])) && best == [best.min()!, best.max()!], "a bag reads both orders alike: the lower ids first")
  #expect(full.bestPair(model, probes: probes, label: pos, candidates: [ids(["cf"]), ids(["great"])]) == nil, "no pair beats cf alone")
  #expect(CandidateRecombination.best([[1, 2], [2, 1]], margin: { $0 == [2, 1] ? 3 : $0.count == 2 ? 2 : 1 }) == [2, 1])
}
