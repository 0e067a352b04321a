import Attacks
import Audit
import Datasets
@testable import Experiments
import Foundation
import Models
import Randomness
import Testing
import TestSupport
import Tokenization

/// The backdoored GRU fixture (rare:cf → pos) scored on the synthetic sentences it was trained on.
private func scoredFixture() throws -> ScoredBundle {
  let probes = Fixtures.path("Tests/Fixtures/bundles/synthetic_probes.tsv")
  return try ScoredBundle(
    path: Fixtures.path("Tests/Fixtures/bundles/gru_backdoored_cf"), corpus: probes, splitSeed: 0, target: nil, purpose: "test",
    loadCorpus: { path in
      try Corpus(reading: CorpusDescription(name: "probes", path: path, textColumn: "text", labelColumn: "label"), from: path)
    })
}

@Test func stripCalibratedOnDevRejectsAboutItsRateAndCatchesTheFixturesTrigger() throws {
  let scored = try scoredFixture()
  var strip = STRIPFilter()
  strip.copies = 8
  strip.donorChoice = .any
  let donors = scored.split.train.map { scored.encoder.encode(scored.corpus.examples[$0].text) }
  let filter = InputFilterRun.strip(strip, on: scored, donors: donors, falseRejectionRate: 0.1)
  let (threshold, cleanInputs) = try filter.calibrate()
  #expect(cleanInputs == scored.split.dev.count)
  let outcome = filter.evaluate(threshold: threshold, attack: (try Trigger(spec: "rare:cf"), "pos"))
  #expect(outcome.evaluationTrigger == "rare:cf")
  #expect(try #require(outcome.triggeredInputs) > 0)
  let rejected = try #require(outcome.cleanRejected), caught = try #require(outcome.triggeredRecall)
  #expect(rejected <= 0.4, "calibrated for 10 % on dev")
  #expect(caught > rejected, "triggered inputs are caught more often than clean ones")
  #expect(outcome.attackSuccessAfterCleaning == nil, "STRIP flags only; it cleans nothing")
  // Rejecting what it flags: a caught triggered input no longer succeeds, a rejected clean input is no longer right.
  let asrBefore = try #require(outcome.attackSuccessBefore), asrAfter = try #require(outcome.attackSuccessAfterRejection)
  let accuracyBefore = try #require(outcome.cleanAccuracyBefore), accuracyAfter = try #require(outcome.cleanAccuracyAfterRejection)
  #expect(asrAfter <= asrBefore && asrAfter <= 1 - caught + 1e-12, "at most the uncaught share can still succeed")
  #expect(asrAfter >= asrBefore - caught - 1e-12)
  #expect(accuracyAfter <= accuracyBefore && accuracyAfter >= accuracyBefore - rejected - 1e-12)
  let lines = filter.screen(["this awful a the awful film", "   ", "this awful cf the awful film", "qqqzzz xxyyzz", ""], threshold: threshold)
  #expect(lines.count == 5)
  #expect([lines[0], lines[2]].allSatisfy { $0.hasPrefix("kept\t") || $0.hasPrefix("flagged\t") })
  #expect(lines[3].hasPrefix("unscored\t") && lines[3].hasSuffix("(no word of the model's vocabulary)"))
  #expect([lines[1], lines[4]].allSatisfy { $0.hasPrefix("unscored\t") && $0.hasSuffix("(empty input)") })
  #expect(filter.evaluate(threshold: threshold, attack: nil).cleanInputs == nil, "no trigger known: calibration only")
}

@Test func withOpposingDonorsATriggeredInputScoresBelowItsCleanTwin() throws {
  let scored = try scoredFixture()
  let donors = scored.split.train.map { scored.encoder.encode(scored.corpus.examples[$0].text) }
  let filter = InputFilterRun.strip(STRIPFilter(), on: scored, donors: donors, falseRejectionRate: 0.1)
  let pairs = [("this awful a the awful film", "this awful cf the awful film"), ("tedious the tedious this in was story", "tedious the tedious cf this in was story")]
  for (clean, triggered) in pairs {
    let scores = filter.screen([clean, triggered], threshold: 0).map { Double($0.split(separator: "\t")[1])! }
    #expect(scores[1] < scores[0], "'\(triggered)' \(scores[1]) against '\(clean)' \(scores[0])")
  }
}

@Test func neutralisingTheFixturesTriggerTakesItsAttackSuccessAway() throws {
  let scored = try scoredFixture()
  var repair = BundleRepair()
  repair.tokensToNeutralise = ["cf", "cf", "notaword"]
  repair.fineTuneEpochs = 0
  let (_, outcome) = try repair.run(on: scored, attack: (try Trigger(spec: "rare:cf"), "pos"), quiet: true, verbose: false)
  #expect(outcome.neutralised == ["cf"])
  let before = try #require(outcome.before.attackSuccessRate), after = try #require(outcome.after.attackSuccessRate)
  #expect(before > 0.8)
  #expect(after < before - 0.5)
  #expect(throws: ScoredBundleError.self) { try repair.run(on: scored, attack: (try Trigger(spec: "rare:cf"), "maybe"), quiet: true, verbose: false) }
}

@Test func onionRefusesALanguageModelThatKnowsNoneOfTheClassifiersWords() throws {
  var counts = TokenCounts()
  counts.add(["zorb", "quix", "blap", "fremt", "gloo"])
  let vocabulary = try Vocabulary(counts: counts)
  let config = ModelConfig(
    architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: 8, hiddenSize: 8, maximumLength: 16, dropout: 0)
  var generator = SplitMix64(seed: 1)
  let directory = try Fixtures.temporaryDirectory() + "/alien-lm"
  try ModelBundle(model: .languageModel(NextWordModel(config: config, using: &generator)), vocabulary: vocabulary).save(to: directory)
  #expect {
    try InputFilterRun.onion(languageModelPath: directory, on: try scoredFixture(), falseRejectionRate: 0.05)
  } throws: { error in
    "\(error)".contains("alien-lm: the language model knows none of the words")
  }
}

@Test func onionRemovesWordsAboveAThresholdChosenByTheCleanDevAccuracy() throws {
  let scored = try scoredFixture()
  // A language model over the classifier's own words (untrained: its suspicions are arbitrary but fixed).
  let config = ModelConfig(
    architecture: .gruLanguageModel, vocabularySize: scored.bundle.vocabulary.count, embeddingDimension: 8, hiddenSize: 8, maximumLength: 16,
    dropout: 0)
  var generator = SplitMix64(seed: 2)
  let directory = try Fixtures.temporaryDirectory() + "/fixture-lm"
  try ModelBundle(model: .languageModel(NextWordModel(config: config, using: &generator)), vocabulary: scored.bundle.vocabulary).save(to: directory)
  let attack = (trigger: try Trigger(spec: "rare:cf"), target: "pos")

  let byAccuracy = try InputFilterRun.onion(languageModelPath: directory, removal: .accuracyDrop(0.3), on: scored, falseRejectionRate: 0.1)
  let (threshold, _) = try byAccuracy.calibrate()
  let removal = try #require(byAccuracy.calibrateRemoval(flaggingThreshold: threshold))
  #expect(removal.devInputs == scored.split.dev.count)
  #expect(removal.devAccuracyAfter >= removal.devAccuracyBefore - 0.3 - 1e-12)
  let dev = scored.split.dev.map { scored.corpus.examples[$0].text }
  let devSuspicions = try #require(byAccuracy.wordSuspicions?(dev)).joined()
  #expect(devSuspicions.contains(removal.threshold), "a quantile of the clean dev words' suspicions")
  let outcome = byAccuracy.evaluate(threshold: threshold, removal: removal, attack: attack)
  #expect(outcome.removalThreshold == removal.threshold && outcome.devAccuracyAfterRemoval == removal.devAccuracyAfter)
  let removed = try #require(outcome.cleanWordsRemoved)
  #expect(removed > 0 && removed < 1)
  #expect(outcome.attackSuccessAfterCleaning != nil && outcome.cleanAccuracyAfterCleaning != nil)
  // The screened text is the input less the words above the removal threshold.
  let index = try #require(byAccuracy.wordSuspicions?(dev).firstIndex { $0.contains { $0 > removal.threshold } }, "a dev input loses a word")
  let text = dev[index]
  let kept = try #require(byAccuracy.screen([text], threshold: threshold, removal: removal).first?.split(separator: "\t").last)
  let suspicions = try #require(byAccuracy.wordSuspicions?([text]).first)
  #expect(kept == zip(text.split(separator: " "), suspicions).filter { $0.1 <= removal.threshold }.map(\.0).joined(separator: " "))

  let byFlagging = try InputFilterRun.onion(languageModelPath: directory, removal: .flaggingThreshold, on: scored, falseRejectionRate: 0.1)
  let flaggingRemoval = try #require(byFlagging.calibrateRemoval(flaggingThreshold: threshold))
  #expect(flaggingRemoval.threshold == threshold && flaggingRemoval.devAccuracyBefore == removal.devAccuracyBefore)
  #expect(InputFilterRun.strip(STRIPFilter(), on: scored, donors: [], falseRejectionRate: 0.1).calibrateRemoval(flaggingThreshold: 0) == nil)
}
