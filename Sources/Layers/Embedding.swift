import Randomness
import Tensors

/// A lookup table of vectors. [ids] → [ids…, dimension]. PyTorch's `nn.Embedding`: N(0, 1) init;
/// the padding row starts at zero and never receives a gradient.
public struct Embedding: Parameterized, Sendable {
  public var weight: Tensor  // [count, dimension]
  public var paddingIndex: Int?

  public init<G: RandomNumberGenerator>(count: Int, dimension: Int, paddingIndex: Int? = nil, using generator: inout G) {
    var weight = Tensor.normal([count, dimension], using: &generator)
    if let paddingIndex {
      for j in 0..<dimension { weight.scalars[paddingIndex * dimension + j] = 0 }
    }
    self.weight = weight
    self.paddingIndex = paddingIndex
  }

  public init(weight: Tensor, paddingIndex: Int? = nil) {
    precondition(weight.rank == 2, "an embedding table is [count, dimension]; got \(weight.shape)")
    self.weight = weight
    self.paddingIndex = paddingIndex
  }

  public var count: Int { weight.shape[0] }
  public var dimension: Int { weight.shape[1] }

  /// Vectors of `ids`, shaped `shape + [dimension]`.
  public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
    weight.gathering(rows: ids, indexShape: shape, frozenRow: paddingIndex)
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<Embedding, Tensor>)] { [("weight", \.weight)] }
}
