import Randomness

extension Tensor {
  /// Layer normalisation over the last dimension (Ba et al. 2016), as PyTorch's `nn.LayerNorm`:
  /// (x − mean) / √(var + ε) · weight + bias, with the biased variance. weight and bias: [features].
  ///
  /// Threads: rows are split for the normalisation and for dx, columns for the weight and bias gradients
  /// (each column summed over the rows in order by one thread): the same bits on any thread count.
  public func layerNormalized(weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) -> Tensor {
    requireDense("layerNorm")
    let features = shape[rank - 1]
    precondition(weight.shape == [features] && bias.shape == [features], "layerNorm over \(features) features needs weight and bias of shape [\(features)]")
    let rows = scalarCount / Swift.max(features, 1)
    let count = scalarCount
    // Every row of both is written below; the normalised rows are kept only for a pullback.
    let recording = isTracked || weight.isTracked || bias.isTracked
    var normalized = [Float](unsetCount: recording ? count : 0)
    var inverseDeviations = [Float](repeating: 0, count: rows)
    var out = [Float](unsetCount: count)
    scalars.withUnsafeBufferPointer { xBuffer in
      weight.scalars.withUnsafeBufferPointer { gamma in
        bias.scalars.withUnsafeBufferPointer { beta in
          normalized.withUnsafeMutableBufferPointer { nBuffer in
            out.withUnsafeMutableBufferPointer { oBuffer in
              inverseDeviations.withUnsafeMutableBufferPointer { inverses in
                let addresses = [xBuffer.baseAddress, gamma.baseAddress, beta.baseAddress].map { Int(bitPattern: $0) }
                let outputs = [recording ? nBuffer.baseAddress : nil, oBuffer.baseAddress, inverses.baseAddress].map { Int(bitPattern: $0) }
                forEachChunk(of: rows, parts: rowChunks(rows, features)) { _, range in
                  let (x0, gamma, beta) = (pointer(addresses[0]), pointer(addresses[1]), pointer(addresses[2]))
                  let (n0, o0, inverses) = (UnsafeMutablePointer<Float>(bitPattern: outputs[0]), mutablePointer(outputs[1]), mutablePointer(outputs[2]))
                  var row = range.lowerBound
                  // Eight rows side by side, one per lane: each lane runs a row's variance sum in the same order as
                  // the one-row loop below (the sum is a chain of dependent additions; eight chains at once hide
                  // its latency), so every row gets the same bits either way.
                  while row + 8 <= range.upperBound {
                    var means = SIMD8<Float>()
                    for lane in 0..<8 { means[lane] = rowSum(x0 + (row + lane) * features, features) / Float(features) }
                    var variances = SIMD8<Float>()
                    for j in 0..<features {
                      var column = SIMD8<Float>()
                      for lane in 0..<8 { column[lane] = x0[(row + lane) * features + j] }
                      let d = column - means
                      variances += d * d
                    }
                    variances /= SIMD8(repeating: Float(features))
                    let inverseDeviations = 1 / (variances + epsilon).squareRoot()
                    for lane in 0..<8 {
                      let offset = (row + lane) * features
                      inverses[row + lane] = inverseDeviations[lane]
                      normalizeRow(x0 + offset, n0.map { $0 + offset }, o0 + offset, gamma, beta, features, mean: means[lane], inverse: inverseDeviations[lane])
                    }
                    row += 8
                  }
                  while row < range.upperBound {
                    let x = x0 + row * features, n = n0.map { $0 + row * features }, o = o0 + row * features
                    let mean = rowSum(x, features) / Float(features)
                    var variance: Float = 0
                    for j in 0..<features { let d = x[j] - mean; variance += d * d }
                    variance /= Float(features)
                    let inverse = 1 / (variance + epsilon).squareRoot()
                    inverses[row] = inverse
                    normalizeRow(x, n, o, gamma, beta, features, mean: mean, inverse: inverse)
                    row += 1
                  }
                }
              }
            }
          }
        }
      }
    }
    let (gamma, inputShape) = (weight.detached, shape)
    let (needsInput, needsWeight, needsBias) = (isTracked, weight.isTracked, bias.isTracked)
    return Tensor(shape: shape, scalars: out).recorded(from: [self, weight, bias]) { g in
      var dx = [Float](repeating: 0, count: needsInput ? rows * features : 0)
      var dWeight = [Float](repeating: 0, count: features)
      var dBias = [Float](repeating: 0, count: features)
      g.scalars.withUnsafeBufferPointer { gBuffer in
        gamma.scalars.withUnsafeBufferPointer { w in
          normalized.withUnsafeBufferPointer { nBuffer in
            let addresses = [gBuffer.baseAddress, w.baseAddress, nBuffer.baseAddress].map { Int(bitPattern: $0) }
            if needsInput {
              dx.withUnsafeMutableBufferPointer { dxBuffer in
                inverseDeviations.withUnsafeBufferPointer { inverses in
                  let (dxAddress, inverseAddress) = (Int(bitPattern: dxBuffer.baseAddress), Int(bitPattern: inverses.baseAddress))
                  forEachChunk(of: rows, parts: rowChunks(rows, features)) { _, range in
                    let (g0, w, n0) = (pointer(addresses[0]), pointer(addresses[1]), pointer(addresses[2]))
                    let (dx0, inverses) = (mutablePointer(dxAddress), pointer(inverseAddress))
                    for row in range {
                      let gRow = g0 + row * features, n = n0 + row * features
                      // dx = inv/F · (F·ĝ − Σĝ − n·Σ(ĝ·n)), ĝ = g·weight
                      var sumG: Float = 0, sumGN: Float = 0
                      for j in 0..<features {
                        let gHat = gRow[j] * w[j]
                        sumG += gHat
                        sumGN += gHat * n[j]
                      }
                      let scale = inverses[row] / Float(features)
                      let d = dx0 + row * features
                      for j in 0..<features { d[j] = scale * (Float(features) * gRow[j] * w[j] - sumG - n[j] * sumGN) }
                    }
                  }
                }
              }
            }
            // dWeight = Σ_rows g·n, dBias = Σ_rows g, in row order; columns in groups of 8 across threads.
            guard rows > 0 else { return }
            dWeight.withUnsafeMutableBufferPointer { dw in
              dBias.withUnsafeMutableBufferPointer { db in
                let (dwAddress, dbAddress) = (Int(bitPattern: dw.baseAddress), Int(bitPattern: db.baseAddress))
                forEachChunk(of: (features + 7) / 8, parts: rowChunks(rows, features)) { _, groups in
                  let (g0, n0, dw, db) = (pointer(addresses[0]), pointer(addresses[2]), mutablePointer(dwAddress), mutablePointer(dbAddress))
                  let columns = (groups.lowerBound * 8)..<Swift.min(features, groups.upperBound * 8)
                  for row in 0..<rows {
                    let gRow = g0 + row * features, n = n0 + row * features
                    for j in columns {
                      dw[j] += gRow[j] * n[j]
                      db[j] += gRow[j]
                    }
                  }
                }
              }
            }
          }
        }
      }
      return [needsInput ? Tensor(shape: inputShape, scalars: dx) : nil,
              needsWeight ? Tensor(dWeight) : nil,
              needsBias ? Tensor(dBias) : nil]
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

/// Chunks for a row-wise op over rows × features scalars: one per thread once there is enough work to pay
/// for waking them (at most one per item, so `forEachChunk` of fewer items is still fine).
private func rowChunks(_ rows: Int, _ features: Int) -> Int { chunkCount(of: rows, scalars: rows * features, minimum: 1 << 14) }

@inline(__always) private func pointer(_ address: Int) -> UnsafePointer<Float> { UnsafePointer(bitPattern: address)! }
@inline(__always) private func mutablePointer(_ address: Int) -> UnsafeMutablePointer<Float> { UnsafeMutablePointer(bitPattern: address)! }

/// Σ x[0..<count], eight lanes at a time.
@inline(__always) private func rowSum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
  var lanes = SIMD8<Float>()
  var j = 0
  while j + 8 <= count {
    lanes += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
    j += 8
  }
  var total = lanes.sum()
  while j < count {
    total += x[j]
    j += 1
  }
  return total
}

/// n = (x − mean)·inverse, o = n·γ + β, eight lanes at a time (the buffers cannot alias, but the
/// compiler cannot know that, so it would not vectorise a plain loop); n is written only when given.
@inline(__always) private func normalizeRow(
  _ x: UnsafePointer<Float>, _ n: UnsafeMutablePointer<Float>?, _ o: UnsafeMutablePointer<Float>,
  _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>, _ count: Int, mean: Float, inverse: Float
) {
  typealias V = SIMD8<Float>
  var j = 0
  while j + 8 <= count {
    let normalized = (UnsafeRawPointer(x + j).loadUnaligned(as: V.self) - mean) * inverse
    if let n { UnsafeMutableRawPointer(n + j).storeBytes(of: normalized, as: V.self) }
    let scaled = normalized * UnsafeRawPointer(gamma + j).loadUnaligned(as: V.self) + UnsafeRawPointer(beta + j).loadUnaligned(as: V.self)
    UnsafeMutableRawPointer(o + j).storeBytes(of: scaled, as: V.self)
    j += 8
  }
  while j < count {
    let normalized = (x[j] - mean) * inverse
    n?[j] = normalized
    o[j] = normalized * gamma[j] + beta[j]
    j += 1
  }
}
