import Foundation
import Layers
import Models
import Randomness
import Tensors
import Testing
import TestSupport
import Tokenization

private func tinyConfig(_ architecture: ModelConfig.Architecture, vocabulary: Int = 12) -> ModelConfig {
  ModelConfig(architecture: architecture, vocabularySize: vocabulary, embeddingDimension: 8, hiddenSize: 8, labels: architecture == .gruLanguageModel ? nil : ["neg", "pos"],
              maximumLength: 6, headCount: 2, feedForwardSize: 16, dropout: 0.1)
}

@Test(arguments: [ModelConfig.Architecture.bag, .gru, .attention])
func classifierParameterNamesFollowPyTorch(architecture: ModelConfig.Architecture) {
  var generator = SplitMix64(seed: 1)
  let model = TextClassifier(config: tinyConfig(architecture), using: &generator)
  let names = model.parameterPaths.map(\.name)
  #expect(names.first == "embedding.weight")
  #expect(names.suffix(2) == ["classifier.weight", "classifier.bias"])
  switch architecture {
  case .gru: #expect(names.contains("gru.weight_hh_l0"))
  case .attention:
    #expect(names.contains("position.weight"))
    #expect(names.contains("encoder.layers.0.self_attn.in_proj_weight"))
    #expect(names.contains("encoder.norm.weight"))
  default: #expect(names.count == 3)
  }
  // One parameter vector out and back in.
  let vector = model.flattenedParameters
  #expect(vector.count == model.parameterCount)
  #expect(model.loadingParameters(from: vector).flattenedParameters == vector)
}

@Test(arguments: [ModelConfig.Architecture.bag, .gru, .attention])
func classifierGradientMatchesFiniteDifferences(architecture: ModelConfig.Architecture) {
  var generator = SplitMix64(seed: 2)
  var config = tinyConfig(architecture)
  config.dropout = 0
  let model = TextClassifier(config: config, using: &generator)
  let batch = Batch([EncodedExample(ids: [3, 4, 5], label: 1), EncodedExample(ids: [6, 2], label: 0)])
  expectGradientMatchesFiniteDifferences(at: model, maximumChecksPerParameter: 6) { m, _ in
    var context = ForwardContext.inference
    return m.loss(batch, context: &context)
  }
}

@Test func paddingDoesNotChangeAClassifiersOutput() {
  var generator = SplitMix64(seed: 3)
  for architecture in [ModelConfig.Architecture.bag, .gru, .attention] {
    let model = TextClassifier(config: tinyConfig(architecture), using: &generator)
    var context = ForwardContext.inference
    let alone = model.logits(Batch([EncodedExample(ids: [3, 4], label: 0)]), context: &context)
    let padded = model.logits(Batch([EncodedExample(ids: [3, 4], label: 0), EncodedExample(ids: [5, 6, 7, 8, 9], label: 0)]), context: &context)
    #expect(alone.isApproximatelyEqual(to: Tensor(shape: [1, 2], scalars: Array(padded.scalars[0..<2])), tolerance: 1e-5), "\(architecture)")
  }
}

@Test func trainingLearnsASeparableTaskAndIsReproducible() throws {
  // Class 1 iff token 3 occurs: a bag of embeddings must learn it.
  var generator = SplitMix64(seed: 4)
  let examples = (0..<200).map { i -> EncodedExample in
    var ids = (0..<4).map { _ in 4 + generator.nextIndex(below: 8) }
    if i % 2 == 1 { ids[generator.nextIndex(below: 4)] = 3 }
    return EncodedExample(ids: ids, label: i % 2)
  }
  var options = TrainingOptions()
  options.epochs = 15
  options.learningRate = 0.05
  func trained() throws -> (TextClassifier, TrainingReport) {
    var initialization = SplitMix64(seed: 5)
    var model = TextClassifier(config: tinyConfig(.bag), using: &initialization)
    let report = try model.train(on: Array(examples[0..<160]), dev: Array(examples[160...]), options: options)
    return (model, report)
  }
  let (model, report) = try trained()
  #expect(report.bestDevAccuracy > 0.95)
  #expect(model.evaluate(Array(examples[160...])).accuracy == report.bestDevAccuracy)
  let (again, _) = try trained()
  #expect(again.flattenedParameters == model.flattenedParameters, "same seed must give the same bits")
}

@Test func metricsMatchHandCounts() {
  let metrics = ClassificationMetrics(labels: ["a", "b", "c"], truth: [0, 0, 1, 1, 2, 2], predictions: [0, 1, 1, 1, 2, 0])
  #expect(metrics.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
  #expect(abs(metrics.accuracy - 4.0 / 6) < 1e-12)
  #expect(metrics.precision == [0.5, 2.0 / 3, 1])
  #expect(metrics.recall == [0.5, 1, 0.5])
  #expect(abs(metrics.macroF1 - (0.5 + 0.8 + 2.0 / 3) / 3) < 1e-12)
}

@Test func languageModelLearnsARepeatingSequenceAndCompletes() throws {
  var config = tinyConfig(.gruLanguageModel, vocabulary: 10)
  config.dropout = 0
  var generator = SplitMix64(seed: 6)
  var model = NextWordModel(config: config, using: &generator)
  // 4 5 6 7 4 5 6 7 …: the next word is always determined.
  let stream = (0..<200).map { 4 + $0 % 4 }
  let windows = stride(from: 0, to: 190, by: 8).map { TextWindow(inputs: Array(stream[$0..<($0 + 8)]), targets: Array(stream[($0 + 1)..<($0 + 9)])) }
  var options = LanguageModelTrainingOptions()
  options.batchSize = 8
  options.epochs = 60
  options.learningRate = 0.02
  _ = try model.train(on: windows, options: options)
  let metrics = model.evaluate(windows)
  #expect(metrics.top1Accuracy > 0.95)
  #expect(metrics.perplexity < 1.5)
  #expect(model.nextWords(after: [4, 5, 6], count: 1).first?.id == 7)
  // The last-position distribution of sequences of different lengths, batched, is each one's own.
  let sequences = [[4, 5, 6], [5], [6, 7, 4, 5, 6, 7]]
  let batched = model.nextWordProbabilities(afterEach: sequences, batchSize: 2)
  for (sequence, probabilities) in zip(sequences, batched) {
    #expect(probabilities.count == 10 && abs(probabilities.reduce(0, +) - 1) < 1e-5)
    let alone = model.nextWords(after: sequence, count: 3)
    for (id, probability) in alone { #expect(abs(probabilities[id] - probability) < 1e-6, "\(sequence): word \(id)") }
  }
}

@Test func aLearningRateThatBlowsUpTheWeightsStopsTrainingAndKeepsTheLastGoodOnes() throws {
  var generator = SplitMix64(seed: 6)
  let examples = (0..<64).map { i in EncodedExample(ids: (0..<4).map { _ in 4 + generator.nextIndex(below: 8) }, label: i % 2) }
  var options = TrainingOptions()
  options.epochs = 3
  options.learningRate = 3e38  // Adam moves each weight by about this: the second step overflows Float
  options.gradientClipNorm = 0
  var initialization = SplitMix64(seed: 7)
  for architecture in [ModelConfig.Architecture.bag, .gru] {
    var model = TextClassifier(config: tinyConfig(architecture), using: &initialization)
    let initial = model.flattenedParameters
    #expect(throws: TrainingDiverged.self, "\(architecture)") { try model.train(on: Array(examples[0..<48]), dev: Array(examples[48...]), options: options) }
    #expect(model.parametersAreFinite, "\(architecture): the model is left with finite weights")
    #expect(model.flattenedParameters == initial, "\(architecture): no epoch finished, so the initial weights are the last good ones")
  }
}

/// Training on the AVX-512 kernels gives the AVX2 kernels' bits for every architecture: each element of every product
/// and gate is the same chain of operations on both paths. Hidden 40 and batches of 16 reach the 12×32 GEMM tile, its
/// left-over rows and columns, and the gates' 16-lane blocks and 8-lane tails.
@Test(.enabled(if: InstructionSet.supported == .avx512, "this CPU has no AVX-512"),
      arguments: [ModelConfig.Architecture.gru, .lstm, .cnn, .attention, .transformer])
func trainingGivesTheSameBitsOnAVX512AsOnAVX2(architecture: ModelConfig.Architecture) throws {
  var generator = SplitMix64(seed: 6)
  let examples = (0..<48).map { i -> EncodedExample in
    EncodedExample(ids: (0..<(3 + i % 4)).map { _ in 3 + generator.nextIndex(below: 9) }, label: i % 2)
  }
  var config = tinyConfig(architecture)
  config.embeddingDimension = 40
  config.hiddenSize = 40
  config.feedForwardSize = 48
  var options = TrainingOptions()
  options.epochs = 2
  options.batchSize = 16
  func trainedParameters(_ level: InstructionSet) throws -> [Float] {
    try InstructionSet.withMaximum(level) {
      var initialization = SplitMix64(seed: 7)
      var model = TextClassifier(config: config, using: &initialization)
      _ = try model.train(on: Array(examples[0..<40]), dev: Array(examples[40...]), options: options)
      return model.flattenedParameters
    }
  }
  let narrow = try trainedParameters(.avx2), wide = try trainedParameters(.avx512)
  #expect(narrow.count == wide.count)
  let differing = zip(narrow, wide).filter { $0.bitPattern != $1.bitPattern }.count
  #expect(differing == 0, "\(architecture): \(differing) of \(narrow.count) parameters differ")
}

@Test func languageModelScoresOnlyTheTargetsAskedForAndAgreesWithItsLogits() {
  let config = ModelConfig(architecture: .gruLanguageModel, vocabularySize: 12, embeddingDimension: 6, hiddenSize: 6, maximumLength: 16)
  var generator = SplitMix64(seed: 9)
  let model = NextWordModel(config: config, using: &generator)
  let sequences = [[2, 5, 7, 3, 9], [4, 4], [8], [], [3, 10, 11, 2, 6, 5, 7]]
  // Independently: the log-softmax of each sequence's own logits at each position.
  var context = ForwardContext.inference
  let expected = sequences.map { sequence -> [Double] in
    guard sequence.count >= 2 else { return [] }
    let logits = model.logits(Batch([EncodedExample(ids: Array(sequence.dropLast()), label: -1)]), context: &context).scalars
    return sequence.dropFirst().enumerated().map { position, target in
      let row = logits[(position * 12)..<((position + 1) * 12)].map(Double.init)
      let largest = row.max()!
      return -(row[target] - largest - log(row.map { exp($0 - largest) }.reduce(0, +)))
    }
  }
  let all = model.targetNegativeLogLikelihoods(sequences, from: Array(repeating: 1, count: sequences.count), batchSize: 2)
  for (got, want) in zip(all, expected) {
    #expect(got.count == want.count && zip(got, want).allSatisfy { abs($0 - $1) < 1e-4 }, "\(got) against \(want)")
  }
  // From a later start: the same values for the later targets, nothing for the earlier ones.
  let later = model.targetNegativeLogLikelihoods(sequences, from: [3, 1, 1, 0, 6])
  #expect(later[0] == Array(all[0].dropFirst(2)) && later[4] == Array(all[4].dropFirst(5)))
  #expect(later[1] == all[1] && later[2].isEmpty && later[3].isEmpty)
  let totals = model.negativeLogLikelihoods(sequences)
  #expect(totals.map(\.targets) == [4, 1, 0, 0, 6] && zip(totals, all).allSatisfy { $0.nll == $1.reduce(0, +) })
}
