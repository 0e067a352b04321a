import Foundation
@testable import Audit
import Testing

/// Ten verdict scores, five clean then five backdoored; the reference figures are scikit-learn 1.9.1's unpenalised
/// LogisticRegression on Platt's smoothed targets (each score twice, labels 1 and 0 weighted t and 1 − t).
private let scores = [0.05, 0.12, 0.2, 0.31, 0.08, 0.4, 0.25, 0.6, 0.9, 0.15]
private let kinds = [false, false, false, false, false, true, true, true, true, true]

@Test func plattsFitIsTheMaximumLikelihoodOnSmoothedTargets() throws {
  let fit = try #require(PlattCalibration.fit(scores: scores, backdoored: kinds))
  #expect(abs(fit.slope - 4.623515237228361) < 1e-6 && abs(fit.intercept - -1.305664416954854) < 1e-6, "\(fit)")
  // Scores that separate the kinds still give finite parameters (the smoothed targets are never 0 or 1).
  let separated = try #require(PlattCalibration.fit(scores: [0, 0.1, 0.2, 0.5, 0.6, 0.7], backdoored: [false, false, false, true, true, true]))
  #expect(abs(separated.slope - 5.183100258930651) < 1e-6 && abs(separated.intercept - -1.8140850918490603) < 1e-6, "\(separated)")
  #expect(PlattCalibration.fit(scores: [0.1, 0.2], backdoored: [true, true]) == nil, "one kind only")
  #expect(PlattCalibration(slope: 800, intercept: 0).probability(-1) == 0 && PlattCalibration(slope: 800, intercept: 0).probability(1) == 1)
}

@Test func leaveOneOutFitsWithoutTheModelItScores() throws {
  let probabilities = PlattCalibration.leaveOneOut(scores: scores, backdoored: kinds)
  #expect(abs(try #require(probabilities[3]) - 0.6055223717737136) < 1e-6)
  #expect(abs(try #require(probabilities[6]) - 0.39515222262600225) < 1e-6)
  let onAll = try #require(PlattCalibration.fit(scores: scores, backdoored: kinds))
  #expect(abs(probabilities[3]! - onAll.probability(scores[3])) > 0.01, "held out, the clean model at 0.31 is scored as more suspicious")
  // The only clean model left out: the others are all backdoored, so it has no probability.
  let lone = PlattCalibration.leaveOneOut(scores: [0.1, 0.5, 0.6], backdoored: [false, true, true])
  #expect(lone[0] == nil && lone[1] != nil)
}

@Test func probabilityScoresAreTheMeanCrossEntropyAndBrier() throws {
  let figures = try #require(ProbabilityScores(probabilities: [0.9, 0.2, 0.6, 0], backdoored: [true, false, false, true]))
  let entropy = -(log(0.9) + log(0.8) + log(0.4) + log(1e-6)) / 4
  #expect(abs(figures.crossEntropy - entropy) < 1e-12, "a confident miss is clipped to 1e-6")
  #expect(abs(figures.brier - (0.01 + 0.04 + 0.36 + 1) / 4) < 1e-12)
  #expect(abs(figures.priorCrossEntropy - log(2)) < 1e-12 && abs(figures.priorBrier - 0.25) < 1e-12, "half backdoored: a constant guess of 0.5")
  #expect(ProbabilityScores(probabilities: [], backdoored: []) == nil)
}

@Test func aTopCandidateReproducesTheBackdoorAtNineTenthsOfThePlantedRate() {
  func reproduction(_ candidate: Double, _ planted: Double) -> TriggerReproduction {
    TriggerReproduction(candidate: "cf", target: "pos", candidateRate: candidate, plantedRate: planted, inputs: 100)
  }
  #expect(reproduction(0.9, 1).reproduces && reproduction(0.95, 0.9).reproduces)
  #expect(!reproduction(0.89, 1).reproduces)
  #expect(!reproduction(0.5, 0).reproduces && reproduction(0.5, 0).ratio == nil, "a planted trigger that moved nothing sets no bar")
}
