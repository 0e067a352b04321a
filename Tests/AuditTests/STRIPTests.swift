import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func stripThresholdIsTheFalseRejectionQuantileOfCleanScores() {
  let clean = (1...100).map(Double.init).shuffled()
  #expect(STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) == 6)
  #expect(clean.count { $0 < STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) } == 5, "5 % of clean inputs fall below it")
  #expect(STRIPFilter.threshold(cleanEntropies: [0.3], falseRejectionRate: 0.5) == 0.3)
}

@Test func importantDonorWordsComeHighestTFIDFFirst() {
  // Word 7 is in every donor (idf 0); 9 twice in the first donor and nowhere else; 8 once in two donors.
  let donors = [[7, 9, 8, 9], [7, 8], [7, 5]]
  let ranked = STRIPFilter.importantWordsFirst(donors, unknownID: Vocabulary.labUnknownID)
  #expect(ranked[0] == [9, 8, 7])
  #expect(ranked[1] == [8, 7])
  #expect(ranked[2] == [5, 7])
  #expect(STRIPFilter.importantWordsFirst([[Vocabulary.labUnknownID, 4]], unknownID: Vocabulary.labUnknownID) == [[4]], "the unknown token is never a donor word")
}

@Test func importantDonorWordsArePlacedInOrderAndTheInputKeepsItsLength() {
  var strip = STRIPFilter()
  strip.donorWords = .important
  strip.copies = 5
  strip.replacedFraction = 0.5
  let input = [20, 21, 22, 23]
  for copy in strip.copies(of: input, index: 0, donors: [[9, 8, 7]]) {
    #expect(copy.ids.count == 4)
    let replaced = copy.ids.filter { !input.contains($0) }
    #expect(replaced.sorted() == [8, 9], "two positions get the donor's two most important words")
  }
}

/// A bag of embeddings over ids 0…5 whose word 2 ("good") says pos, 3 ("bad") neg, and 4, a trigger, pos firmly.
private func toyClassifier() -> TextClassifier {
  var generator = SplitMix64(seed: 1)
  let config = ModelConfig(architecture: .bag, vocabularySize: 6, embeddingDimension: 2, labels: ["pos", "neg"], maximumLength: 8, dropout: 0)
  var model = TextClassifier(config: config, using: &generator)
  model.embedding.weight = Tensor(shape: [6, 2], scalars: [0, 0, 0, 0, 4, 0, 0, 4, 40, 0, 0, 0])
  model.classifier.weight = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1])
  model.classifier.bias = Tensor(shape: [2], scalars: [0, 0])
  return model
}

@Test func opposingDonorsComeOnlyFromDonorsGivenTheOtherLabel() {
  var strip = STRIPFilter()
  strip.donorChoice = .opposing
  strip.copies = 16
  let classifier = toyClassifier()
  let donors = [[2, 2], [3, 3]]
  let copies = strip.perturbedCopies(classifier, inputs: [[2, 2, 2, 2], [3, 3, 3, 3]], donors: donors)
  #expect(copies.count == 32)
  #expect(copies[..<16].allSatisfy { Set($0.ids) == [2, 3] }, "a pos input gets only the neg donor's word")
  #expect(copies[16...].allSatisfy { Set($0.ids) == [2, 3] }, "a neg input gets only the pos donor's word")
  // So a clean input's copies disagree with it more than with any donor; the trigger still holds its copies.
  let opposing = strip.entropies(classifier, inputs: [[2, 2, 2, 2], [4, 4, 2, 2]], donors: donors)
  strip.donorChoice = .any
  let anyDonor = strip.entropies(classifier, inputs: [[2, 2, 2, 2]], donors: donors)
  #expect(opposing[0] > anyDonor[0] + 0.1)
  #expect(opposing[1] < opposing[0] / 2)
}
