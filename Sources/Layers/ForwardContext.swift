import Randomness
import Tensors

/// How a forward pass runs: in training, dropout draws its masks from `generator`; in inference it is
/// the identity. Each task owns its context, so runs are reproducible whatever the thread count.
public struct ForwardContext: Sendable {
  public var training: Bool
  public var generator: SplitMix64

  public init(training: Bool, generator: SplitMix64 = SplitMix64(seed: 0)) {
    self.training = training
    self.generator = generator
  }

  public static var inference: ForwardContext { ForwardContext(training: false) }

  /// Inverted dropout in training, identity otherwise.
  public mutating func dropout(_ x: Tensor, rate: Float) -> Tensor {
    guard training, rate > 0 else { return x }
    return x.dropout(rate: rate, using: &generator)
  }
}
