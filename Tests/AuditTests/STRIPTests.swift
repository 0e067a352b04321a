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
  #expect(STRIPFilter.threshold(cleanScores: clean, falseRejectionRate: 0.05) == 6)
  #expect(clean.count { $0 < STRIPFilter.threshold(cleanScores: clean, falseRejectionRate: 0.05) } == 5, "5 % of clean inputs fall below it")
  #expect(STRIPFilter.threshold(cleanScores: [0.3], falseRejectionRate: 0.5) == 0.3)
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
  strip.replacedWords = .random
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

@Test func leastImportantWordsAreReplacedAndAWordNoCleanSentenceHoldsSurvives() {
  // Against these sentences: word 1 is in all (TF-IDF 0 however often), 2 in two, 3 in one, 9 in none.
  let importance = STRIPFilter.WordImportance(donors: [[1, 2, 3], [1, 2, 4], [1, 5]])
  let scores = importance.scores(of: [1, 1, 2, 9, 3])
  #expect(scores[0] == 0 && scores[1] == 0)
  #expect(scores[2] < scores[4] && scores[4] < scores[3], "9, which no clean sentence holds, scores highest")
  var strip = STRIPFilter()
  strip.copies = 6
  strip.replacedFraction = 0.6
  for copy in strip.copies(of: [1, 1, 2, 9, 3], index: 0, donors: [[7, 8]], importance: importance) {
    #expect(copy.ids[3...] == [9, 3], "the two most important words stay in every copy")
    #expect(copy.ids[..<3].allSatisfy { $0 == 7 || $0 == 8 }, "the three least important are replaced")
  }
  // Words that score alike are replaced at random positions, copy by copy.
  let tied = strip.copies(of: [20, 21, 22, 23, 24], index: 0, donors: [[7]], importance: importance)
  #expect(Set(tied.map { copy in copy.ids.indices.filter { copy.ids[$0] == 7 } }).count > 1)
  #expect(tied.allSatisfy { $0.ids.count { $0 == 7 } == 3 })
}

@Test func departureIsTheCopiesMeanProbabilityOfLeavingTheInputsLabel() {
  let classifier = toyClassifier()
  var strip = STRIPFilter()
  strip.copies = 16
  // Word 2 is in two of the three clean sentences, so the trigger outscores it however often it repeats.
  let donors = [[2, 2], [3, 3], [2, 3]]
  let inputs = [[2, 2, 2, 2, 2], [4, 2, 2, 2, 2]]
  let scores = strip.scores(classifier, inputs: inputs, donors: donors)
  let copies = strip.perturbedCopies(classifier, inputs: inputs, donors: donors)
  #expect(copies.count == 32)
  #expect(copies[16...].allSatisfy { $0.ids.contains(4) }, "the trigger, which no donor holds, is never replaced")
  let probabilities = classifier.predict(copies).probabilities
  for (index, score) in scores.enumerated() {
    // Both inputs are given pos (label 0) unperturbed.
    let leaving = probabilities[(index * 16)..<((index + 1) * 16)].map { 1 - Double($0[0]) }.reduce(0, +) / 16
    #expect(abs(score - leaving) < 1e-12)
  }
  #expect(scores[0] > 0.5, "a clean pos input given neg donors' words mostly turns neg")
  #expect(scores[1] < 0.01, "the trigger holds its copies to pos")
}

@Test func opposingDonorsComeOnlyFromDonorsGivenTheOtherLabel() {
  var strip = STRIPFilter()
  strip.replacedWords = .random
  strip.donorWords = .random
  strip.score = .entropy
  strip.replacedFraction = 0.5
  strip.donorChoice = .opposing
  strip.copies = 16
  let classifier = toyClassifier()
  let donors = [[2, 2], [3, 3]]
  let copies = strip.perturbedCopies(classifier, inputs: [[2, 2, 2, 2], [3, 3, 3, 3]], donors: donors)
  #expect(copies.count == 32)
  #expect(copies[..<16].allSatisfy { Set($0.ids) == [2, 3] }, "a pos input gets only the neg donor's word")
  #expect(copies[16...].allSatisfy { Set($0.ids) == [2, 3] }, "a neg input gets only the pos donor's word")
  // So a clean input's copies disagree with it more than with any donor; the trigger still holds its copies.
  let opposing = strip.scores(classifier, inputs: [[2, 2, 2, 2], [4, 4, 2, 2]], donors: donors)
  strip.donorChoice = .any
  let anyDonor = strip.scores(classifier, inputs: [[2, 2, 2, 2]], donors: donors)
  #expect(opposing[0] > anyDonor[0] + 0.1)
  #expect(opposing[1] < opposing[0] / 2)
}
