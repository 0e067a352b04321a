import Randomness
import Tensors

/// y = x·Wᵀ + b over the last dimension. [..., input] → [..., output]. PyTorch's `nn.Linear` layout
/// and init: W [output, input] and b [output], both U(±1/√input).
public struct Linear: Parameterized, Sendable {
  public var weight: Tensor  // [output, input]
  public var bias: Tensor  // [output]

  public init<G: RandomNumberGenerator>(inputSize: Int, outputSize: Int, using generator: inout G) {
    let bound = 1 / Float(inputSize).squareRoot()
    weight = Tensor.uniform([outputSize, inputSize], in: -bound...bound, using: &generator)
    bias = Tensor.uniform([outputSize], in: -bound...bound, using: &generator)
  }

  public init(weight: Tensor, bias: Tensor) {
    precondition(weight.rank == 2 && bias.shape == [weight.shape[0]], "Linear wants weight [out, in] and bias [out]; got \(weight.shape), \(bias.shape)")
    self.weight = weight
    self.bias = bias
  }

  public var inputSize: Int { weight.shape[1] }
  public var outputSize: Int { weight.shape[0] }

  public func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight, bias: bias) }

  public var parameterPaths: [(name: String, path: WritableKeyPath<Linear, Tensor>)] { [("weight", \.weight), ("bias", \.bias)] }
}

/// PyTorch's `nn.LayerNorm` over the last dimension: weight ones, bias zeros, ε = 1e-5.
public struct LayerNorm: Parameterized, Sendable {
  public var weight: Tensor
  public var bias: Tensor
  public var epsilon: Float = 1e-5

  public init(features: Int) {
    weight = .ones([features])
    bias = .zeros([features])
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNormalized(weight: weight, bias: bias, epsilon: epsilon) }

  public var parameterPaths: [(name: String, path: WritableKeyPath<LayerNorm, Tensor>)] { [("weight", \.weight), ("bias", \.bias)] }
}
