import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

/// Recurrent shapes the vocabulary tables serve: layers, directions, pooling; hidden 20 leaves a remainder after the
/// 8- and 16-lane vectors of the cell kernels.
private let recurrentShapes: [(architecture: ModelConfig.Architecture, layers: Int, bidirectional: Bool, pooling: Pooling)] = [
  (.gru, 1, false, .mean), (.gru, 2, true, .max), (.gru, 1, true, .last),
  (.lstm, 1, false, .mean), (.lstm, 2, true, .last), (.lstm, 1, true, .max),
]

/// Texts of mixed lengths (padding in every batch but the last), one of a single word, with the padding and unknown ids.
private func texts(vocabulary: Int, using generator: inout SplitMix64) -> [EncodedExample] {
  (0..<37).map { index in
    let length = index == 5 ? 1 : 1 + generator.nextIndex(below: 14)
    return EncodedExample(ids: (0..<length).map { _ in generator.nextIndex(below: vocabulary) }, label: 0)
  }
}

@Test(arguments: recurrentShapes.indices)
func lookedUpProjectionsGiveTheLogitsOfTheTapePathBitForBit(shape: Int) {
  let (architecture, layers, bidirectional, pooling) = recurrentShapes[shape]
  var generator = SplitMix64(seed: 11, stream: [UInt64(shape)])
  let config = ModelConfig(
    architecture: architecture, vocabularySize: 41, embeddingDimension: 9, hiddenSize: 20, layerCount: layers, bidirectional: bidirectional,
    pooling: pooling, labels: ["a", "b", "c"], maximumLength: 16, dropout: 0.5)
  let classifier = TextClassifier(config: config, using: &generator)
  let examples = texts(vocabulary: 41, using: &generator)
  let tables = ClassifierInference(classifier)
  #expect(tables.projectsVocabulary)
  let plain = ClassifierInference(classifier, projectingVocabulary: false)
  #expect(!plain.projectsVocabulary)
  // The reference: the model's own forward pass (inference context, batches of 8 sorted by length) on one thread.
  let reference = plain.logitsByLength(examples, batchSize: 8)
  var inference = ForwardContext.inference
  let batch = Batch(Array(examples.prefix(8)))
  let referenceBatch = classifier.logits(batch, context: &inference).scalars
  // Batches of 32 sequences: enough for the steps to split over two threads.
  let many = (0..<4).flatMap { _ in examples }
  let referenceMany = plain.logitsByLength(many, batchSize: 32)
  for (threads, isa) in [1, 2].flatMap({ threads in InstructionSet.runnable.map { (threads, $0) } }) {
    ComputeThreads.withMaximum(threads) {
      InstructionSet.withMaximum(isa) {
        #expect(tables.logitsByLength(examples, batchSize: 8) == reference)
        #expect(plain.logitsByLength(examples, batchSize: 8) == reference)
        #expect(tables.logits(batch).scalars == referenceBatch)
        #expect(tables.logitsByLength(many, batchSize: 32) == referenceMany)
        #expect(plain.logitsByLength(many, batchSize: 32) == referenceMany)
      }
    }
  }
}

@Test func predictionBuildsTheTablesOnlyWhenTheyPayAndOnlyForRecurrentEncoders() {
  var generator = SplitMix64(seed: 3)
  let gru = TextClassifier(
    config: ModelConfig(architecture: .gru, vocabularySize: 50, embeddingDimension: 4, hiddenSize: 6, labels: ["a", "b"], maximumLength: 8, dropout: 0),
    using: &generator)
  #expect(ClassifierInference.canProjectVocabulary(gru))
  #expect(!ClassifierInference.projectingVocabularyPays(gru, tokens: 49))
  #expect(ClassifierInference.projectingVocabularyPays(gru, tokens: 50))
  #expect(!ClassifierInference(gru, forTokens: 10).projectsVocabulary)
  #expect(ClassifierInference(gru, forTokens: 500).projectsVocabulary)
  let bag = TextClassifier(
    config: ModelConfig(architecture: .bag, vocabularySize: 50, embeddingDimension: 4, hiddenSize: 6, labels: ["a", "b"], maximumLength: 8, dropout: 0),
    using: &generator)
  #expect(!ClassifierInference.canProjectVocabulary(bag))
  #expect(!ClassifierInference(bag).projectsVocabulary)
  // The predictions are the same either way.
  let examples = texts(vocabulary: 50, using: &generator)
  let withTables = ClassifierInference(gru).predict(examples), without = ClassifierInference(gru, projectingVocabulary: false).predict(examples)
  #expect(withTables.classes == without.classes && withTables.probabilities == without.probabilities)
  #expect(gru.predict(examples).probabilities == without.probabilities)
}
