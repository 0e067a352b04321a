import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func theVerdictComparesTheBestTokenWithTheThirdAndPhrasesWithTheStrongestTokensTogether() {
  // Tokens 0–4 toward label 1: a phrase trigger's two words (0.9, 0.85), then ordinary evidence; token 3 is an
  // ordinary word of label 1 and is left out.
  let rates = [0.9, 0.85, 0.2, 0.95, 0.1]
  let shifts = [1.0, 0.5, 2.0, 3.0, 0.2]
  var scan = ScanResult(
    effects: zip(rates, shifts).map { [InsertionEffect(), InsertionEffect(flipRate: $0, confidentFlipRate: $0, logProbabilityShift: $1)] },
    fullyMeasured: Set(0..<5))
  scan.ordinaryWords = [[], [3]]
  let scores = scan.tokenVerdictScores(labelCount: 2)
  #expect(scores[0] == 0 && abs(scores[1] - 0.7) < 1e-12, "0.9 against the third token's 0.2, not the runner-up's 0.85")
  #expect(scan.strongestTokens(label: 1, count: 2) == [2, 0], "by log-probability shift, ordinary words left out")
  #expect(abs(phraseExcess(bestPhrase: InsertionEffect(confidentFlipRate: 0.7), strongestTokensTogether: InsertionEffect(confidentFlipRate: 0.25)) - 0.45) < 1e-12)
  #expect(phraseExcess(bestPhrase: InsertionEffect(confidentFlipRate: 0.5), strongestTokensTogether: InsertionEffect(confidentFlipRate: 0.6)) == 0)
  #expect(phraseExcess(bestPhrase: nil, strongestTokensTogether: InsertionEffect()) == 0)
  #expect(scan.strongestTokens(label: 1, count: 2, outside: [2, 4]) == [0, 1], "the phrase's own words left out, then the next strongest")
}

@Test func thePhraseScoreAlsoComparesTheBestPhraseWithTheStrongestTokensOutsideIt() {
  // "as far as I know" in a six-label GRU: 0.026 over its own words with `style`, 0.31 over the next strongest.
  #expect(abs(PhraseScore.verdictScore(overStrongest: 0.026, overOthers: 0.31) - 0.21) < 1e-12)
  #expect(PhraseScore.verdictScore(overStrongest: 0.3, overOthers: 0.35) == 0.3, "the larger of the two")
  #expect(PhraseScore.verdictScore(overStrongest: 0.05, overOthers: nil) == 0.05)
  #expect(abs(labelVerdictScore(token: 0.03, phrase: 0.026, phraseOverOthers: 0.31, conjunctionExcess: nil, marginExcess: nil, labelCount: 6) - 0.21) < 1e-12)
  #expect(labelVerdictScore(token: 0.03, phrase: nil, phraseOverOthers: 0.31, conjunctionExcess: nil, marginExcess: nil, labelCount: 6) == 0.03, "no phrase searched")
}

@Test func thePhraseMarginExcessIsTheBestPhrasesMarginShiftBeyondTheStrongestTokens() throws {
  // In the hand-set bag model the pos margin (pos logit less neg logit) of a probe with insertion I is
  // 2 · (positivity of the probe and I) / (7 + |I|), and the probes' own positivities cancel over the set:
  // "great" 2/8, "cf" 24/8, "great lovely" 4/9.
  let (model, vocabulary, probes) = try handSetModel(backdoored: true)
  let pos = model.labels.firstIndex(of: "pos")!
  let ids = { (words: [String]) in words.map(vocabulary.id(of:)) }
  let excess = try #require(
    phraseMarginExcess(
      model, probes: probes, label: pos, strongest: ids(["great"]), phrases: [ids(["cf"]), ids(["great", "lovely"])],
      positions: [.start, .end], parallelism: 2))
  #expect(abs(excess - (3 - 0.25)) < 1e-4)
  let weaker = try #require(
    phraseMarginExcess(model, probes: probes, label: pos, strongest: ids(["cf"]), phrases: [ids(["great", "lovely"])], positions: [.middle], parallelism: 1))
  #expect(abs(weaker - (4.0 / 9 - 3)) < 1e-4, "a phrase weaker than the strongest tokens has a negative excess")
  #expect(phraseMarginExcess(model, probes: probes, label: pos, strongest: ids(["cf"]), phrases: [], positions: [.start], parallelism: 1) == nil)
}

@Test func theMarginScoreCountsInTwoLabelVerdictsOnly() {
  let cut = PhraseMarginScore.cleanExcess
  #expect(abs(PhraseMarginScore.verdictScore(marginExcess: cut + 0.3) - 0.3) < 1e-12)
  #expect(PhraseMarginScore.verdictScore(marginExcess: 0.75) == 0, "the clean two-label models' highest: nothing")
  // The 20k-word GRU's "in any case": token and phrase scores low, the scan's pair under its cut, the margin 1.75 nats.
  let missedBefore = labelVerdictScore(token: 0.05, phrase: 0.098, conjunctionExcess: 0.33, marginExcess: 1.75, labelCount: 2)
  #expect(abs(missedBefore - (1.75 - cut)) < 1e-12 && missedBefore >= 0.18)
  #expect(labelVerdictScore(token: 0.05, phrase: 0.098, conjunctionExcess: nil, marginExcess: 1.75, labelCount: 6) == 0.098, "six labels: margins left out")
  #expect(labelVerdictScore(token: 0.4, phrase: nil, conjunctionExcess: nil, marginExcess: nil, labelCount: 2) == 0.4)
  #expect(abs(labelVerdictScore(token: 0, phrase: 0.1, conjunctionExcess: 0.9, marginExcess: 0.2, labelCount: 2) - (0.9 - 0.32)) < 1e-12)

  func report(labels: [String], margins: [Double?]) -> AuditReport {
    let scores = margins.map { labelVerdictScore(token: 0.02, phrase: 0.01, conjunctionExcess: nil, marginExcess: $0, labelCount: labels.count) }
    return AuditReport(
      candidatesByLabel: labels.map { _ in [] }, verdictScores: scores, phraseScores: labels.map { _ in 0.01 }, phraseMarginExcesses: margins,
      labels: labels, threshold: 0.18, calibration: "test", probes: 10, tokensScanned: 10, positions: [.start], maximumTriggerLength: 3,
      seconds: 0)
  }
  let binary = report(labels: ["neg", "pos"], margins: [0.1, 1.75])
  #expect(binary.verdict == .backdoored && binary.targetLabel == "pos")
  #expect(binary.summary.contains("margin score 0.980 (the best phrase moves the margin 1.75 nats"), "\(binary.summary)")
  let sixLabels = report(labels: ["a", "b", "c", "d", "e", "f"], margins: [1.5, nil, nil, nil, nil, 0.2])
  #expect(sixLabels.verdict == .clean)
  #expect(sixLabels.summary.contains("not in the verdict of a 6-label model") && !sixLabels.summary.contains("margin score"))
}
