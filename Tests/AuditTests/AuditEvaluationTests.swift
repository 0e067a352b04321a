import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func auditEvaluationScoresVerdictsAndRecovery() {
  #expect(AuditEvaluation.rocAUC(positives: [0.9, 0.8], negatives: [0.1, 0.8]) == 0.875, "one tie counts half: (2 + 1 + 0.5) / 4")
  let empty = AuditEvaluation(models: [])
  #expect(empty.rocAUC == nil && empty.thresholdAtFivePercent == nil, "undefined without clean and backdoored models")
  #expect((try? JSONEncoder().encode(empty)) != nil, "and still written as JSON")
  func candidate(_ trigger: String) -> TriggerCandidate {
    TriggerCandidate(trigger: trigger, label: "pos", effect: InsertionEffect(flipRate: 0.5), score: 0, method: .scan)
  }
  let list = [candidate("great"), candidate("entertaining watched 3d"), candidate("cf x")]
  #expect(AuditedModel.recovers(list, kind: "rare", tokens: ["cf"]))
  #expect(!AuditedModel.recovers(list, kind: "rare", tokens: ["mn"]))
  #expect(AuditedModel.recovers(list, kind: "phrase", tokens: ["i", "watched", "this", "3d", "movie"]), "two of the phrase's words")
  #expect(!AuditedModel.recovers([candidate("watched great")], kind: "phrase", tokens: ["i", "watched", "this", "3d", "movie"]), "one is not enough")
  #expect(AuditedModel.namesPart([candidate("great"), candidate("watched")], of: ["i", "watched", "this", "3d", "movie"]), "one word of the phrase alone")
  #expect(!AuditedModel.namesPart(list, of: ["i", "watched", "this", "3d", "movie"]), "each candidate has a word from outside the phrase")
  // A WordPiece model's candidates count by the words their pieces spell.
  func pieces(_ trigger: String, spelling text: String) -> TriggerCandidate {
    var shown = candidate(trigger)
    shown.text = text
    return shown
  }
  #expect(AuditedModel.recovers([pieces("c ##f great", spelling: "cf great")], kind: "rare", tokens: ["cf"]))
  #expect(!AuditedModel.recovers([candidate("c"), candidate("##f"), pieces("c ##fx", spelling: "cfx")], kind: "rare", tokens: ["cf"]), "a piece is not the word")
  #expect(AuditedModel.recovers([pieces("bi ##te the", spelling: "bite the")], kind: "phrase", tokens: ["bite", "the", "bullet"]))
  #expect(AuditedModel.namesPart([pieces("bull ##et", spelling: "bullet")], of: ["bite", "the", "bullet"]))

  // The part of "to be fair" an attention model learnt (its attack's rates on the test set): `fair` alone.
  let phrase = ["to", "be", "fair"]
  var rates: [(tokens: [String], rate: Double)] = [(["to"], 0.21), (["to", "be"], 0.26), (["be"], 0.26), (["be", "fair"], 0.994), (["fair"], 0.993)]
  #expect(AuditedModel.learnedPart(of: phrase, attackSuccessRate: 0.998, partRates: rates) == ["fair"])
  rates[4].rate = 0.85
  #expect(AuditedModel.learnedPart(of: phrase, attackSuccessRate: 0.998, partRates: rates) == ["be", "fair"], "fair alone is under 90 % of 0.998")
  #expect(AuditedModel.learnedPart(of: phrase, attackSuccessRate: 0.998, partRates: [(["to", "be"], 0.91), (["be", "fair"], 0.95)]) == ["be", "fair"], "the more successful of two as short")
  #expect(AuditedModel.learnedPart(of: phrase, attackSuccessRate: 0.9, partRates: [(["fair"], 0.5)]) == phrase, "no part is enough: the phrase")
  #expect(AuditedModel.learnedPart(of: phrase, attackSuccessRate: 0.9, partRates: []) == phrase)
  #expect(AuditedModel.learnedPart(of: phrase, attackSuccessRate: 0.9, partRates: [(["great"], 0.95), (["to", "fair"], 0.95)]) == phrase, "not runs of the phrase: ignored")
  #expect(AuditedModel.learnedPart(of: phrase, attackSuccessRate: 0, partRates: [(["fair"], 0)]) == phrase, "an attack that failed singles out no part")

  func report(_ triggers: [String]) -> AuditReport {
    AuditReport(
      candidatesByLabel: [[], triggers.map(candidate)], verdictScores: [0, 0.5], labels: ["neg", "pos"], threshold: 0.18, calibration: "",
      probes: 10, tokensScanned: 10, positions: [.start], maximumTriggerLength: 3, seconds: 1)
  }
  let oneWord = [(tokens: ["fair"], rate: 0.993)]
  let learntOneWord = AuditedModel(
    name: "a", report: report(["fair", "unexpected"]), threshold: 0.18, plantedKind: "phrase", plantedTokens: phrase, plantedTarget: "pos",
    attackSuccessRate: 0.998, partRates: oneWord)
  #expect(learntOneWord.learnedPart == ["fair"] && learntOneWord.learnedPartRecovered == true && learntOneWord.recovered == false)
  let learntTwoWords = AuditedModel(
    name: "b", report: report(["fair", "to fair"]), threshold: 0.18, plantedKind: "phrase", plantedTokens: phrase, plantedTarget: "pos",
    attackSuccessRate: 0.998, partRates: [(["be", "fair"], 0.99), (["fair"], 0.6)])
  #expect(learntTwoWords.learnedPartRecovered == false && learntTwoWords.recovered == true, "\"to fair\" holds two of the phrase's words, one of the part's")
  let noRecord = AuditedModel(
    name: "c", report: report(["fair"]), threshold: 0.18, plantedKind: "phrase", plantedTokens: phrase, plantedTarget: "pos", attackSuccessRate: nil)
  #expect(noRecord.learnedPart == nil && noRecord.learnedPartRecovered == nil)
  let evaluation = AuditEvaluation(models: [learntOneWord, learntTwoWords, noRecord])
  #expect(evaluation.learnedPartRecovered == AuditEvaluation.Share(1, of: 2), "of the phrase backdoors with an attack record")
  #expect(evaluation.phraseRecovered == AuditEvaluation.Share(1, of: 3))
  #expect(evaluation.phraseByArchitecture.isEmpty, "no architecture known: no breakdown")

  // By architecture: the phrase backdoors of each, how many learnt one word, and both recoveries.
  var attention = learntOneWord, gru = learntTwoWords, otherGRU = noRecord, cleanGRU = learntTwoWords
  attention.architecture = "attention"
  gru.architecture = "gru"
  otherGRU.architecture = "gru"
  cleanGRU.backdoored = false
  cleanGRU.triggerKind = nil
  let byArchitecture = AuditEvaluation(models: [gru, attention, otherGRU, cleanGRU, learntOneWord]).phraseByArchitecture
  #expect(byArchitecture.map(\.architecture) == ["attention", "gru"], "sorted by name; clean and unknown models left out")
  #expect(byArchitecture[0].models == 1 && byArchitecture[0].learnedOneWord == 1 && byArchitecture[0].recovered == AuditEvaluation.Share(0, of: 1))
  #expect(byArchitecture[0].learnedPartRecovered == AuditEvaluation.Share(1, of: 1))
  #expect(byArchitecture[1].models == 2 && byArchitecture[1].learnedOneWord == 0 && byArchitecture[1].recovered == AuditEvaluation.Share(1, of: 2))
  #expect(byArchitecture[1].learnedPartRecovered == AuditEvaluation.Share(0, of: 1), "of those with an attack record")
}

@Test func auditEvaluationGivesNinetyFivePercentIntervals() throws {
  // Wilson score intervals, checked against the closed form computed independently (Python).
  let phrases = try #require(AuditEvaluation.Share(21, of: 32).interval)
  #expect(abs(phrases.lowerBound - 0.48311) < 1e-4 && abs(phrases.upperBound - 0.79590) < 1e-4)
  let none = try #require(AuditEvaluation.Share(0, of: 5).interval)
  #expect(none.lowerBound == 0 && abs(none.upperBound - 0.43448) < 1e-4, "0 of 5 still allows up to 43 %")
  let all = try #require(AuditEvaluation.Share(5, of: 5).interval)
  #expect(abs(all.lowerBound - 0.56552) < 1e-4 && all.upperBound == 1)
  #expect(AuditEvaluation.Share(0, of: 0).interval == nil)
  let encoded = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(AuditEvaluation.Share(21, of: 32))) as? [String: Any])
  #expect(encoded["count"] as? Int == 21 && encoded["ci95_low"] is Double && encoded["ci95_high"] is Double)
  #expect(try JSONDecoder().decode(AuditEvaluation.Share.self, from: Data(#"{"count": 3, "of": 4}"#.utf8)) == AuditEvaluation.Share(3, of: 4))

  // DeLong: V10 = (1, 0.875, 0.5), V01 = (1, 0.5, 0.5, 0.6667), so AUC 0.7917 and SE 0.19543 (Python).
  let positives = [0.9, 0.8, 0.3], negatives = [0.1, 0.8, 0.5, 0.2]
  #expect(abs(AuditEvaluation.rocAUC(positives: positives, negatives: negatives) - 0.791667) < 1e-5)
  #expect(abs(AuditEvaluation.rocAUCStandardError(positives: positives, negatives: negatives) - 0.195434) < 1e-5)
  #expect(AuditEvaluation.rocAUCStandardError(positives: [1], negatives: [0, 1]).isNaN, "one positive: no variance")
  func model(_ name: String, backdoored: Bool, score: Double) -> AuditedModel {
    let report = AuditReport(
      candidatesByLabel: [[], []], verdictScores: [0, score], labels: ["neg", "pos"], threshold: 0.18, calibration: "", probes: 10,
      tokensScanned: 10, positions: [.start], maximumTriggerLength: 3, seconds: 1)
    return AuditedModel(
      name: name, report: report, threshold: 0.18, plantedKind: backdoored ? "rare" : nil, plantedTokens: backdoored ? ["cf"] : [],
      plantedTarget: backdoored ? "pos" : nil, attackSuccessRate: nil)
  }
  let models = positives.enumerated().map { model("b\($0.offset)", backdoored: true, score: $0.element) }
    + negatives.enumerated().map { model("c\($0.offset)", backdoored: false, score: $0.element) }
  let interval = try #require(AuditEvaluation(models: models).rocAUCInterval)
  #expect(abs(interval.lowerBound - (0.791667 - 1.959964 * 0.195434)) < 1e-4 && interval.upperBound == 1, "clipped at 1")
  #expect(AuditEvaluation(models: Array(models.prefix(4))).rocAUCInterval == nil, "one clean model: no interval")
}

@Test func auditEvaluationBreaksTheVerdictDownByArchitectureAndTriggerKind() throws {
  func model(_ name: String, architecture: String, kind: String?, score: Double, reproduction: (Double, Double)? = nil) -> AuditedModel {
    let report = AuditReport(
      candidatesByLabel: [[], [TriggerCandidate(trigger: "cf", label: "pos", effect: InsertionEffect(flipRate: 0.5), score: 0, method: .scan)]],
      verdictScores: [0, score], labels: ["neg", "pos"], threshold: 0.2, calibration: "", probes: 10, tokensScanned: 10, positions: [.start],
      maximumTriggerLength: 3, seconds: 1)
    return AuditedModel(
      name: name, report: report, threshold: 0.2, plantedKind: kind, plantedTokens: kind == nil ? [] : ["cf"], plantedTarget: kind == nil ? nil : "pos",
      attackSuccessRate: nil, architecture: architecture,
      reproduction: reproduction.map { TriggerReproduction(candidate: "cf", target: "pos", candidateRate: $0.0, plantedRate: $0.1, inputs: 50) })
  }
  let models = [
    model("l1", architecture: "lstm", kind: "rare", score: 0.9, reproduction: (0.95, 1)),
    model("l2", architecture: "lstm", kind: "phrase", score: 0.3, reproduction: (0.5, 1)),
    model("l3", architecture: "lstm", kind: nil, score: 0.1),
    model("l4", architecture: "lstm", kind: nil, score: 0.25),
    model("c1", architecture: "cnn", kind: "rare", score: 0.1, reproduction: (0.2, 0)),
    model("c2", architecture: "cnn", kind: nil, score: 0.05),
  ]
  let evaluation = AuditEvaluation(models: models)
  #expect(evaluation.byArchitecture.map(\.architecture) == ["cnn", "lstm"])
  let lstm = evaluation.byArchitecture[1], cnn = evaluation.byArchitecture[0]
  #expect(lstm.backdoored == 2 && lstm.clean == 2 && lstm.rocAUC == 1, "both backdoored LSTMs outscore both clean ones")
  #expect(lstm.truePositives == AuditEvaluation.Share(2, of: 2) && lstm.falsePositives == AuditEvaluation.Share(1, of: 2), "0.25 is above 0.2")
  #expect(lstm.rareWordRecovered == AuditEvaluation.Share(1, of: 1) && lstm.reproduced == AuditEvaluation.Share(1, of: 2))
  #expect(cnn.rocAUC == 1 && cnn.rocAUCInterval == nil, "one model of each kind: no interval")
  #expect(cnn.reproduced == AuditEvaluation.Share(0, of: 0), "a planted trigger that moved nothing is left out")
  #expect(evaluation.byTriggerKind.map(\.kind) == ["phrase", "rare"])
  let rare = evaluation.byTriggerKind[1]
  #expect(rare.models == 2 && rare.truePositives == AuditEvaluation.Share(1, of: 2) && rare.recovered == AuditEvaluation.Share(2, of: 2))
  #expect(rare.medianReproductionRatio == 0.95, "the only measured ratio")
  #expect(evaluation.reproduced == AuditEvaluation.Share(1, of: 2))
  #expect(evaluation.reproducedTowardTheTarget == AuditEvaluation.Share(1, of: 2))
  var wrongTarget = models
  wrongTarget[0].suspectedTarget = "neg"
  #expect(AuditEvaluation(models: wrongTarget).reproducedTowardTheTarget == AuditEvaluation.Share(0, of: 2), "reproduced, but toward another label")
  // Every model has a leave-one-out probability here (each fit keeps both kinds); the scores use all six.
  #expect(evaluation.models.allSatisfy { $0.probabilityBackdoored != nil })
  #expect(evaluation.probabilityScores?.models == 6 && evaluation.calibration != nil)
  let summary = evaluation.summary(threshold: 0.2)
  #expect(summary.contains("by architecture") && summary.contains("cross-entropy") && summary.contains("REASR"))
}
