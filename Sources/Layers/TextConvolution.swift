import Randomness
import Tensors

/// One filter bank of Kim (2014)'s text CNN: `nn.Conv1d(embedding, filters, width)` over the embeddings, ReLU, max
/// over the text's windows (`convolutionMaxPool`). Parameters `weight` [filters, embedding, width] and `bias`
/// [filters], PyTorch's layout and init U(±1/√(embedding · width)).
public struct TextConvolution: Parameterized, Sendable {
  public var weight: Tensor
  public var bias: Tensor

  public var width: Int { weight.shape[2] }
  public var filterCount: Int { weight.shape[0] }

  public init<G: RandomNumberGenerator>(inputSize: Int, filters: Int, width: Int, using generator: inout G) {
    let bound = 1 / Float(inputSize * width).squareRoot()
    weight = .uniform([filters, inputSize, width], in: -bound...bound, using: &generator)
    bias = .uniform([filters], in: -bound...bound, using: &generator)
  }

  /// [batch, time, input] → [batch, filters]; `lengths` and `minimumLength` as `convolutionMaxPool` takes them.
  public func callAsFunction(_ x: Tensor, lengths: [Int], minimumLength: Int) -> Tensor {
    convolutionMaxPool(x, weight: weight, bias: bias, lengths: lengths, minimumLength: minimumLength)
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<TextConvolution, Tensor>)] {
    [("weight", \.weight), ("bias", \.bias)]
  }
}
