import Randomness
import Tensors

/// Multi-head self-attention (Vaswani et al. 2017) with PyTorch's `nn.MultiheadAttention` layout:
/// one input projection [3d, d] (q | k | v), an output projection, Xavier-uniform input weights and zero
/// biases. [batch, time, d] → [batch, time, d]. Padded keys (keyMask 0) get no attention.
public struct MultiHeadSelfAttention: Parameterized, Sendable {
  public var inputProjectionWeight: Tensor  // [3d, d]
  public var inputProjectionBias: Tensor  // [3d]
  public var outputProjection: Linear
  public let headCount: Int

  public init<G: RandomNumberGenerator>(dimension: Int, heads: Int, using generator: inout G) {
    precondition(heads >= 1 && dimension % heads == 0, "\(heads) heads do not divide dimension \(dimension)")
    headCount = heads
    inputProjectionWeight = .xavierUniform([3 * dimension, dimension], using: &generator)
    inputProjectionBias = .zeros([3 * dimension])
    outputProjection = Linear(inputSize: dimension, outputSize: dimension, using: &generator)
    outputProjection.bias = .zeros([dimension])
  }

  public var dimension: Int { inputProjectionWeight.shape[1] }

  public func callAsFunction(_ x: Tensor, keyMask: Tensor?) -> Tensor {
    precondition(x.rank == 3 && x.shape[2] == dimension, "attention wants [batch, time, \(dimension)]; got \(x.shape)")
    let qkv = linear(x, weight: inputProjectionWeight, bias: inputProjectionBias)  // [B, T, 3d]
    // [B, T, d], the heads side by side, read from and written to qkv in place (no slices or permutes).
    return outputProjection(multiHeadSelfAttention(packed: qkv, heads: headCount, keyMask: keyMask))
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<MultiHeadSelfAttention, Tensor>)] {
    [("in_proj_weight", \.inputProjectionWeight), ("in_proj_bias", \.inputProjectionBias)]
      + nestedParameterPaths("out_proj", \.outputProjection, in: outputProjection)
  }
}

/// PyTorch's `nn.TransformerEncoderLayer(batch_first=True)`, norm-first or (PyTorch's default) post-norm, ReLU or GELU:
///   norm-first:  x = x + dropout(selfAttention(norm1(x)));  x = x + dropout(linear2(dropout(act(linear1(norm2(x))))))
///   post-norm:   x = norm1(x + dropout(selfAttention(x)));  x = norm2(x + dropout(linear2(dropout(act(linear1(x))))))
/// Unlike PyTorch, no dropout is applied to the attention weights themselves.
public struct TransformerEncoderLayer: Parameterized, Sendable {
  /// The feed-forward block's nonlinearity (PyTorch's `activation`).
  public enum Activation: String, Codable, Sendable, CaseIterable { case relu, gelu }
  public var selfAttention: MultiHeadSelfAttention
  public var linear1: Linear
  public var linear2: Linear
  public var norm1: LayerNorm
  public var norm2: LayerNorm
  public var dropout: Float
  public var normFirst = true
  public var activation = Activation.relu

  public init<G: RandomNumberGenerator>(dimension: Int, heads: Int, feedForwardSize: Int, dropout: Float, using generator: inout G) {
    selfAttention = MultiHeadSelfAttention(dimension: dimension, heads: heads, using: &generator)
    linear1 = Linear(inputSize: dimension, outputSize: feedForwardSize, using: &generator)
    linear2 = Linear(inputSize: feedForwardSize, outputSize: dimension, using: &generator)
    norm1 = LayerNorm(features: dimension)
    norm2 = LayerNorm(features: dimension)
    self.dropout = dropout
  }

  public func callAsFunction(_ x: Tensor, keyMask: Tensor?, context: inout ForwardContext) -> Tensor {
    func feedForward(_ h: Tensor) -> Tensor {
      let widened = linear1(h)
      let hidden = context.dropout(activation == .relu ? widened.relu() : widened.gelu(), rate: dropout)
      return context.dropout(linear2(hidden), rate: dropout)
    }
    guard normFirst else {
      let attended = norm1(x + context.dropout(selfAttention(x, keyMask: keyMask), rate: dropout))
      return norm2(attended + feedForward(attended))
    }
    let attended = x + context.dropout(selfAttention(norm1(x), keyMask: keyMask), rate: dropout)
    return attended + feedForward(norm2(attended))
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<TransformerEncoderLayer, Tensor>)] {
    nestedParameterPaths("self_attn", \.selfAttention, in: selfAttention)
      + nestedParameterPaths("linear1", \.linear1, in: linear1) + nestedParameterPaths("linear2", \.linear2, in: linear2)
      + nestedParameterPaths("norm1", \.norm1, in: norm1) + nestedParameterPaths("norm2", \.norm2, in: norm2)
  }
}
