import Randomness
import Tensors
import Tokenization

/// Token ids of one text, truncated to the model's maximum length (an empty text is one `<unk>`).
public struct EncodedExample: Sendable, Equatable {
  public var ids: [Int]
  /// Class for classification; unused (-1) for language modelling.
  public var label: Int

  public init(ids: [Int], label: Int) {
    self.ids = ids
    self.label = label
  }
}

/// Texts to ids the way a model was trained: its tokenizer options, its vocabulary, its maximum length.
public struct TextEncoder: Sendable {
  public let tokenizer: Tokenizer
  public let vocabulary: Vocabulary
  public let maximumLength: Int

  public init(tokenizer: Tokenizer, vocabulary: Vocabulary, maximumLength: Int) {
    self.tokenizer = tokenizer
    self.vocabulary = vocabulary
    self.maximumLength = maximumLength
  }

  public func encode(_ text: String) -> [Int] { encode(tokens: tokenizer.words(in: text)) }

  public func encode(tokens: [String]) -> [Int] {
    let ids = tokens.prefix(maximumLength).map(vocabulary.id(of:))
    return ids.isEmpty ? [vocabulary.unknownID] : Array(ids)
  }
}

/// Right-padded examples: ids [batch · time] with id 0 after each sequence, mask [batch, time]. The padded positions
/// are masked out of every model, so their id is never read (a bundle's padding token may have another id).
public struct Batch: Sendable {
  public var ids: [Int]
  public var batchSize: Int
  public var length: Int
  public var mask: Tensor
  public var labels: [Int]

  public init(_ examples: [EncodedExample]) {
    precondition(!examples.isEmpty, "an empty batch")
    batchSize = examples.count
    length = examples.map(\.ids.count).max()!
    var ids = [Int](repeating: Vocabulary.labPaddingID, count: batchSize * length)
    var mask = [Float](repeating: 0, count: batchSize * length)
    for (row, example) in examples.enumerated() {
      for (t, id) in example.ids.enumerated() {
        ids[row * length + t] = id
        mask[row * length + t] = 1
      }
    }
    self.ids = ids
    self.mask = Tensor(shape: [batchSize, length], scalars: mask)
    labels = examples.map(\.label)
  }

  public var shape: [Int] { [batchSize, length] }

  /// Batches for one training epoch: a seeded shuffle, then length bucketing (examples of similar length
  /// are batched together within windows of 50 batches, so little padding is computed), then the batches
  /// are shuffled again. The same generator state gives the same batches.
  public static func epoch<G: RandomNumberGenerator>(_ examples: [EncodedExample], batchSize: Int, using generator: inout G) -> [[Int]] {
    var order = Array(examples.indices)
    order.seededShuffle(using: &generator)
    let window = batchSize * 50
    var batches: [[Int]] = []
    for start in stride(from: 0, to: order.count, by: window) {
      let bucket = order[start..<min(start + window, order.count)].sorted { examples[$0].ids.count < examples[$1].ids.count }
      for batchStart in stride(from: 0, to: bucket.count, by: batchSize) {
        batches.append(Array(bucket[batchStart..<min(batchStart + batchSize, bucket.count)]))
      }
    }
    batches.seededShuffle(using: &generator)
    return batches
  }

  /// Batches for one epoch without length bucketing: a seeded shuffle cut into batches.
  public static func shuffled<G: RandomNumberGenerator>(_ examples: [EncodedExample], batchSize: Int, using generator: inout G) -> [[Int]] {
    var order = Array(examples.indices)
    order.seededShuffle(using: &generator)
    return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
  }

  /// Batches for evaluation: by length, in order (results are per example, so order does not matter).
  public static func inOrder(_ examples: [EncodedExample], batchSize: Int) -> [[Int]] {
    let order = examples.indices.sorted { (examples[$0].ids.count, $0) < (examples[$1].ids.count, $1) }
    return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
  }
}
