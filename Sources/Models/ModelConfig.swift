import Layers
import Tokenization

/// A model's shape and how its input text is tokenised: the bundle's `config.json`. Keys are PyTorch-user
/// friendly snake_case so a bundle written by a few lines of PyTorch loads as is. Missing optional keys
/// take defaults; an unknown key is an error naming it.
public struct ModelConfig: Codable, Sendable, Equatable {
  public enum Architecture: String, Codable, Sendable, CaseIterable {
    case bag, gru, lstm, cnn, attention
    /// PyTorch's `nn.TransformerEncoder` (post-norm unless `norm_first`), learned positions, mean pooling.
    case transformer
    /// GRU next-word model.
    case gruLanguageModel = "gru_lm"
  }

  public var architecture: Architecture
  public var vocabularySize: Int
  public var embeddingDimension: Int
  /// GRU or LSTM state size; for attention, the model dimension (equal to `embeddingDimension`).
  public var hiddenSize: Int
  public var layerCount: Int
  public var bidirectional: Bool
  public var pooling: Pooling
  /// Classifiers only.
  public var classCount: Int?
  public var labels: [String]?
  public var maximumLength: Int
  public var tokenizer: TokenizerOptions
  /// The vocabulary's padding and unknown tokens, looked up by name in vocab.txt (their ids need not be 0 and 1).
  public var paddingToken: String
  public var unknownToken: String
  /// Attention only.
  public var headCount: Int?
  public var feedForwardSize: Int?
  /// CNN only (Kim 2014): the widths of the filter banks and the filters in each.
  public var filterSizes: [Int]?
  public var filterCount: Int?
  /// CNN (`relu`) and transformer (`relu` or `gelu`).
  public var activation: String?
  /// Transformer only: norm-first layers (else PyTorch's default post-norm), LayerNorm's ε, and whether a final
  /// LayerNorm (`encoder.norm`) follows the layers (read from the bundle's tensors when the key is absent).
  public var normFirst: Bool?
  public var layerNormEpsilon: Float?
  public var finalNorm: Bool?
  /// Next-word model only: the decoder reuses the embedding matrix (needs embedding_dim == hidden_size).
  public var tiedEmbeddings: Bool?
  /// Dropout rate used in training (no effect at inference).
  public var dropout: Float

  public init(
    architecture: Architecture, vocabularySize: Int, embeddingDimension: Int = 64, hiddenSize: Int = 128, layerCount: Int = 1,
    bidirectional: Bool = false, pooling: Pooling = .mean, labels: [String]? = nil, maximumLength: Int = 48,
    tokenizer: TokenizerOptions = TokenizerOptions(), headCount: Int? = nil, feedForwardSize: Int? = nil,
    tiedEmbeddings: Bool? = nil, dropout: Float = 0.3, filterSizes: [Int]? = nil, filterCount: Int? = nil
  ) {
    self.architecture = architecture
    self.vocabularySize = vocabularySize
    self.embeddingDimension = embeddingDimension
    let isTransformer = architecture == .attention || architecture == .transformer
    self.hiddenSize = isTransformer ? embeddingDimension : hiddenSize
    self.layerCount = layerCount
    self.bidirectional = bidirectional
    self.pooling = pooling
    self.classCount = labels?.count
    self.labels = labels
    self.maximumLength = maximumLength
    self.tokenizer = tokenizer
    paddingToken = Vocabulary.specialTokens[Vocabulary.labPaddingID]
    unknownToken = Vocabulary.specialTokens[Vocabulary.labUnknownID]
    self.headCount = isTransformer ? (headCount ?? 4) : headCount
    self.feedForwardSize = isTransformer ? (feedForwardSize ?? 128) : feedForwardSize
    self.tiedEmbeddings = architecture == .gruLanguageModel ? (tiedEmbeddings ?? false) : tiedEmbeddings
    self.filterSizes = architecture == .cnn ? (filterSizes ?? [3, 4, 5]) : filterSizes
    self.filterCount = architecture == .cnn ? (filterCount ?? 100) : filterCount
    activation = architecture == .cnn || architecture == .transformer ? "relu" : nil
    if architecture == .transformer { (normFirst, layerNormEpsilon, finalNorm) = (false, 1e-5, false) }
    self.dropout = dropout
  }

  public var isClassifier: Bool { architecture != .gruLanguageModel }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case architecture, vocabularySize = "vocab_size", embeddingDimension = "embedding_dim", hiddenSize = "hidden_size"
    case layerCount = "num_layers", bidirectional, pooling, classCount = "num_classes", labels, maximumLength = "max_length"
    case tokenizer, paddingToken = "pad_token", unknownToken = "unk_token", headCount = "num_heads"
    case filterSizes = "filter_sizes", filterCount = "num_filters", activation
    case normFirst = "norm_first", layerNormEpsilon = "layer_norm_eps", finalNorm = "final_norm", feedForwardSize = "ffn_dim", tiedEmbeddings = "tied_embeddings", dropout
  }

  public init(from decoder: any Decoder) throws {
    let raw = try decoder.container(keyedBy: StringKey.self)
    let known = Set(CodingKeys.allCases.map(\.rawValue))
    if let unknown = raw.allKeys.first(where: { !known.contains($0.stringValue) }) {
      throw DecodingError.dataCorruptedError(forKey: unknown, in: raw, debugDescription: "unknown key '\(unknown.stringValue)'")
    }
    let c = try decoder.container(keyedBy: CodingKeys.self)
    architecture = try c.decode(Architecture.self, forKey: .architecture)
    vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
    embeddingDimension = try c.decode(Int.self, forKey: .embeddingDimension)
    hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? embeddingDimension
    layerCount = try c.decodeIfPresent(Int.self, forKey: .layerCount) ?? 1
    bidirectional = try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? false
    pooling = try c.decodeIfPresent(Pooling.self, forKey: .pooling) ?? .mean
    classCount = try c.decodeIfPresent(Int.self, forKey: .classCount)
    labels = try c.decodeIfPresent([String].self, forKey: .labels)
    maximumLength = try c.decodeIfPresent(Int.self, forKey: .maximumLength) ?? 48
    tokenizer = try c.decodeIfPresent(TokenizerOptions.self, forKey: .tokenizer) ?? TokenizerOptions()
    paddingToken = try c.decodeIfPresent(String.self, forKey: .paddingToken) ?? Vocabulary.specialTokens[Vocabulary.labPaddingID]
    unknownToken = try c.decodeIfPresent(String.self, forKey: .unknownToken) ?? Vocabulary.specialTokens[Vocabulary.labUnknownID]
    headCount = try c.decodeIfPresent(Int.self, forKey: .headCount)
    feedForwardSize = try c.decodeIfPresent(Int.self, forKey: .feedForwardSize)
    tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings)
    filterSizes = try c.decodeIfPresent([Int].self, forKey: .filterSizes)
    filterCount = try c.decodeIfPresent(Int.self, forKey: .filterCount)
    activation = try c.decodeIfPresent(String.self, forKey: .activation)
    normFirst = try c.decodeIfPresent(Bool.self, forKey: .normFirst)
    layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon)
    finalNorm = try c.decodeIfPresent(Bool.self, forKey: .finalNorm)
    dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
  }

  /// Problems that make the config unusable, each naming the key.
  public func validationProblems() -> [String] {
    var problems: [String] = []
    if vocabularySize < 2 { problems.append("vocab_size must be at least 2 (<pad> and <unk>)") }
    if embeddingDimension < 1 { problems.append("embedding_dim must be positive") }
    if hiddenSize < 1 { problems.append("hidden_size must be positive") }
    if layerCount < 1 || layerCount > 4 { problems.append("num_layers must be 1 to 4") }
    if maximumLength < 1 { problems.append("max_length must be positive") }
    if !(0..<1).contains(dropout) { problems.append("dropout must be in [0, 1)") }
    problems += tokenizer.validationProblems().map { "tokenizer: \($0)" }
    if paddingToken == unknownToken { problems.append("pad_token and unk_token must differ") }
    if isClassifier {
      guard let labels, !labels.isEmpty else { return problems + ["labels are required for a classifier"] }
      if let classCount, classCount != labels.count { problems.append("num_classes is \(classCount) but labels has \(labels.count) names") }
      if labels.count < 2 { problems.append("a classifier needs at least 2 labels") }
      if Set(labels).count != labels.count { problems.append("labels has repeated names") }
    }
    if architecture == .transformer {
      if let activation, !["relu", "gelu"].contains(activation) { problems.append("activation '\(activation)' is not supported for transformer; relu or gelu") }
      if let epsilon = layerNormEpsilon, !(epsilon > 0 && epsilon < 1) { problems.append("layer_norm_eps must be in (0, 1)") }
    }
    if architecture == .attention || architecture == .transformer {
      if hiddenSize != embeddingDimension { problems.append("hidden_size must equal embedding_dim for \(architecture.rawValue)") }
      if let heads = headCount, heads < 1 || embeddingDimension % heads != 0 { problems.append("num_heads must divide embedding_dim") }
      if headCount == nil { problems.append("num_heads is required for \(architecture.rawValue)") }
      if let size = feedForwardSize, size < 1 { problems.append("ffn_dim must be positive") }
      if feedForwardSize == nil { problems.append("ffn_dim is required for \(architecture.rawValue)") }
    }
    if architecture == .cnn {
      if let sizes = filterSizes {
        if sizes.isEmpty || sizes.contains(where: { $0 < 1 || $0 > maximumLength }) {
          problems.append("filter_sizes must be 1 to max_length (\(maximumLength)) each, at least one")
        }
      } else {
        problems.append("filter_sizes is required for cnn")
      }
      if let count = filterCount, count < 1 { problems.append("num_filters must be positive") }
      if filterCount == nil { problems.append("num_filters is required for cnn") }
      if let activation, activation != "relu" { problems.append("activation '\(activation)' is not supported for cnn; relu is") }
    }
    if architecture == .gruLanguageModel, tiedEmbeddings == true, embeddingDimension != hiddenSize {
      problems.append("tied_embeddings needs embedding_dim == hidden_size")
    }
    return problems
  }
}

struct StringKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}
