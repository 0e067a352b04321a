import Randomness

extension Tensor {
  /// Layer normalisation over the last dimension (Ba et al. 2016), as PyTorch's `nn.LayerNorm`:
  /// (x − mean) / √(var + ε) · weight + bias, with the biased variance. weight and bias: [features].
  public func layerNormalized(weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) -> Tensor {
    requireDense("layerNorm")
    let features = shape[rank - 1]
    precondition(weight.shape == [features] && bias.shape == [features], "layerNorm over \(features) features needs weight and bias of shape [\(features)]")
    let rows = scalarCount / Swift.max(features, 1)
    var normalized = [Float](repeating: 0, count: scalarCount)
    var inverseDeviations = [Float](repeating: 0, count: rows)
    var out = [Float](repeating: 0, count: scalarCount)
    scalars.withUnsafeBufferPointer { x in
      for row in 0..<rows {
        let base = row * features
        var mean: Float = 0
        for j in 0..<features { mean += x[base + j] }
        mean /= Float(features)
        var variance: Float = 0
        for j in 0..<features { let d = x[base + j] - mean; variance += d * d }
        variance /= Float(features)
        let inverse = 1 / (variance + epsilon).squareRoot()
        inverseDeviations[row] = inverse
        for j in 0..<features {
          let n = (x[base + j] - mean) * inverse
          normalized[base + j] = n
          out[base + j] = n * weight.scalars[j] + bias.scalars[j]
        }
      }
    }
    let (gamma, inputShape) = (weight.detached, shape)
    let (needsInput, needsWeight, needsBias) = (isTracked, weight.isTracked, bias.isTracked)
    return Tensor(shape: shape, scalars: out).recorded(from: [self, weight, bias]) { g in
      var dx = [Float](repeating: 0, count: rows * features)
      var dWeight = [Float](repeating: 0, count: features)
      var dBias = [Float](repeating: 0, count: features)
      for row in 0..<rows {
        let base = row * features
        // dx = inv/F · (F·ĝ − Σĝ − n·Σ(ĝ·n)), ĝ = g·weight
        var sumG: Float = 0, sumGN: Float = 0
        for j in 0..<features {
          let gHat = g.scalars[base + j] * gamma.scalars[j]
          sumG += gHat
          sumGN += gHat * normalized[base + j]
          dWeight[j] += g.scalars[base + j] * normalized[base + j]
          dBias[j] += g.scalars[base + j]
        }
        if needsInput {
          let scale = inverseDeviations[row] / Float(features)
          for j in 0..<features {
            let gHat = g.scalars[base + j] * gamma.scalars[j]
            dx[base + j] = scale * (Float(features) * gHat - sumG - normalized[base + j] * sumGN)
          }
        }
      }
      return [needsInput ? Tensor(shape: inputShape, scalars: dx) : nil,
              needsWeight ? Tensor([Float](dWeight)) : nil,
              needsBias ? Tensor([Float](dBias)) : nil]
    }
  }

  /// Inverted dropout: each scalar is zeroed with probability `rate`, survivors scaled by 1/(1 − rate).
  /// The mask comes from `generator`, so the same seed drops the same units.
  public func dropout<G: RandomNumberGenerator>(rate: Float, using generator: inout G) -> Tensor {
    requireDense("dropout")
    precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1); got \(rate)")
    guard rate > 0 else { return self }
    let keep = 1 / (1 - rate)
    let mask = Tensor(shape: shape, scalars: (0..<scalarCount).map { _ in generator.nextUnitFloat() < rate ? 0 : keep })
    return (self * mask)
  }
}
