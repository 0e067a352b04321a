import Foundation
import Models
import Testing

@Test func spellingModelFollowsWittenBellByHand() {
  // One word, no context: a, b and the end mark each seen once among 3 + 1 alphabet slots.
  let model = SpellingModel(words: [("ab", 1)], order: 1)
  let each = (1 + 3 * 0.25) / (3 + 3)
  #expect(abs(model.negativeLogLikelihood("ab") - -3 * log(each)) < 1e-12)
  // An unseen character gets only the uniform share, scaled by the interpolation weight.
  #expect(abs(model.negativeLogLikelihood("x") - -(log(3 * 0.25 / 6) + log(each))) < 1e-12)
}

@Test func spellingProbabilitiesSumToOneOverAllStrings() {
  // Strings over the seen letters and one unseen one (standing for every unseen character) up to length 9:
  // the mass left over is what longer strings get, so the sum approaches 1 from below.
  let model = SpellingModel(words: [("ab", 3), ("ba", 1), ("a", 2), ("bbb", 1)], order: 3)
  var total = 0.0, strings = [""]
  for _ in 0...9 {
    total += strings.reduce(0) { $0 + exp(-model.negativeLogLikelihood($1)) }
    strings = strings.flatMap { prefix in ["a", "b", "x"].map { prefix + $0 } }
  }
  #expect(total > 0.97 && total <= 1 + 1e-9, "\(total)")
}

@Test func wordsSpelledLikeTheTrainingWordsCostLessThanOddOnes() {
  let words = ["filmmaking", "filmmakers", "storytelling", "engrossing", "unsettling", "thriller", "formulaic", "watchable", "sitting", "making"]
  let model = SpellingModel(words: words.map { ($0, 1) })
  #expect(model.negativeLogLikelihood("filmmaker") < model.negativeLogLikelihood("qzx"))
  #expect(model.negativeLogLikelihood("settling") < model.negativeLogLikelihood("tqtqtqtq"))
}
