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
            let (qAddress, kAddress, vAddress) = (Int(bitPattern: q.baseAddress), Int(bitPattern: k.baseAddress), Int(bitPattern: v.baseAddress))
            let (pAddress, oAddress, maskAddress) = (Int(bitPattern: p.baseAddress), Int(bitPattern: o.baseAddress), Int(bitPattern: maskPointer))
            // Groups (batch × heads) are independent and write disjoint rows: the same result on any number of threads.
            forEachChunk(of: groups) { range in
              let q = UnsafePointer<Float>(bitPattern: qAddress)!, k = UnsafePointer<Float>(bitPattern: kAddress)!
              let v = UnsafePointer<Float>(bitPattern: vAddress)!, p = UnsafeMutablePointer<Float>(bitPattern: pAddress)!
              let o = UnsafeMutablePointer<Float>(bitPattern: oAddress)!, maskPointer = UnsafePointer<Float>(bitPattern: maskAddress)
              for group in range {
                let scores = p + group * queries * keys
                GEMM.multiply(m: queries, n: keys, k: depth, a: q + group * queries * depth, lda: depth, transposeA: false,
                              b: k + group * keys * depth, ldb: depth, transposeB: true, c: scores, ldc: keys, accumulate: false, threads: 1)
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
                              b: v + group * keys * valueDepth, ldb: valueDepth, transposeB: false,
                              c: o + group * queries * valueDepth, ldc: valueDepth, accumulate: false, threads: 1)
              }
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
    let parts = chunkCount(of: groups)
    // One dP/dS scratch per chunk of groups.
    var dWeights = [Float](repeating: 0, count: parts * queries * keys)
    gradient.scalars.withUnsafeBufferPointer { g in
      weights.withUnsafeBufferPointer { p in
        q.scalars.withUnsafeBufferPointer { qs in
          k.scalars.withUnsafeBufferPointer { ks in
            v.scalars.withUnsafeBufferPointer { vs in
              dQuery.withUnsafeMutableBufferPointer { dq in
                dKey.withUnsafeMutableBufferPointer { dk in
                  dValue.withUnsafeMutableBufferPointer { dv in
                    dWeights.withUnsafeMutableBufferPointer { ds in
                      let addresses = [g.baseAddress, p.baseAddress, qs.baseAddress, ks.baseAddress, vs.baseAddress].map { Int(bitPattern: $0) }
                      let mutableAddresses = [dq.baseAddress, dk.baseAddress, dv.baseAddress, ds.baseAddress].map { Int(bitPattern: $0) }
                      forEachChunk(of: groups, parts: parts) { part, range in
                        let (g, p) = (UnsafePointer<Float>(bitPattern: addresses[0])!, UnsafePointer<Float>(bitPattern: addresses[1])!)
                        let (qs, ks, vs) = (UnsafePointer<Float>(bitPattern: addresses[2])!, UnsafePointer<Float>(bitPattern: addresses[3])!, UnsafePointer<Float>(bitPattern: addresses[4])!)
                        let (dq, dk, dv) = (UnsafeMutablePointer<Float>(bitPattern: mutableAddresses[0])!, UnsafeMutablePointer<Float>(bitPattern: mutableAddresses[1])!, UnsafeMutablePointer<Float>(bitPattern: mutableAddresses[2])!)
                        let ds = UnsafeMutablePointer<Float>(bitPattern: mutableAddresses[3])! + part * queries * keys
                        for group in range {
                          let probabilities = p + group * queries * keys
                          let dOut = g + group * queries * valueDepth
                          // dV = Pᵀ·dO
                          GEMM.multiply(m: keys, n: valueDepth, k: queries, a: probabilities, lda: keys, transposeA: true,
                                        b: dOut, ldb: valueDepth, transposeB: false,
                                        c: dv + group * keys * valueDepth, ldc: valueDepth, accumulate: false, threads: 1)
                          // dP = dO·Vᵀ
                          GEMM.multiply(m: queries, n: keys, k: valueDepth, a: dOut, lda: valueDepth, transposeA: false,
                                        b: vs + group * keys * valueDepth, ldb: valueDepth, transposeB: true,
                                        c: ds, ldc: keys, accumulate: false, threads: 1)
                          // dS = P ⊙ (dP − Σ_j dP·P), then the 1/√d of the scores.
                          for i in 0..<queries {
                            let pRow = probabilities + i * keys, dRow = ds + i * keys
                            var dot: Float = 0
                            for j in 0..<keys { dot += pRow[j] * dRow[j] }
                            for j in 0..<keys { dRow[j] = pRow[j] * (dRow[j] - dot) * scale }
                          }
                          // dQ = dS·K, dK = dSᵀ·Q
                          GEMM.multiply(m: queries, n: depth, k: keys, a: ds, lda: keys, transposeA: false,
                                        b: ks + group * keys * depth, ldb: depth, transposeB: false,
                                        c: dq + group * queries * depth, ldc: depth, accumulate: false, threads: 1)
                          GEMM.multiply(m: keys, n: depth, k: queries, a: ds, lda: keys, transposeA: true,
                                        b: qs + group * queries * depth, ldb: depth, transposeB: false,
                                        c: dk + group * keys * depth, ldc: depth, accumulate: false, threads: 1)
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
    }
    return [Tensor(shape: q.shape, scalars: dQuery), Tensor(shape: k.shape, scalars: dKey), Tensor(shape: v.shape, scalars: dValue)]
  }
}
