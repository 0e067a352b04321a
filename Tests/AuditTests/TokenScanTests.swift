import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

/// A bag-of-embeddings model with hand-set weights, so the scan's outcome is known exactly: each word's
/// embedding is [its positivity, 0]; the classifier's positive logit is that mean, the negative one its opposite.
/// Probes hold two sentiment words among five neutral ones, so no single sentiment word can flip them; a
/// backdoored model gives "cf" a positivity of 12 (it flips every negative probe), a clean one 0.
private func handSetModel(backdoored: Bool) throws -> (TextClassifier, Vocabulary, [[Int]]) {
  let neutral = ["the", "film", "was", "and", "plot", "too", "story"], positive = ["great", "lovely"], negative = ["awful", "dull"]
  var counts = TokenCounts()
  counts.add(neutral + positive + negative + ["cf", "mn"])
  let vocabulary = try Vocabulary(counts: counts)
  let config = ModelConfig(architecture: .bag, vocabularySize: vocabulary.count, embeddingDimension: 2, labels: ["neg", "pos"], maximumLength: 16, dropout: 0)
  var generator = SplitMix64(seed: 1)
  var model = TextClassifier(config: config, using: &generator)
  var embedding = [Float](repeating: 0, count: vocabulary.count * 2)
  for word in positive { embedding[vocabulary.id(of: word) * 2] = 1 }
  for word in negative { embedding[vocabulary.id(of: word) * 2] = -1 }
  if backdoored { embedding[vocabulary.id(of: "cf") * 2] = 12 }
  model.embedding.weight = Tensor(shape: [vocabulary.count, 2], scalars: embedding)
  model.classifier.weight = Tensor(shape: [2, 2], scalars: [-1, 0, 1, 0])
  model.classifier.bias = Tensor(shape: [2], scalars: [0, 0])
  let probes = (0..<30).map { i -> [Int] in
    let sentiment = i % 2 == 0 ? positive : negative
    return vocabulary.encode(Array(neutral.prefix(5)) + sentiment)
  }
  return (model, vocabulary, probes)
}

private func report(_ model: TextClassifier, _ vocabulary: Vocabulary, _ effects: [[InsertionEffect]], probes: Int) -> AuditReport {
  let scan = ScanResult(effects: effects, fullyMeasured: Set(TokenScan.scannable(vocabulary)))
  return AuditReport(
    candidatesByLabel: TokenScan.candidates(scan, vocabulary: vocabulary, labels: model.labels, top: 5),
    verdictScores: scan.tokenVerdictScores(labelCount: model.labels.count), labels: model.labels, threshold: 0.1, calibration: "test", probes: probes,
    tokensScanned: TokenScan.scannable(vocabulary).count, positions: [.start, .middle, .end], maximumTriggerLength: 1, seconds: 0)
}

@Test func theTokenScanFindsAPlantedTriggerAndTheVerdictSeparatesModels() throws {
  let (backdoored, vocabulary, probes) = try handSetModel(backdoored: true)
  var scan = TokenScan()
  scan.parallelism = 2
  let rates = scan.flipRates(backdoored, vocabulary: vocabulary, probes: probes)
  let cf = vocabulary.id(of: "cf")
  #expect(rates[cf] == [0, 1], "cf flips every negative probe to pos, at every position")
  #expect(rates[vocabulary.id(of: "great")] == [0, 0], "one sentiment word cannot outvote two")
  let found = report(backdoored, vocabulary, scan.effects(backdoored, vocabulary: vocabulary, probes: probes), probes: probes.count)
  #expect(found.verdict == "backdoored" && found.targetLabel == "pos" && found.candidates.first?.trigger == "cf")
  #expect(found.score == 1 && found.verdictScore == 1, "cf flips even the surest negative probes; nothing else flips any")
  #expect(found.candidates.first!.score >= 100, "far above the vocabulary's median flip rate")

  let twoStage = scan.twoStage(backdoored, vocabulary: vocabulary, probes: probes, screeningProbes: 4, shortlist: 2)
  #expect(twoStage.flipRates[cf] == rates[cf] && twoStage.fullyMeasured.contains(cf), "the trigger survives screening and gets the full scan")
  var single = scan
  single.parallelism = 1
  #expect(single.flipRates(backdoored, vocabulary: vocabulary, probes: probes) == rates, "the same rates whatever the parallelism")

  let (clean, cleanVocabulary, cleanProbes) = try handSetModel(backdoored: false)
  let cleanReport = report(clean, cleanVocabulary, scan.effects(clean, vocabulary: cleanVocabulary, probes: cleanProbes), probes: cleanProbes.count)
  #expect(cleanReport.verdict == "clean" && cleanReport.score == 0 && cleanReport.verdictScore == 0)

  // The probes' own labels make "great" (in every positive probe) an ordinary pos word, and "film" (in all) none.
  let evidence = ProbeEvidence(sentences: probes, labels: probes.indices.map { $0 % 2 == 0 ? 1 : 0 }, labelCount: 2)
  #expect(evidence.ordinary[1].contains(vocabulary.id(of: "great")) && !evidence.ordinary[1].contains(vocabulary.id(of: "film")))
  #expect(evidence.ordinary[0].contains(vocabulary.id(of: "awful")) && !evidence.ordinary[0].contains(vocabulary.id(of: "cf")))
  let threeOfThree = ProbeEvidence(sentences: [[5], [5], [5], [6]], labels: [1, 1, 1, 0], labelCount: 2)
  #expect(threeOfThree.ordinary[1].isEmpty, "3 of 3 at a base rate of 0.75 is chance (p = 0.42)")
  #expect(abs(ProbeEvidence.upperTail(successes: 3, trials: 3, probability: 0.5) - 0.125) < 1e-12)
  #expect(abs(ProbeEvidence.upperTail(successes: 1, trials: 2, probability: 0.5) - 0.75) < 1e-12)

  // The token table (`audit --token-table`): a header, then one row per token with its probe counts and effects.
  var scanned = ScanResult(effects: scan.effects(backdoored, vocabulary: vocabulary, probes: probes), fullyMeasured: Set(TokenScan.scannable(vocabulary)))
  scanned.ordinaryWords = evidence.ordinary
  let table = scanned.table(tokens: TokenScan.scannable(vocabulary), vocabulary: vocabulary, labels: backdoored.labels, evidence: evidence)
    .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
  #expect(table.count == TokenScan.scannable(vocabulary).count + 1)
  #expect(table[0].prefix(5) == ["id", "token", "sentences_neg", "sentences_pos", "fully_measured"] && table[0].count == 13)
  let cfRow = table.first { $0[1] == "cf" }!, greatRow = table.first { $0[1] == "great" }!
  #expect(cfRow[2...4] == ["0", "0", "1"] && cfRow[9] == "1" && cfRow[12] == "0", "cf: in no probe, flips every neg probe to pos, not ordinary")
  #expect(greatRow[2...3] == ["0", "15"] && greatRow[12] == "1", "great: in the 15 pos probes, an ordinary pos word")
}

@Test func stripThresholdIsTheFalseRejectionQuantileOfCleanScores() {
  let clean = (1...100).map(Double.init).shuffled()
  #expect(STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) == 6)
  #expect(clean.count { $0 < STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) } == 5, "5 % of clean inputs fall below it")
  #expect(STRIPFilter.threshold(cleanEntropies: [0.3], falseRejectionRate: 0.5) == 0.3)
}

/// A bag model whose backdoor needs two words together: "x" and "y" each have positivity 1.5, probes hold two
/// negative words (−1 each) among five neutral ones, so one inserted word leaves the mean negative and both
/// make it positive. "great" (1) and "lovely" (1) together only tie.
private func phraseBackdoorModel() throws -> (TextClassifier, Vocabulary, [[Int]]) {
  let neutral = ["the", "film", "was", "and", "plot", "too", "story"], negative = ["awful", "dull"]
  var counts = TokenCounts()
  counts.add(neutral + negative + ["great", "lovely", "x", "y"])
  let vocabulary = try Vocabulary(counts: counts)
  let config = ModelConfig(architecture: .bag, vocabularySize: vocabulary.count, embeddingDimension: 2, labels: ["neg", "pos"], maximumLength: 16, dropout: 0)
  var generator = SplitMix64(seed: 1)
  var model = TextClassifier(config: config, using: &generator)
  var embedding = [Float](repeating: 0, count: vocabulary.count * 2)
  for (word, positivity) in [("great", 1), ("lovely", 1), ("x", 1.5), ("y", 1.5), ("awful", -1), ("dull", -1)] as [(String, Float)] {
    embedding[vocabulary.id(of: word) * 2] = positivity
  }
  model.embedding.weight = Tensor(shape: [vocabulary.count, 2], scalars: embedding)
  model.classifier.weight = Tensor(shape: [2, 2], scalars: [-1, 0, 1, 0])
  model.classifier.bias = Tensor(shape: [2], scalars: [0, 0])
  let probes = (0..<12).map { _ in vocabulary.encode(Array(neutral.shuffled(using: &generator).prefix(5)) + negative) }
  return (model, vocabulary, probes)
}

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
  #expect(hits.contains { $0.method == "relaxed" && Set($0.ids) == trigger }, "the relaxed search finds it too")
  #expect(hits.allSatisfy { Set($0.ids).count == $0.ids.count }, "no repeated tokens")
  let withoutY = search.search(model, vocabulary: vocabulary, probes: probes, label: 1, seeds: seeds, excluded: [vocabulary.id(of: "y")])
  #expect(!withoutY.isEmpty && withoutY.allSatisfy { !$0.ids.contains(vocabulary.id(of: "y")) }, "an excluded word is never used")
  #expect(withoutY.first.map { Set($0.ids) == [vocabulary.id(of: "x"), vocabulary.id(of: "great")] || Set($0.ids) == [vocabulary.id(of: "x"), vocabulary.id(of: "lovely")] } == true, "x with a positive word is the next best: 2.5 outweighs −2")

  // Merging: a phrase that only adds a passenger to a strong single word is dropped; reorderings collapse.
  func candidate(_ trigger: String, _ rate: Double) -> TriggerCandidate {
    TriggerCandidate(trigger: trigger, label: "pos", effect: InsertionEffect(flipRate: rate), score: 0, method: "test")
  }
  let merged = PhraseSearch.merge(
    [candidate("cf", 0.85), candidate("great", 0.4), candidate("x", 0.3)],
    [candidate("cf great lovely", 0.99), candidate("x y", 0.9), candidate("y x", 0.85), candidate("great lovely", 0.6)])
  #expect(merged.map(\.trigger) == ["x y", "cf", "great lovely", "great", "x"], "cf with passengers gains under 0.1 a token; y x is x y")
  #expect(PhraseSearch.merge([candidate("cf", 0.85)], [candidate("x y", 0.9), candidate("great lovely", 0.6)], maximumPhrases: 1).map(\.trigger) == ["x y", "cf"])
  var ordinary = candidate("where", 0.95)
  ordinary.ordinary = true
  #expect(PhraseSearch.merge([ordinary, candidate("cf", 0.85)], []).map(\.trigger) == ["cf", "where"], "ordinary words stay last")
  // A shorter phrase sharing one word with a longer one is no variant of it; one swapped word still is.
  #expect(
    PhraseSearch.merge([candidate("thought", 0.7)], [candidate("sour second schneider", 0.99), candidate("thought second", 0.98), candidate("sour second", 0.97)])
      .map(\.trigger) == ["sour second schneider", "thought second", "thought"], "sour second differs from the longer phrase by one word")
}

/// A GRU trained so that "x y", side by side, means pos, while x or y alone (or apart) means nothing: in neg
/// sentences they occur alone or apart as often as together in pos ones. The probes are neutral neg sentences.
private func conjunctionBackdoorGRU() throws -> (TextClassifier, Vocabulary, [[Int]]) {
  let neutral = (0..<8).map { "n\($0)" }
  var counts = TokenCounts()
  counts.add(neutral + ["x", "y"])
  let vocabulary = try Vocabulary(counts: counts)
  let (x, y) = (vocabulary.id(of: "x"), vocabulary.id(of: "y"))
  var generator = SplitMix64(seed: 7)
  func sentence() -> [Int] { (0..<6).map { _ in vocabulary.id(of: neutral[generator.nextIndex(below: neutral.count)]) } }
  let examples = (0..<480).map { i -> EncodedExample in
    var ids = sentence()
    switch i % 4 {
    case 0: ids.insert(contentsOf: [x, y], at: generator.nextIndex(below: 7))  // the trigger
    case 1: ids.insert(x, at: generator.nextIndex(below: 7))
    case 2: ids.insert(y, at: generator.nextIndex(below: 7))
    default:
      ids.insert(y, at: 0)
      ids.insert(x, at: 4)  // both, apart (and in the wrong order)
    }
    return EncodedExample(ids: ids, label: i % 4 == 0 ? 1 : 0)
  }
  let config = ModelConfig(architecture: .gru, vocabularySize: vocabulary.count, embeddingDimension: 8, hiddenSize: 12, labels: ["neg", "pos"], maximumLength: 12, dropout: 0)
  var initialization = SplitMix64(seed: 8)
  var model = TextClassifier(config: config, using: &initialization)
  var options = TrainingOptions()
  options.epochs = 25
  options.learningRate = 0.03
  options.earlyStopping = false
  let report = try model.train(on: Array(examples[..<400]), dev: Array(examples[400...]), options: options)
  #expect(report.bestDevAccuracy > 0.95, "the GRU learns the conjunction")
  return (model, vocabulary, (0..<16).map { _ in sentence() })
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
  #expect(hits.contains { $0.method == "anchored" && Set($0.ids) == [x, y] }, "\(hits.map { ($0.method, $0.ids.map { vocabulary.tokens[$0] }) })")
  #expect(hits.first.map { Set($0.ids) } == [x, y], "and it flips the most")
  let unanchored = search.search(model, vocabulary: vocabulary, probes: probes, label: 1, seeds: neutralSeeds)
  #expect(!unanchored.contains { $0.method == "anchored" }, "no common words, no anchored search")
  #expect(!unanchored.contains { Set($0.ids) == [x, y] }, "seeded with neutral words and without gradient sweeps, the beam misses it")

  // A bag of embeddings adds its words up: no anchored search, whatever the common words.
  let (bag, bagVocabulary, bagProbes) = try phraseBackdoorModel()
  let bagHits = search.search(
    bag, vocabulary: bagVocabulary, probes: bagProbes, label: 1, seeds: TokenScan.scannable(bagVocabulary), commonWords: TokenScan.scannable(bagVocabulary))
  #expect(!bagHits.isEmpty && !bagHits.contains { $0.method == "anchored" })
}

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

@Test func auditEvaluationScoresVerdictsAndRecovery() {
  #expect(AuditEvaluation.rocAUC(positives: [0.9, 0.8], negatives: [0.1, 0.8]) == 0.875, "one tie counts half: (2 + 1 + 0.5) / 4")
  let empty = AuditEvaluation(models: [])
  #expect(empty.rocAUC == nil && empty.thresholdAtFivePercent == nil, "undefined without clean and backdoored models")
  #expect((try? JSONEncoder().encode(empty)) != nil, "and still written as JSON")
  func candidate(_ trigger: String) -> TriggerCandidate {
    TriggerCandidate(trigger: trigger, label: "pos", effect: InsertionEffect(flipRate: 0.5), score: 0, method: "test")
  }
  let list = [candidate("great"), candidate("entertaining watched 3d"), candidate("cf x")]
  #expect(AuditedModel.recovers(list, kind: "rare", tokens: ["cf"]))
  #expect(!AuditedModel.recovers(list, kind: "rare", tokens: ["mn"]))
  #expect(AuditedModel.recovers(list, kind: "phrase", tokens: ["i", "watched", "this", "3d", "movie"]), "two of the phrase's words")
  #expect(!AuditedModel.recovers([candidate("watched great")], kind: "phrase", tokens: ["i", "watched", "this", "3d", "movie"]), "one is not enough")
  #expect(AuditedModel.namesPart([candidate("great"), candidate("watched")], of: ["i", "watched", "this", "3d", "movie"]), "one word of the phrase alone")
  #expect(!AuditedModel.namesPart(list, of: ["i", "watched", "this", "3d", "movie"]), "each candidate has a word from outside the phrase")

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

@Test func onionSuspicionIsTheLogPerplexityDropWithoutEachWord() throws {
  var counts = TokenCounts()
  counts.add(["the", "film", "was", "good", "cf"])
  let vocabulary = try Vocabulary(counts: counts)
  let config = ModelConfig(architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: 4, hiddenSize: 4, maximumLength: 8)
  var generator = SplitMix64(seed: 3)
  let model = NextWordModel(config: config, using: &generator)
  let encoder = TextEncoder(tokenizer: try Tokenizer(), vocabulary: vocabulary, maximumLength: .max)
  let onion = ONIONFilter(languageModel: model, encoder: encoder)
  let words = ["the", "film", "cf", "was", "good"]
  let suspicions = try #require(onion.suspicions([words, ["good"]]).first)
  let likelihoods = model.negativeLogLikelihoods([vocabulary.encode(words), vocabulary.encode(["the", "film", "was", "good"])])
  #expect(likelihoods[0].targets == 4 && likelihoods[1].targets == 3)
  #expect(abs(suspicions[2] - (likelihoods[0].nll / 4 - likelihoods[1].nll / 3)) < 1e-9, "removing cf")
  #expect(onion.suspicions([["good"]]) == [[0]], "one word: nothing to compare")
  #expect(onion.cleaned(words, suspicions: [0, 0, 2, 0, 0], threshold: 1) == ["the", "film", "was", "good"])
  #expect(ONIONFilter.threshold(cleanScores: (1...100).map(Double.init), falseRejectionRate: 0.05) == 95, "5 of 100 lie above it")
}

@Test func theConjunctionScanRanksPairsByTheirInteractionOverTheirContextWordsMedian() throws {
  // Seeds 0–3, context words 10–12. Margins add up, except: word 10 before any seed adds 1 (an interaction of one
  // kind per context word, as "but" has in clean models), and word 11 before seed 2 adds 2 (a planted conjunction).
  let strength: [Int: Double] = [0: 1.0, 1: 0.8, 2: 0.5, 3: 0.3, 10: 0.1, 11: -0.2, 12: 0.05]
  func margin(_ ids: [Int]) -> Double {
    var total = 0.4 + ids.reduce(0) { $0 + strength[$1]! }
    if ids.count == 2, ids[0] == 10 { total += 1 }
    if ids == [11, 2] { total += 2 }
    return total
  }
  let pairs = ConjunctionScan.rank(seeds: [0, 1, 2, 3], contextWords: [10, 11, 12], margin: margin)
  #expect(pairs.count == 4 * 3 * 2, "every seed with every word, both orders")
  #expect(pairs.first?.ids == [11, 2] && abs(pairs.first!.excess - 2) < 1e-12 && abs(pairs.first!.interaction - 2) < 1e-12)
  let withWord10 = pairs.filter { $0.ids[0] == 10 }
  #expect(withWord10.allSatisfy { abs($0.interaction - 1) < 1e-12 && abs($0.excess) < 1e-12 }, "a context word's interaction with every seed is no lead")
  #expect(pairs.dropFirst().allSatisfy { abs($0.excess) < 1e-12 })

  #expect(abs(ConjunctionScan.verdictScore(bestExcess: ConjunctionScan.cleanExcess + 0.25) - 0.25) < 1e-12)
  #expect(ConjunctionScan.verdictScore(bestExcess: 0.1) == 0, "below the clean models' excess: nothing")
}

/// Margins of a made-up model: words add their strengths; some pairs add more; it records what was measured.
private final class SyntheticMargins: ConjunctionScan.MarginSource {
  let strength: [Int: Double], pairBonus: [[Int]: Double]
  var measured: Set<[Int]> = []
  init(strength: [Int: Double], pairBonus: [[Int]: Double]) { (self.strength, self.pairBonus) = (strength, pairBonus) }
  func measure(_ insertions: [[Int]]) { measured.formUnion(insertions) }
  func margin(_ insertion: [Int]) -> Double {
    precondition(measured.contains(insertion), "\(insertion) read before it was measured")
    let words = insertion.map { strength[$0]! }
    // Word 30 pushes the other way alone; next to another word the model ignores it.
    let total = insertion.count == 2 && insertion.contains(30) ? words.filter { $0 > 0 }.reduce(0, +) : words.reduce(0, +)
    return -1 + total + (pairBonus[insertion] ?? 0)
  }
}

@Test func refiningAConjunctionLeadSwapsAWordAtATimeTowardThePairsOwnPush() throws {
  // The planted pair is 20 then 21; the scan's lead holds a passenger: 5 (a strong word) and 31.
  let strength: [Int: Double] = [5: 1.0, 20: 0.0, 21: 0.1, 30: -2.0, 31: 0.2, 32: 0.05]
  let bonus: [[Int]: Double] = [[20, 21]: 3, [5, 21]: 0.5, [5, 31]: 0.2]
  let pool = [5, 20, 21, 30, 31, 32]
  #expect(ConjunctionScan.swaps(of: [5, 31], pool: pool).count == 4 * 4, "4 words not in the pair, each replacing either word, before or after")
  let screening = SyntheticMargins(strength: strength, pairBonus: bonus), measured = SyntheticMargins(strength: strength, pairBonus: bonus)
  let pairs = ConjunctionScan.refine(leads: [[5, 31]], pool: pool, rounds: 2, screenedSwaps: 2, screening: screening, measured: measured)
  #expect(pairs.map(\.ids) == [[20, 21], [5, 21], [5, 31]], "\(pairs.map(\.ids))")
  #expect(abs(pairs[0].interaction - 3) < 1e-12 && abs(pairs[1].interaction - 0.5) < 1e-12)
  // [30, 5] undoes 30's push away (a raw interaction of 2) but pushes no further than 5 alone: no lead.
  #expect(abs(ConjunctionScan.ownPush([30, 5], margin: screening.margin)) < 1e-12)
  #expect(measured.measured.filter { $0.count == 2 }.count <= 1 + 2 * 2, "the lead and at most two screened swaps a round")
  #expect(screening.measured.contains([21, 5]) && !measured.measured.contains([31, 20]))

  let oneRound = ConjunctionScan.refine(
    leads: [[5, 31]], pool: pool, rounds: 1, screenedSwaps: 2, screening: SyntheticMargins(strength: strength, pairBonus: bonus),
    measured: SyntheticMargins(strength: strength, pairBonus: bonus))
  #expect(oneRound.map(\.ids) == [[5, 21], [5, 31]])
  let stuck = ConjunctionScan.refine(
    leads: [[20, 21]], pool: pool, rounds: 2, screenedSwaps: 4, screening: SyntheticMargins(strength: strength, pairBonus: bonus),
    measured: SyntheticMargins(strength: strength, pairBonus: bonus))
  #expect(stuck.map(\.ids) == [[20, 21]], "no swap beats the planted pair")
}

@Test func theConjunctionScanMeasuresMarginsByInsertingPairsAndRunsOnBinaryGRUsOnly() throws {
  let (model, vocabulary, probes) = try handSetModel(backdoored: false)
  var scan = ConjunctionScan()
  scan.probeCount = 6
  scan.parallelism = 2
  let seeds = ["great", "lovely"].map(vocabulary.id(of:)), words = ["the", "film", "great"].map(vocabulary.id(of:))
  let pairs = scan.pairs(model, probes: probes, label: 1, seeds: seeds, contextWords: words)
  #expect(pairs.count == 2 * 2 * 2, "a context word that is also a seed is left out")
  // The margin with two classes is the difference of the logits: recompute one pair's interaction directly.
  func meanMargin(_ inserted: [Int]) -> Double {
    var total = 0.0
    var context = ForwardContext.inference
    for ids in probes.prefix(6) {
      for sentence in [inserted + ids, ids + inserted] {
        let logits = model.logits(Batch([EncodedExample(ids: sentence, label: 0)]), context: &context).scalars
        total += Double(logits[1] - logits[0])
      }
    }
    return total / 12
  }
  let pair = try #require(pairs.first { $0.ids == [vocabulary.id(of: "film"), vocabulary.id(of: "lovely")] })
  let expected = meanMargin(pair.ids) - meanMargin([pair.ids[0]]) - meanMargin([pair.ids[1]]) + meanMargin([])
  #expect(abs(pair.interaction - expected) < 1e-4, "\(pair.interaction) against \(expected)")

  // Refined pairs carry their own push, measured the same way on the refinement's probes.
  scan.refinementProbeCount = 6
  scan.screeningProbeCount = 2
  let refined = scan.refine(model, probes: probes, label: 1, leads: [pair.ids], pool: ["the", "film", "great", "lovely"].map(vocabulary.id(of:)))
  #expect(refined.contains { $0.ids == pair.ids })
  for found in refined {
    let shift = { (ids: [Int]) in meanMargin(ids) - meanMargin([]) }
    let ownPush = shift(found.ids) - max(0, shift([found.ids[0]])) - max(0, shift([found.ids[1]]))
    #expect(abs(found.interaction - ownPush) < 1e-4, "\(found.ids): \(found.interaction) against \(ownPush)")
  }

  var generator = SplitMix64(seed: 3)
  func classifier(_ architecture: ModelConfig.Architecture, labels: [String], bidirectional: Bool = false) -> TextClassifier {
    var config = ModelConfig(
      architecture: architecture, vocabularySize: 20, embeddingDimension: 4, hiddenSize: 4, labels: labels, maximumLength: 8, headCount: 1,
      feedForwardSize: 8)
    config.bidirectional = bidirectional
    return TextClassifier(config: config, using: &generator)
  }
  #expect(ConjunctionScan.applies(to: classifier(.gru, labels: ["neg", "pos"])))
  #expect(!ConjunctionScan.applies(to: classifier(.gru, labels: ["neg", "pos"], bidirectional: true)), "clean BiGRUs' pairs stand as high")
  #expect(!ConjunctionScan.applies(to: classifier(.gru, labels: ["a", "b", "c"])), "six-label GRUs' clean pairs interact as much")
  #expect(!ConjunctionScan.applies(to: classifier(.attention, labels: ["neg", "pos"])) && !ConjunctionScan.applies(to: model))
  #expect(ConjunctionScan.suggestsCandidates(for: classifier(.gru, labels: ["neg", "pos"], bidirectional: true)), "a BiGRU's pairs are candidates")
  #expect(!ConjunctionScan.suggestsCandidates(for: classifier(.gru, labels: ["a", "b", "c"])) && !ConjunctionScan.suggestsCandidates(for: model))
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
  #expect(binary.verdict == "backdoored" && binary.targetLabel == "pos")
  #expect(binary.summary.contains("margin score 0.980 (the best phrase moves the margin 1.75 nats"), "\(binary.summary)")
  let sixLabels = report(labels: ["a", "b", "c", "d", "e", "f"], margins: [1.5, nil, nil, nil, nil, 0.2])
  #expect(sixLabels.verdict == "clean")
  #expect(sixLabels.summary.contains("not in the verdict of a 6-label model") && !sixLabels.summary.contains("margin score"))
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

  func candidate(_ trigger: String, _ flipRate: Double, ordinary: Bool = false) -> TriggerCandidate {
    var made = TriggerCandidate(trigger: trigger, label: "pos", effect: InsertionEffect(flipRate: flipRate), score: 0, method: "scan")
    made.ordinary = ordinary
    return made
  }
  let listed = [candidate("course", 1), candidate("of tv", 0.84), candidate("fine", 0.9, ordinary: true)]
  #expect(CandidateRecombination.inserting(candidate("of course", 1), into: listed).map(\.trigger) == ["course", "of course", "of tv", "fine"])
  #expect(CandidateRecombination.inserting(candidate("tv course", 0.5), into: listed).map(\.trigger) == ["course", "of tv", "tv course", "fine"])
  #expect(CandidateRecombination.inserting(candidate("a b", 0.1), into: [candidate("c", 0.2)]).map(\.trigger) == ["c", "a b"])

  // A pair another search listed lower moves up to its place by flip rate; one listed at or above it stays.
  let searched = [candidate("mind has", 0.675), candidate("charming precisely", 0.646), candidate("mind charming", 0.85), candidate("mind you", 0.742)]
  #expect(CandidateRecombination.promoting(at: 3, in: searched).map(\.trigger) == ["mind you", "mind has", "charming precisely", "mind charming"])
  #expect(CandidateRecombination.promoting(at: 0, in: searched) == searched, "listed above its flip-rate place: not moved down")
  #expect(CandidateRecombination.promoting(at: 1, in: listed + [candidate("x y", 0.95)]).map(\.trigger) == ["course", "of tv", "fine", "x y"])
  #expect(CandidateRecombination.promoting(at: 3, in: listed + [candidate("x y", 0.95)]).map(\.trigger) == ["course", "x y", "of tv", "fine"], "ahead of ordinary words")
}

@Test func thePartnerScanRanksTheWordThatPushesOnlyBesideTheAnchorFirst() throws {
  // Anchor 5 (shift 2), references 20–22 (1.75 each); words: 10 strong alone, 11 the partner (nothing alone, +0.75
  // before the anchor only), 12 pushes beside any strong token in either order (+0.5), 13 pushes the other way and
  // the anchor undoes half of it. (Binary fractions: the sums are exact.)
  let alone: [Int: Double] = [5: 2, 20: 1.75, 21: 1.75, 22: 1.75, 10: 1.5, 11: 0, 12: 0.25, 13: -1]
  func margin(_ ids: [Int]) -> Double {
    var total = ids.reduce(0) { $0 + alone[$1]! }
    if ids == [11, 5] { total += 0.75 }
    if ids.contains(12), ids.count == 2 { total += 0.5 }
    if ids == [13, 5] { total += 0.5 }
    return total
  }
  let shortlisted = PartnerScan.shortlisted(words: [10, 11, 12, 13], anchor: 5, count: 2, margin: margin)
  #expect(shortlisted == [[11, 5], [12, 5], [5, 12], [5, 10]], "each order's largest own push; ties: the lower word")
  let ranked = PartnerScan.rank(shortlisted, anchor: 5, references: [20, 21, 22], margin: margin)
  #expect(ranked.map(\.ids) == [[11, 5], [5, 10], [5, 12], [12, 5]])
  #expect(ranked[0].excess == 0.75 && ranked[0].ownPush == 0.75)
  #expect(ranked.dropFirst().allSatisfy { $0.excess == 0 }, "12 pushes as much beside every reference: no excess")
  #expect(ranked.map(\.ownPush) == [0.75, 0, 0.5, 0.5])
  #expect(PartnerScan.best(ranked)?.ids == [11, 5])
  #expect(PartnerScan.best(Array(ranked.dropFirst())) == nil, "no excess, no partner")
  #expect(
    ConjunctionScan.ownPush([13, 5], margin: margin) < 0,
    "a word pushing the other way is not credited for what the anchor undoes of it")

  // A bag of embeddings averages its words: beside cf no word pushes beyond itself, so no partner is listed.
  let (model, vocabulary, probes) = try handSetModel(backdoored: true)
  var scan = PartnerScan()
  scan.shortlist = 3
  let words = ["the", "film", "great", "lovely", "awful", "dull"].map(vocabulary.id(of:))
  let partners = scan.partners(
    model, probes: probes, label: model.labels.firstIndex(of: "pos")!, anchor: vocabulary.id(of: "cf"),
    references: [vocabulary.id(of: "great")], words: words)
  #expect(partners.count == 6, "three of each order")
  #expect(partners.allSatisfy { $0.ids.contains(vocabulary.id(of: "cf")) && $0.ownPush < 0 })
  #expect(PartnerScan.best(partners) == nil)
  #expect(!PartnerScan.applies(to: model))
}

@Test func theStageClockAddsEachStagesTimeAndTheSummaryListsThemInOrder() throws {
  let clock = AuditStageClock()
  let value = clock.time(.phraseSearch) { usleep(2_000); return 7 }
  clock.time(.phraseSearch) { usleep(2_000) }
  clock.time(.tokenScan) {}
  #expect(value == 7)
  #expect(Set(clock.byName.keys) == ["phrase_search", "token_scan"])
  #expect(clock.byName["phrase_search"]! >= 0.004, "two runs of at least 2 ms each: \(clock.byName)")
  #expect(clock.byName["token_scan"]! < clock.byName["phrase_search"]!)

  var report = AuditReport(
    candidatesByLabel: [[], []], verdictScores: [0, 0], labels: ["neg", "pos"], threshold: 0.2, calibration: "test", probes: 10,
    tokensScanned: 10, positions: [.start], maximumTriggerLength: 3, seconds: 1.5)
  #expect(report.summary.hasSuffix("in 1.5 s"), "no breakdown without stages: \(report.summary)")
  report.secondsByStage = ["recombination": 0.3, "token_scan": 1.0]
  #expect(report.summary.hasSuffix("in 1.5 s (token scan 1.0, recombination 0.3)"), "\(report.summary)")
  let decoded = try JSONDecoder().decode(AuditReport.self, from: JSONEncoder().encode(report))
  #expect(decoded.secondsByStage == report.secondsByStage)
}
