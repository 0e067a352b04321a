import Layers
import Randomness
import Tensors
import Tokenization

/// A text classifier with one of these encoders over token embeddings:
/// - bag (fastText-like): mean of the embeddings → dropout → linear;
/// - gru, lstm: dropout(embeddings) → GRU or LSTM → pooling → dropout → linear;
/// - cnn (Kim 2014): embeddings → per filter width a convolution, ReLU and max over time → concatenated → dropout →
///   linear (a text shorter than the widest filter is padded with the padding token up to it);
/// - attention: dropout(embeddings + learned positions) → norm-first transformer layers (padding-masked)
///   → final LayerNorm → masked mean → dropout → linear;
/// - transformer: the same with PyTorch's `nn.TransformerEncoder` as configured (post-norm unless `norm_first`, ReLU or
///   GELU, the final LayerNorm only when `final_norm`).
/// Parameters carry PyTorch state_dict names (`embedding.weight`, `gru.weight_ih_l0`, `lstm.weight_hh_l0`, `position.weight`,
/// `encoder.layers.0.…`, `encoder.norm.…`, `classifier.weight`).
public struct TextClassifier: Parameterized, Sendable {
  public var config: ModelConfig
  public var embedding: Embedding
  public var gru: GRU?
  public var lstm: LSTM?
  /// CNN only: one filter bank per width, `convs.{i}`.
  public var convolutions: [TextConvolution] = []
  public var position: Embedding?
  public var encoderLayers: [TransformerEncoderLayer]
  public var encoderNorm: LayerNorm?
  public var classifier: Linear

  public init<G: RandomNumberGenerator>(config: ModelConfig, using generator: inout G) {
    precondition(config.isClassifier, "TextClassifier needs a classifier architecture; got \(config.architecture)")
    precondition(config.validationProblems().isEmpty, "invalid config: \(config.validationProblems().joined(separator: "; "))")
    self.config = config
    embedding = Embedding(count: config.vocabularySize, dimension: config.embeddingDimension, paddingIndex: Vocabulary.labPaddingID, using: &generator)
    encoderLayers = []
    let features: Int
    switch config.architecture {
    case .bag:
      features = config.embeddingDimension
    case .gru:
      let gru = GRU(inputSize: config.embeddingDimension, hiddenSize: config.hiddenSize, layers: config.layerCount,
                    bidirectional: config.bidirectional, using: &generator)
      self.gru = gru
      features = gru.outputSize
    case .lstm:
      let lstm = LSTM(inputSize: config.embeddingDimension, hiddenSize: config.hiddenSize, layers: config.layerCount,
                      bidirectional: config.bidirectional, using: &generator)
      self.lstm = lstm
      features = lstm.outputSize
    case .cnn:
      convolutions = config.filterSizes!.map {
        TextConvolution(inputSize: config.embeddingDimension, filters: config.filterCount!, width: $0, using: &generator)
      }
      features = config.filterCount! * config.filterSizes!.count
    case .attention:
      position = Embedding(count: config.maximumLength, dimension: config.embeddingDimension, using: &generator)
      encoderLayers = (0..<config.layerCount).map { _ in
        TransformerEncoderLayer(dimension: config.embeddingDimension, heads: config.headCount!, feedForwardSize: config.feedForwardSize!,
                                dropout: config.dropout, using: &generator)
      }
      encoderNorm = LayerNorm(features: config.embeddingDimension)
      features = config.embeddingDimension
    case .transformer:
      position = Embedding(count: config.maximumLength, dimension: config.embeddingDimension, using: &generator)
      let epsilon = config.layerNormEpsilon ?? 1e-5
      encoderLayers = (0..<config.layerCount).map { _ in
        var layer = TransformerEncoderLayer(
          dimension: config.embeddingDimension, heads: config.headCount!, feedForwardSize: config.feedForwardSize!, dropout: config.dropout,
          using: &generator)
        layer.normFirst = config.normFirst ?? false
        layer.activation = TransformerEncoderLayer.Activation(rawValue: config.activation ?? "relu") ?? .relu
        (layer.norm1.epsilon, layer.norm2.epsilon) = (epsilon, epsilon)
        return layer
      }
      if config.finalNorm == true {
        encoderNorm = LayerNorm(features: config.embeddingDimension)
        encoderNorm!.epsilon = epsilon
      }
      features = config.embeddingDimension
    case .gruLanguageModel:
      preconditionFailure("unreachable")
    }
    classifier = Linear(inputSize: features, outputSize: config.labels!.count, using: &generator)
  }

  public var labels: [String] { config.labels ?? [] }

  /// Logits [batch, classes].
  public func logits(_ batch: Batch, context: inout ForwardContext) -> Tensor {
    classifier(context.dropout(features(batch, context: &context), rate: config.dropout))
  }

  /// The pooled representation the classifier head reads [batch, features] (hidden units, or model width).
  public func features(_ batch: Batch, context: inout ForwardContext) -> Tensor {
    if config.architecture == .cnn { return convolutionFeatures(batch) }
    let embedded = embedding(batch.ids, shape: batch.shape)
    let rate = config.dropout
    let features: Tensor
    switch config.architecture {
    case .bag:
      features = Pooling.mean(embedded, mask: batch.mask)
    case .gru:
      let states = gru!(context.dropout(embedded, rate: rate), mask: batch.mask, context: &context)
      features = config.pooling(states, mask: batch.mask, reverseHalf: config.bidirectional)
    case .lstm:
      let states = lstm!(context.dropout(embedded, rate: rate), mask: batch.mask, context: &context)
      features = config.pooling(states, mask: batch.mask, reverseHalf: config.bidirectional)
    case .attention, .transformer:
      let positions = position!(Array(0..<batch.length), shape: [batch.length])  // [T, d], broadcast over the batch
      var h = context.dropout(embedded + positions, rate: rate)
      for layer in encoderLayers { h = layer(h, keyMask: batch.mask, context: &context) }
      features = Pooling.mean(encoderNorm.map { $0(h) } ?? h, mask: batch.mask)
    case .cnn, .gruLanguageModel:
      preconditionFailure("unreachable")
    }
    return features
  }

  /// The CNN's features: every text padded with the padding token to the batch's length, at least the widest
  /// filter's, so that a short text's windows read the padding embedding as in PyTorch.
  func convolutionFeatures(_ batch: Batch) -> Tensor {
    let widest = config.filterSizes!.max()!
    let length = Swift.max(batch.length, widest), padding = embedding.paddingIndex ?? Vocabulary.labPaddingID
    var ids = [Int](repeating: padding, count: batch.batchSize * length)
    var lengths = [Int](repeating: 0, count: batch.batchSize)
    for row in 0..<batch.batchSize {
      for t in 0..<batch.length where batch.mask.scalars[row * batch.length + t] != 0 {
        ids[row * length + t] = batch.ids[row * batch.length + t]
        lengths[row] += 1
      }
    }
    let embedded = embedding(ids, shape: [batch.batchSize, length])
    let pooled = convolutions.map { $0(embedded, lengths: lengths, minimumLength: widest) }
    return pooled.count == 1 ? pooled[0] : Tensor.concatenating(pooled, alongAxis: 1)
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<TextClassifier, Tensor>)] {
    var paths = nestedParameterPaths("embedding", \TextClassifier.embedding, in: embedding)
    if let gru { paths += nestedParameterPaths("gru", \TextClassifier.gru!, in: gru) }
    if let lstm { paths += nestedParameterPaths("lstm", \TextClassifier.lstm!, in: lstm) }
    for (index, convolution) in convolutions.enumerated() {
      paths += nestedParameterPaths("convs.\(index)", \TextClassifier.convolutions[index], in: convolution)
    }
    if let position { paths += nestedParameterPaths("position", \TextClassifier.position!, in: position) }
    for (index, layer) in encoderLayers.enumerated() {
      paths += nestedParameterPaths("encoder.layers.\(index)", \TextClassifier.encoderLayers[index], in: layer)
    }
    if let encoderNorm { paths += nestedParameterPaths("encoder.norm", \TextClassifier.encoderNorm!, in: encoderNorm) }
    return paths + nestedParameterPaths("classifier", \TextClassifier.classifier, in: classifier)
  }
}

/// A GRU language model: embedding → GRU → dropout → decoder over the vocabulary (optionally reusing the
/// embedding matrix). Names: `embedding.weight`, `gru.…`, `decoder.weight` (absent when tied), `decoder.bias`.
public struct NextWordModel: Parameterized, Sendable {
  public var config: ModelConfig
  public var embedding: Embedding
  public var gru: GRU
  public var decoderWeight: Tensor?  // [vocabulary, hidden]; nil when tied
  public var decoderBias: Tensor  // [vocabulary]

  public init<G: RandomNumberGenerator>(config: ModelConfig, using generator: inout G) {
    precondition(config.architecture == .gruLanguageModel, "NextWordModel needs architecture gru_lm")
    precondition(config.validationProblems().isEmpty, "invalid config: \(config.validationProblems().joined(separator: "; "))")
    self.config = config
    embedding = Embedding(count: config.vocabularySize, dimension: config.embeddingDimension, paddingIndex: Vocabulary.labPaddingID, using: &generator)
    gru = GRU(inputSize: config.embeddingDimension, hiddenSize: config.hiddenSize, layers: config.layerCount, using: &generator)
    let decoder = Linear(inputSize: config.hiddenSize, outputSize: config.vocabularySize, using: &generator)
    decoderWeight = config.tiedEmbeddings == true ? nil : decoder.weight
    decoderBias = decoder.bias
  }

  /// The decoder's input at every position: [batch, time, hidden].
  func decoderInput(_ batch: Batch, context: inout ForwardContext) -> Tensor {
    let states = gru(context.dropout(embedding(batch.ids, shape: batch.shape), rate: config.dropout), mask: batch.mask, context: &context)
    return context.dropout(states, rate: config.dropout)
  }

  /// Next-word logits at every position: [batch, time, vocabulary].
  public func logits(_ batch: Batch, context: inout ForwardContext) -> Tensor {
    linear(decoderInput(batch, context: &context), weight: decoderWeight ?? embedding.weight, bias: decoderBias)
  }

  /// Mean cross-entropy of the next-word predictions against `targets` (batch · time of them, `<pad>`
  /// ignored), with the decoder and the loss fused (the vocabulary-sized logits are never copied).
  public func loss(_ batch: Batch, targets: [Int], context: inout ForwardContext) -> Tensor {
    linearCrossEntropy(decoderInput(batch, context: &context), weight: decoderWeight ?? embedding.weight, bias: decoderBias,
                       labels: targets, ignoreIndex: Vocabulary.labPaddingID)
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<NextWordModel, Tensor>)] {
    var paths = nestedParameterPaths("embedding", \NextWordModel.embedding, in: embedding) + nestedParameterPaths("gru", \NextWordModel.gru, in: gru)
    if decoderWeight != nil { paths.append(("decoder.weight", \.decoderWeight!)) }
    return paths + [("decoder.bias", \.decoderBias)]
  }
}
