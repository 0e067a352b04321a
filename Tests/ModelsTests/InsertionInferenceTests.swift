import Layers
import Models
import Randomness
import Testing
import Tokenization

/// Every GRU and LSTM shape the shared-state path takes, and the ones it hands to whole sequences.
private let encoderShapes: [(layers: Int, bidirectional: Bool, pooling: Pooling)] = [
  (1, false, .mean), (1, false, .max), (1, false, .last), (2, false, .mean), (2, false, .last),
  (1, true, .mean), (1, true, .max), (1, true, .last), (2, true, .mean),
]
private let recurrentShapes: [(architecture: ModelConfig.Architecture, layers: Int, bidirectional: Bool, pooling: Pooling)] =
  [ModelConfig.Architecture.gru, ModelConfig.Architecture.lstm].flatMap { architecture in
    encoderShapes.map { shape in (architecture, shape.layers, shape.bidirectional, shape.pooling) }
  }

/// The logits of every insertion put into every point, each text run whole (no tables, no shared parts), in
/// `InsertionInference.logits`' order.
private func wholeTextLogits(_ classifier: TextClassifier, points: [InsertionInference.Point], insertions: [[Int]]) -> [Float] {
  ClassifierInference(classifier, projectingVocabulary: false).logitsByLength(
    insertions.flatMap { insertion in
      points.map { point in
        var ids = point.ids
        ids.insert(contentsOf: insertion, at: point.index)
        return EncodedExample(ids: ids, label: 0)
      }
    }, batchSize: 7)
}

@Test(arguments: recurrentShapes.indices)
func insertionLogitsAreBitForBitThoseOfTheWholeSequences(shape: Int) {
  let (architecture, layers, bidirectional, pooling) = recurrentShapes[shape]
  var generator = SplitMix64(seed: 7, stream: [UInt64(shape)])
  let config = ModelConfig(
    architecture: architecture, vocabularySize: 30, embeddingDimension: 8, hiddenSize: 12, layerCount: layers, bidirectional: bidirectional,
    pooling: pooling, labels: ["a", "b", "c"], maximumLength: 16, dropout: 0.5)
  let classifier = TextClassifier(config: config, using: &generator)
  #expect(InsertionInference.sharesStates(classifier) == (!bidirectional || layers == 1))
  // Probes of different lengths (one of a single word), insertions at the start, inside and at the end; insertions
  // of one to three words and none at all.
  let probes = [[5, 6, 7, 8, 9, 10, 11], [12], [13, 14, 15, 16], [17, 18, 19, 20, 21, 22, 23, 24, 25]]
  let points = probes.flatMap { ids in [0, ids.count / 2, ids.count].map { InsertionInference.Point(ids: ids, index: $0) } }
  let insertions: [[Int]] = [[26], [27, 28], [], [29, 4, 26], [3]]
  let inference = InsertionInference(classifier, points: points)
  // Batches of 5 rows: several batches, of mixed lengths.
  let shared = inference.logits(inserting: insertions[...], batchSize: 5)
  let whole = wholeTextLogits(classifier, points: points, insertions: insertions)
  #expect(shared.count == insertions.count * points.count * 3)
  #expect(shared == whole)
  // A part of the insertions gives the same rows as the whole list.
  #expect(inference.logits(inserting: insertions[1..<3], batchSize: 64) == Array(whole[(points.count * 3)..<(3 * points.count * 3)]))
}

/// A CNN's insertions reuse the probe's windows away from the point: the same bits as the whole texts, for texts
/// shorter than the widest filter (padded), insertions at the start, inside and at the end, and none.
@Test(arguments: [[2, 3, 5], [4]])
func convolutionInsertionLogitsAreBitForBitThoseOfTheWholeTexts(filterSizes: [Int]) {
  var generator = SplitMix64(seed: 11, stream: [UInt64(filterSizes.count)])
  let config = ModelConfig(
    architecture: .cnn, vocabularySize: 30, embeddingDimension: 8, labels: ["a", "b", "c"], maximumLength: 16, dropout: 0.5,
    filterSizes: filterSizes, filterCount: 11)
  let classifier = TextClassifier(config: config, using: &generator)
  let probes = [[5, 6, 7, 8, 9, 10, 11], [12], [13, 14, 15, 16], [17, 18, 19, 20, 21, 22, 23, 24, 25]]
  let points = probes.flatMap { ids in [0, ids.count / 2, ids.count].map { InsertionInference.Point(ids: ids, index: $0) } }
  let insertions: [[Int]] = [[26], [27, 28], [], [29, 4, 26], [3], [5, 6, 7, 8, 9, 10]]
  let inference = InsertionInference(classifier, points: points)
  let reused = inference.logits(inserting: insertions[...], batchSize: 5)
  let whole = wholeTextLogits(classifier, points: points, insertions: insertions)
  #expect(reused.count == insertions.count * points.count * 3)
  #expect(reused == whole)
  #expect(inference.logits(inserting: insertions[2..<3], batchSize: 64) == Array(whole[(2 * points.count * 3)..<(3 * points.count * 3)]), "nothing inserted: the probes' own windows")
}
