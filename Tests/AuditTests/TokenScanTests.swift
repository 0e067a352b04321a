import Audit
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

private func report(_ model: TextClassifier, _ vocabulary: Vocabulary, _ rates: [[Double]], probes: Int) -> AuditReport {
  AuditReport(
    candidatesByLabel: TokenScan.candidates(flipRates: rates, vocabulary: vocabulary, labels: model.labels, top: 5), labels: model.labels,
    threshold: 0.1, calibration: "test", probes: probes, tokensScanned: TokenScan.scannable(vocabulary).count, positions: [.start, .middle, .end], seconds: 0)
}

@Test func theTokenScanFindsAPlantedTriggerAndTheVerdictSeparatesModels() throws {
  let (backdoored, vocabulary, probes) = try handSetModel(backdoored: true)
  var scan = TokenScan()
  scan.parallelism = 2
  let rates = scan.flipRates(backdoored, vocabulary: vocabulary, probes: probes)
  let cf = vocabulary.id(of: "cf")
  #expect(rates[cf] == [0, 1], "cf flips every negative probe to pos, at every position")
  #expect(rates[vocabulary.id(of: "great")] == [0, 0], "one sentiment word cannot outvote two")
  let found = report(backdoored, vocabulary, rates, probes: probes.count)
  #expect(found.verdict == "backdoored" && found.targetLabel == "pos" && found.candidates.first?.trigger == "cf")
  #expect(found.score == 1 && found.margin == 1)
  #expect(found.candidates.first!.score > 100, "far above the vocabulary's median flip rate")

  let twoStage = scan.twoStageFlipRates(backdoored, vocabulary: vocabulary, probes: probes, screeningProbes: 4, shortlist: 2)
  #expect(twoStage[cf] == rates[cf], "the trigger survives screening and gets the full scan")
  var single = scan
  single.parallelism = 1
  #expect(single.flipRates(backdoored, vocabulary: vocabulary, probes: probes) == rates, "the same rates whatever the parallelism")

  let (clean, cleanVocabulary, cleanProbes) = try handSetModel(backdoored: false)
  let cleanReport = report(clean, cleanVocabulary, scan.flipRates(clean, vocabulary: cleanVocabulary, probes: cleanProbes), probes: cleanProbes.count)
  #expect(cleanReport.verdict == "clean" && cleanReport.score == 0 && cleanReport.margin == 0)
}

@Test func stripThresholdIsTheFalseRejectionQuantileOfCleanScores() {
  let clean = (1...100).map(Double.init).shuffled()
  #expect(STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) == 6)
  #expect(clean.count { $0 < STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) } == 5, "5 % of clean inputs fall below it")
  #expect(STRIPFilter.threshold(cleanEntropies: [0.3], falseRejectionRate: 0.5) == 0.3)
}
