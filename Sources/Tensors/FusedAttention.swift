import Foundation

/// Scaled dot-product attention as one op with a hand-written pullback:
/// softmax(Q·Kᵀ/√d + mask)·V (Vaswani et al. 2017).
///
/// Shapes: query [..., Tq, d], key [..., Tk, d], value [..., Tk, dv] with equal leading dimensions
/// (typically [B, heads]). `keyMask` [B, Tk] holds 1 for real keys and 0 for padding; padded keys get
/// zero weight. A query whose keys are all padding attends to nothing and outputs zeros.
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, keyMask: Tensor? = nil) -> Tensor {
  for tensor in [query, key, value] { tensor.requireDense("attention") }
  precondition(query.rank >= 2 && key.rank == query.rank && value.rank == query.rank, "attention wants [..., T, d] query, key and value")
  let leading = Array(query.shape.dropLast(2))
  precondition(Array(key.shape.dropLast(2)) == leading && Array(value.shape.dropLast(2)) == leading, "attention: leading shapes differ: \(query.shape) \(key.shape) \(value.shape)")
  let (queries, depth) = (query.shape[query.rank - 2], query.shape[query.rank - 1])
  let keys = key.shape[key.rank - 2]
  precondition(key.shape[key.rank - 1] == depth && value.shape[value.rank - 2] == keys, "attention: key must be [..., \(keys), \(depth)] and value [..., \(keys), dv]")
  let valueDepth = value.shape[value.rank - 1]
  let groups = leading.reduce(1, *)
  let maskBatch = keyMask?.shape.first ?? 1
  if let keyMask {
    precondition(keyMask.shape == [maskBatch, keys] && groups % maskBatch == 0, "attention keyMask must be [B, \(keys)] with B dividing \(groups); got \(keyMask.shape)")
  }
  let groupsPerMaskRow = groups / maskBatch
  let scale = 1 / Float(depth).squareRoot()

  var weights = [Float](repeating: 0, count: groups * queries * keys)
  var output = [Float](repeating: 0, count: groups * queries * valueDepth)
  let maskScalars = keyMask?.scalars ?? []
  maskScalars.withUnsafeBufferPointer { maskBuffer in
  let maskPointer = keyMask == nil ? nil : maskBuffer.baseAddress
  query.scalars.withUnsafeBufferPointer { q in
    key.scalars.withUnsafeBufferPointer { k in
      value.scalars.withUnsafeBufferPointer { v in
        weights.withUnsafeMutableBufferPointer { p in
          output.withUnsafeMutableBufferPointer { o in
            for group in 0..<groups {
              let scores = p.baseAddress! + group * queries * keys
              GEMM.multiply(m: queries, n: keys, k: depth, a: q.baseAddress! + group * queries * depth, lda: depth, transposeA: false,
                            b: k.baseAddress! + group * keys * depth, ldb: depth, transposeB: true, c: scores, ldc: keys, accumulate: false)
              let maskRow = maskPointer.map { $0 + (group / groupsPerMaskRow) * keys }
              for i in 0..<queries {
                let row = scores + i * keys
                if let maskRow {
                  for j in 0..<keys { row[j] = maskRow[j] == 0 ? -.infinity : row[j] * scale }
                } else {
                  for j in 0..<keys { row[j] *= scale }
                }
                FastMath.softmaxRowInPlace(row, count: keys)
              }
              GEMM.multiply(m: queries, n: valueDepth, k: keys, a: scores, lda: keys, transposeA: false,
                            b: v.baseAddress! + group * keys * valueDepth, ldb: valueDepth, transposeB: false,
                            c: o.baseAddress! + group * queries * valueDepth, ldc: valueDepth, accumulate: false)
            }
          }
        }
      }
    }
  }
  }
  let result = Tensor(shape: leading + [queries, valueDepth], scalars: output)
  let (q, k, v) = (query.detached, key.detached, value.detached)
  return result.recorded(from: [query, key, value]) { gradient in
    var dQuery = [Float](repeating: 0, count: q.scalarCount)
    var dKey = [Float](repeating: 0, count: k.scalarCount)
    var dValue = [Float](repeating: 0, count: v.scalarCount)
    var dWeights = [Float](repeating: 0, count: queries * keys)
    gradient.scalars.withUnsafeBufferPointer { g in
      weights.withUnsafeBufferPointer { p in
        q.scalars.withUnsafeBufferPointer { qs in
          k.scalars.withUnsafeBufferPointer { ks in
            v.scalars.withUnsafeBufferPointer { vs in
              dQuery.withUnsafeMutableBufferPointer { dq in
                dKey.withUnsafeMutableBufferPointer { dk in
                  dValue.withUnsafeMutableBufferPointer { dv in
                    dWeights.withUnsafeMutableBufferPointer { ds in
                      for group in 0..<groups {
                        let probabilities = p.baseAddress! + group * queries * keys
                        let dOut = g.baseAddress! + group * queries * valueDepth
                        // dV = Pᵀ·dO
                        GEMM.multiply(m: keys, n: valueDepth, k: queries, a: probabilities, lda: keys, transposeA: true,
                                      b: dOut, ldb: valueDepth, transposeB: false,
                                      c: dv.baseAddress! + group * keys * valueDepth, ldc: valueDepth, accumulate: false)
                        // dP = dO·Vᵀ
                        GEMM.multiply(m: queries, n: keys, k: valueDepth, a: dOut, lda: valueDepth, transposeA: false,
                                      b: vs.baseAddress! + group * keys * valueDepth, ldb: valueDepth, transposeB: true,
                                      c: ds.baseAddress!, ldc: keys, accumulate: false)
                        // dS = P ⊙ (dP − Σ_j dP·P), then the 1/√d of the scores.
                        for i in 0..<queries {
                          let pRow = probabilities + i * keys, dRow = ds.baseAddress! + i * keys
                          var dot: Float = 0
                          for j in 0..<keys { dot += pRow[j] * dRow[j] }
                          for j in 0..<keys { dRow[j] = pRow[j] * (dRow[j] - dot) * scale }
                        }
                        // dQ = dS·K, dK = dSᵀ·Q
                        GEMM.multiply(m: queries, n: depth, k: keys, a: ds.baseAddress!, lda: keys, transposeA: false,
                                      b: ks.baseAddress! + group * keys * depth, ldb: depth, transposeB: false,
                                      c: dq.baseAddress! + group * queries * depth, ldc: depth, accumulate: false)
                        GEMM.multiply(m: keys, n: depth, k: queries, a: ds.baseAddress!, lda: keys, transposeA: true,
                                      b: qs.baseAddress! + group * queries * depth, ldb: depth, transposeB: false,
                                      c: dk.baseAddress! + group * keys * depth, ldc: depth, accumulate: false)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return [Tensor(shape: q.shape, scalars: dQuery), Tensor(shape: k.shape, scalars: dKey), Tensor(shape: v.shape, scalars: dValue)]
  }
}
