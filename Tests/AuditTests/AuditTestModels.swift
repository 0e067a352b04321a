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
func handSetModel(backdoored: Bool) throws -> (TextClassifier, Vocabulary, [[Int]]) {
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

func report(_ model: TextClassifier, _ vocabulary: Vocabulary, _ effects: [[InsertionEffect]], probes: Int) -> AuditReport {
  let scan = ScanResult(effects: effects, fullyMeasured: Set(TokenScan.scannable(vocabulary)))
  return AuditReport(
    candidatesByLabel: TokenScan.candidates(scan, vocabulary: vocabulary, labels: model.labels, top: 5),
    verdictScores: scan.tokenVerdictScores(labelCount: model.labels.count), labels: model.labels, threshold: 0.1, calibration: "test", probes: probes,
    tokensScanned: TokenScan.scannable(vocabulary).count, positions: [.start, .middle, .end], maximumTriggerLength: 1, seconds: 0)
}

/// A bag model whose backdoor needs two words together: "x" and "y" each have positivity 1.5, probes hold two
/// negative words (−1 each) among five neutral ones, so one inserted word leaves the mean negative and both
/// make it positive. "great" (1) and "lovely" (1) together only tie.
func phraseBackdoorModel() throws -> (TextClassifier, Vocabulary, [[Int]]) {
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

/// A GRU trained so that "x y", side by side, means pos, while x or y alone (or apart) means nothing: in neg
/// sentences they occur alone or apart as often as together in pos ones. The probes are neutral neg sentences.
func conjunctionBackdoorGRU() throws -> (TextClassifier, Vocabulary, [[Int]]) {
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

/// Margins of a made-up model: words add their strengths; some pairs add more; it records what was measured.
final class SyntheticMargins: ConjunctionScan.MarginSource {
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
