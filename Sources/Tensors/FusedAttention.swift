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
  let layout = AttentionLayout(
    groups: leading.reduce(1, *), queries: queries, keys: keys, depth: depth, valueDepth: valueDepth, headsPerMaskRow: nil,
    query: .init(groupStride: queries * depth, rowStride: depth), key: .init(groupStride: keys * depth, rowStride: depth),
    value: .init(groupStride: keys * valueDepth, rowStride: valueDepth), output: .init(groupStride: queries * valueDepth, rowStride: valueDepth))
  let (output, weights) = attentionForward(layout, query: query.scalars, key: key.scalars, value: value.scalars, keyMask: keyMask)
  let (q, k, v) = (query.detached, key.detached, value.detached)
  return Tensor(shape: leading + [queries, valueDepth], scalars: output).recorded(from: [query, key, value]) { gradient in
    var dQuery = [Float](unsetCount: q.scalarCount)
    var dKey = [Float](unsetCount: k.scalarCount)
    var dValue = [Float](unsetCount: v.scalarCount)
    dQuery.withUnsafeMutableBufferPointer { dq in
      dKey.withUnsafeMutableBufferPointer { dk in
        dValue.withUnsafeMutableBufferPointer { dv in
          attentionBackward(layout, gradient: gradient.scalars, weights: weights, query: q.scalars, key: k.scalars, value: v.scalars,
                            dQuery: dq.baseAddress!, dKey: dk.baseAddress!, dValue: dv.baseAddress!)
        }
      }
    }
    return [Tensor(shape: q.shape, scalars: dQuery), Tensor(shape: k.shape, scalars: dKey), Tensor(shape: v.shape, scalars: dValue)]
  }
}

/// Multi-head self-attention straight from the packed input projection: `qkv` [B, T, 3d] holds q | k | v
/// (as `nn.MultiheadAttention`'s in_proj makes them), each split into `heads` heads of d/heads; the result is
/// the heads side by side, [B, T, d], ready for the output projection. The same numbers as slicing q, k and
/// v, permuting each to [B, heads, T, d/heads], `scaledDotProductAttention`, and permuting back — without
/// those copies: the products read and write the heads in place through row strides.
public func multiHeadSelfAttention(packed qkv: Tensor, heads: Int, keyMask: Tensor? = nil) -> Tensor {
  qkv.requireDense("attention")
  precondition(qkv.rank == 3 && qkv.shape[2] % 3 == 0, "multi-head attention wants packed [B, T, 3d]; got \(qkv.shape)")
  let (batch, time, width) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
  let dimension = width / 3
  precondition(heads >= 1 && dimension % heads == 0, "\(heads) heads do not divide dimension \(dimension)")
  let headSize = dimension / heads
  // Group g = (b, h): its q rows start at b·T·3d + h·hd with stride 3d, k at +d, v at +2d; output at b·T·d + h·hd.
  let projection = AttentionLayout.Operand(groupStride: time * width, rowStride: width, headStride: headSize, heads: heads)
  let layout = AttentionLayout(
    groups: batch * heads, queries: time, keys: time, depth: headSize, valueDepth: headSize, headsPerMaskRow: heads,
    query: projection, key: projection.shifted(by: dimension), value: projection.shifted(by: 2 * dimension),
    output: .init(groupStride: time * dimension, rowStride: dimension, headStride: headSize, heads: heads))
  let (output, weights) = attentionForward(layout, query: qkv.scalars, key: qkv.scalars, value: qkv.scalars, keyMask: keyMask)
  let packedInput = qkv.detached
  return Tensor(shape: [batch, time, dimension], scalars: output).recorded(from: [qkv]) { gradient in
    // Every element of d(qkv) belongs to exactly one head's dQ, dK or dV block, each written whole.
    var dPacked = [Float](unsetCount: packedInput.scalarCount)
    dPacked.withUnsafeMutableBufferPointer { d in
      attentionBackward(layout, gradient: gradient.scalars, weights: weights, query: packedInput.scalars, key: packedInput.scalars,
                        value: packedInput.scalars, dQuery: d.baseAddress!, dKey: d.baseAddress!, dValue: d.baseAddress!)
    }
    return [Tensor(shape: packedInput.shape, scalars: dPacked)]
  }
}

/// Where each group's (batch × head's) matrices lie in the flat buffers attention reads and writes.
struct AttentionLayout: Sendable {
  /// Group g's matrix starts at offset + (g / heads)·groupStride + (g % heads)·headStride; its rows are
  /// `rowStride` apart.
  struct Operand: Sendable {
    var offset = 0
    var groupStride: Int
    var rowStride: Int
    var headStride = 0
    var heads = 1

    func start(ofGroup group: Int) -> Int { offset + (group / heads) * groupStride + (group % heads) * headStride }
    func shifted(by extra: Int) -> Operand {
      var moved = self
      moved.offset += extra
      return moved
    }
  }

  let groups: Int, queries: Int, keys: Int, depth: Int, valueDepth: Int
  /// Groups per key-mask row: the heads of one batch row (nil: groups / mask rows, for the general op).
  let headsPerMaskRow: Int?
  let query: Operand, key: Operand, value: Operand, output: Operand
}

/// The forward of both ops: per group the scores (one [Tq, Tk] block of the returned weights), masked softmax,
/// and the weighted values written into the output. Groups are independent and write disjoint blocks, split
/// into contiguous chunks over the compute threads: the same result on any number of threads.
private func attentionForward(_ layout: AttentionLayout, query: [Float], key: [Float], value: [Float], keyMask: Tensor?) -> (output: [Float], weights: [Float]) {
  let (groups, queries, keys, depth, valueDepth) = (layout.groups, layout.queries, layout.keys, layout.depth, layout.valueDepth)
  let maskBatch = keyMask?.shape.first ?? 1
  if let keyMask {
    precondition(keyMask.shape == [maskBatch, keys] && groups % maskBatch == 0, "attention keyMask must be [B, \(keys)] with B dividing \(groups); got \(keyMask.shape)")
  }
  let groupsPerMaskRow = layout.headsPerMaskRow ?? groups / maskBatch
  precondition(keyMask == nil || groupsPerMaskRow * maskBatch == groups, "attention keyMask must have one row per batch row; got \(keyMask!.shape)")
  let scale = 1 / Float(depth).squareRoot()
  let outputCount = groups * queries * valueDepth
  // Every output row is written by its group's product (`accumulate: false`), so neither buffer needs a fill.
  var weights = [Float](unsetCount: groups * queries * keys)
  var output = [Float](unsetCount: outputCount)
  if keys == 0 { output.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
  let maskScalars = keyMask?.scalars ?? []
  maskScalars.withUnsafeBufferPointer { maskBuffer in
    query.withUnsafeBufferPointer { q in
      key.withUnsafeBufferPointer { k in
        value.withUnsafeBufferPointer { v in
          weights.withUnsafeMutableBufferPointer { p in
            output.withUnsafeMutableBufferPointer { o in
              let readAddresses = [q.baseAddress, k.baseAddress, v.baseAddress, keyMask == nil ? nil : maskBuffer.baseAddress].map { Int(bitPattern: $0) }
              let (pAddress, oAddress) = (Int(bitPattern: p.baseAddress), Int(bitPattern: o.baseAddress))
              guard keys > 0 else { return }
              forEachChunk(of: groups) { range in
                let q = UnsafePointer<Float>(bitPattern: readAddresses[0])!, k = UnsafePointer<Float>(bitPattern: readAddresses[1])!
                let v = UnsafePointer<Float>(bitPattern: readAddresses[2])!, maskPointer = UnsafePointer<Float>(bitPattern: readAddresses[3])
                let p = UnsafeMutablePointer<Float>(bitPattern: pAddress)!, o = UnsafeMutablePointer<Float>(bitPattern: oAddress)!
                for group in range {
                  let scores = p + group * queries * keys
                  GEMM.multiply(m: queries, n: keys, k: depth, a: q + layout.query.start(ofGroup: group), lda: layout.query.rowStride, transposeA: false,
                                b: k + layout.key.start(ofGroup: group), ldb: layout.key.rowStride, transposeB: true,
                                c: scores, ldc: keys, accumulate: false, threads: 1)
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
                                b: v + layout.value.start(ofGroup: group), ldb: layout.value.rowStride, transposeB: false,
                                c: o + layout.output.start(ofGroup: group), ldc: layout.output.rowStride, accumulate: false, threads: 1)
                }
              }
            }
          }
        }
      }
    }
  }
  return (output, weights)
}

/// The pullback of both ops: writes every group's dQ, dK and dV block whole (`accumulate: false`). The three
/// targets may be one buffer (packed projections); the blocks never overlap.
private func attentionBackward(
  _ layout: AttentionLayout, gradient: [Float], weights: [Float], query: [Float], key: [Float], value: [Float],
  dQuery: UnsafeMutablePointer<Float>, dKey: UnsafeMutablePointer<Float>, dValue: UnsafeMutablePointer<Float>
) {
  let (groups, queries, keys, depth, valueDepth) = (layout.groups, layout.queries, layout.keys, layout.depth, layout.valueDepth)
  let scale = 1 / Float(depth).squareRoot()
  let parts = chunkCount(of: groups)
  // One dP/dS scratch per chunk of groups.
  var dWeights = [Float](repeating: 0, count: parts * queries * keys)
  let mutableAddresses = [dQuery, dKey, dValue].map { Int(bitPattern: $0) }
  gradient.withUnsafeBufferPointer { g in
    weights.withUnsafeBufferPointer { p in
      query.withUnsafeBufferPointer { qs in
        key.withUnsafeBufferPointer { ks in
          value.withUnsafeBufferPointer { vs in
            dWeights.withUnsafeMutableBufferPointer { ds in
              let addresses = [g.baseAddress, p.baseAddress, qs.baseAddress, ks.baseAddress, vs.baseAddress].map { Int(bitPattern: $0) }
              let scratchAddress = Int(bitPattern: ds.baseAddress)
              forEachChunk(of: groups, parts: parts) { part, range in
                let (g, p) = (UnsafePointer<Float>(bitPattern: addresses[0])!, UnsafePointer<Float>(bitPattern: addresses[1])!)
                let (qs, ks, vs) = (UnsafePointer<Float>(bitPattern: addresses[2])!, UnsafePointer<Float>(bitPattern: addresses[3])!, UnsafePointer<Float>(bitPattern: addresses[4])!)
                let (dq, dk, dv) = (UnsafeMutablePointer<Float>(bitPattern: mutableAddresses[0])!, UnsafeMutablePointer<Float>(bitPattern: mutableAddresses[1])!, UnsafeMutablePointer<Float>(bitPattern: mutableAddresses[2])!)
                let ds = UnsafeMutablePointer<Float>(bitPattern: scratchAddress)! + part * queries * keys
                for group in range {
                  let probabilities = p + group * queries * keys
                  let (dOut, dOutStride) = (g + layout.output.start(ofGroup: group), layout.output.rowStride)
                  let (qGroup, kGroup, vGroup) = (layout.query.start(ofGroup: group), layout.key.start(ofGroup: group), layout.value.start(ofGroup: group))
                  // dV = Pᵀ·dO
                  GEMM.multiply(m: keys, n: valueDepth, k: queries, a: probabilities, lda: keys, transposeA: true,
                                b: dOut, ldb: dOutStride, transposeB: false,
                                c: dv + vGroup, ldc: layout.value.rowStride, accumulate: false, threads: 1)
                  // dP = dO·Vᵀ
                  GEMM.multiply(m: queries, n: keys, k: valueDepth, a: dOut, lda: dOutStride, transposeA: false,
                                b: vs + vGroup, ldb: layout.value.rowStride, transposeB: true,
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
                                b: ks + kGroup, ldb: layout.key.rowStride, transposeB: false,
                                c: dq + qGroup, ldc: layout.query.rowStride, accumulate: false, threads: 1)
                  GEMM.multiply(m: keys, n: depth, k: queries, a: ds, lda: keys, transposeA: true,
                                b: qs + qGroup, ldb: layout.query.rowStride, transposeB: false,
                                c: dk + kGroup, ldc: layout.key.rowStride, accumulate: false, threads: 1)
                }
              }
            }
          }
        }
      }
    }
  }
}
