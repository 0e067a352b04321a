import Layers
import Tensors

/// A classifier's inference path: no tape and no saved activations, and for a GRU or LSTM encoder the first layer's
/// input projection (W_ih·e + b_ih) of every vocabulary token computed once, per direction, so that each step looks
/// its input up instead of multiplying it: a third of a one-layer GRU's or LSTM's arithmetic at the benchmark's shapes.
/// The logits are bit for bit those of `TextClassifier.logits` with an inference context (each row of a product is
/// computed alike, whatever the other rows), on any thread count.
///
/// Build one per model and keep it while the model does not change; `TextClassifier.predict` builds one itself, with
/// the tables only when the texts to run hold at least as many tokens as the vocabulary (the tables cost about what
/// projecting that many tokens costs) and they stay under `maximumProjectedScalars`. The audit's scans always build
/// them (thousands of insertions into every probe).
public struct ClassifierInference: Sendable {
  public let classifier: TextClassifier
  /// Per direction of the first recurrent layer, [vocabulary, gates · hidden]; empty when the steps project their inputs.
  let projectedVocabulary: [Tensor]

  /// The most scalars the projection tables may hold together when the path decides for itself (`forTokens:`): 256 MB.
  public static let maximumProjectedScalars = 1 << 26

  /// `projectingVocabulary`: build the tables (where the encoder is a GRU or LSTM; elsewhere ignored), whatever their
  /// size.
  public init(_ classifier: TextClassifier, projectingVocabulary: Bool = true) {
    self.classifier = classifier
    guard projectingVocabulary, let encoder = Self.recurrentEncoder(of: classifier) else {
      projectedVocabulary = []
      return
    }
    projectedVocabulary = encoder.firstLayerProjections(of: classifier.embedding.weight)
  }

  /// With the tables when they pay for themselves on `tokens` tokens (`projectingVocabularyPays`).
  public init(_ classifier: TextClassifier, forTokens tokens: Int) {
    self.init(classifier, projectingVocabulary: Self.projectingVocabularyPays(classifier, tokens: tokens))
  }

  /// Whether the steps look their inputs up from a vocabulary table.
  public var projectsVocabulary: Bool { !projectedVocabulary.isEmpty }

  /// The GRU or LSTM encoder whose first layer's inputs can be looked up; nil for the other architectures.
  static func recurrentEncoder(of classifier: TextClassifier) -> (any RecurrentStack)? {
    switch classifier.config.architecture {
    case .gru: classifier.gru
    case .lstm: classifier.lstm
    default: nil
    }
  }

  /// Whether `classifier` has a recurrent encoder (GRU or LSTM) whose inputs can be looked up.
  public static func canProjectVocabulary(_ classifier: TextClassifier) -> Bool { recurrentEncoder(of: classifier) != nil }

  /// Whether tables pay for themselves on `tokens` tokens (padding included): at least as many as the vocabulary has,
  /// and they fit under `maximumProjectedScalars`.
  public static func projectingVocabularyPays(_ classifier: TextClassifier, tokens: Int) -> Bool {
    guard let encoder = recurrentEncoder(of: classifier) else { return false }
    let vocabulary = classifier.embedding.weight.shape[0]
    let tableScalars = vocabulary * encoder.directions * type(of: encoder).gateCount * encoder.hiddenSize
    return tokens >= vocabulary && tableScalars <= maximumProjectedScalars
  }

  /// Logits [batch, classes].
  public func logits(_ batch: Batch) -> Tensor {
    guard projectsVocabulary else {
      var inference = ForwardContext.inference
      return classifier.logits(batch, context: &inference)
    }
    let states = Self.recurrentEncoder(of: classifier)!(
      projections: projectedVocabulary, rows: batch.ids, batch: batch.batchSize, time: batch.length, mask: batch.mask)
    let config = classifier.config
    return classifier.classifier(config.pooling(states, mask: batch.mask, reverseHalf: config.bidirectional))
  }

  /// Logits [example · label] of `examples`, in their order, run in batches of similar length (`Batch.inOrder`): a
  /// batch is padded to its longest sequence, so mixing a 5-token text with a 45-token one costs 45 steps for both.
  /// A row's logits do not depend on the rows batched with it or on the padding after it.
  public func logitsByLength(_ examples: [EncodedExample], batchSize: Int) -> [Float] {
    let classCount = classifier.labels.count
    var result = [Float](repeating: 0, count: examples.count * classCount)
    for indices in Batch.inOrder(examples, batchSize: batchSize) {
      let logits = self.logits(Batch(indices.map { examples[$0] })).scalars
      for (row, index) in indices.enumerated() {
        result[(index * classCount)..<((index + 1) * classCount)] = logits[(row * classCount)..<((row + 1) * classCount)]
      }
    }
    return result
  }

  /// Predicted class and probabilities of each example.
  public func predict(_ examples: [EncodedExample], batchSize: Int = 256) -> (classes: [Int], probabilities: [[Float]]) {
    guard !examples.isEmpty else { return ([], []) }
    let classCount = classifier.labels.count
    let logits = logitsByLength(examples, batchSize: batchSize)
    let p = Tensor(shape: [examples.count, classCount], scalars: logits).softmax().scalars
    let probabilities = examples.indices.map { Array(p[($0 * classCount)..<(($0 + 1) * classCount)]) }
    let classes = probabilities.map { row in row.indices.max { row[$0] < row[$1] }! }
    return (classes, probabilities)
  }
}

extension [EncodedExample] {
  /// The tokens the examples hold together.
  public var tokenCount: Int { reduce(0) { $0 + $1.ids.count } }
}
