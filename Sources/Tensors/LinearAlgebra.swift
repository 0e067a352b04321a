/// Matrix product op(a)·op(b) with batching:
/// - a [..., M, K] and b [K, N]: every leading index of a uses the same b (a linear layer over a batch);
/// - a [..., M, K] and b [..., K, N] with the same leading shape: one product per leading index.
/// `transposeA`/`transposeB` swap the last two axes of a/b without copying them.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
  let result = matmulValue(a, b, transposeA: transposeA, transposeB: transposeB)
  let (aValue, bValue) = (a.detached, b.detached)
  let (needsA, needsB) = (a.isTracked, b.isTracked)
  return result.recorded(from: [a, b]) { g in
    // C = op(A)·op(B): d op(A) = dC·op(B)ᵀ, d op(B) = op(A)ᵀ·dC, transposed back where A or B was.
    let gradA: Tensor? = needsA
      ? (transposeA
        ? matmulValue(bValue, g, transposeA: transposeB, transposeB: true, batchedLike: aValue)
        : matmulValue(g, bValue, transposeA: false, transposeB: !transposeB, batchedLike: aValue))
      : nil
    let gradB: Tensor? = needsB
      ? (transposeB
        ? matmulValue(g, aValue, transposeA: true, transposeB: transposeA, batchedLike: bValue)
        : matmulValue(aValue, g, transposeA: !transposeA, transposeB: false, batchedLike: bValue))
      : nil
    return [gradA, gradB]
  }
}

/// Untracked product; `batchedLike` (for gradients) gives the shape the result must have, summing over
/// the batch when a shared rank-2 operand's gradient is taken.
func matmulValue(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, batchedLike target: Tensor? = nil) -> Tensor {
  a.requireDense("matmul")
  b.requireDense("matmul")
  precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank ≥ 2 operands; got \(a.shape) and \(b.shape)")
  let (aRows, aColumns) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
  let (bRows, bColumns) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
  let (m, k) = transposeA ? (aColumns, aRows) : (aRows, aColumns)
  let (kB, n) = transposeB ? (bColumns, bRows) : (bRows, bColumns)
  precondition(k == kB, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
  let aBatch = a.shape.dropLast(2).reduce(1, *), bBatch = b.shape.dropLast(2).reduce(1, *)

  // Result of rank 2 wanted from batched operands: the batch is a sum (gradient of a shared weight).
  if let target, target.rank == 2, aBatch > 1 || bBatch > 1 {
    precondition(aBatch == bBatch, "cannot sum batches \(a.shape) and \(b.shape)")
    // Uninitialised: the first product writes every element (`accumulate: false`), later ones add.
    var out = [Float](unsetCount: m * n)
    if transposeA && !transposeB {
      // Σ_i A_iᵀ·B_i is one product of the stacked matrices: A_allᵀ·B_all, with K = batch·rows.
      a.scalars.withUnsafeBufferPointer { x in
        b.scalars.withUnsafeBufferPointer { y in
          out.withUnsafeMutableBufferPointer { o in
            GEMM.multiply(m: m, n: n, k: aBatch * aRows, a: x.baseAddress!, lda: aColumns, transposeA: true,
                          b: y.baseAddress!, ldb: bColumns, transposeB: false, c: o.baseAddress!, ldc: n, accumulate: false)
          }
        }
      }
      return Tensor(shape: target.shape, scalars: out)
    }
    a.scalars.withUnsafeBufferPointer { x in
      b.scalars.withUnsafeBufferPointer { y in
        out.withUnsafeMutableBufferPointer { o in
          for batch in 0..<aBatch {
            GEMM.multiply(m: m, n: n, k: k, a: x.baseAddress! + batch * aRows * aColumns, lda: aColumns, transposeA: transposeA,
                          b: y.baseAddress! + batch * bRows * bColumns, ldb: bColumns, transposeB: transposeB,
                          c: o.baseAddress!, ldc: n, accumulate: batch > 0)
          }
        }
      }
    }
    return Tensor(shape: target.shape, scalars: out)
  }

  if b.rank == 2 && !transposeA {
    // Leading dimensions of a fold into M: one large product.
    let rows = aBatch * m
    var out = [Float](unsetCount: rows * n)
    a.scalars.withUnsafeBufferPointer { x in
      b.scalars.withUnsafeBufferPointer { y in
        out.withUnsafeMutableBufferPointer { o in
          GEMM.multiply(m: rows, n: n, k: k, a: x.baseAddress!, lda: aColumns, transposeA: false,
                        b: y.baseAddress!, ldb: bColumns, transposeB: transposeB, c: o.baseAddress!, ldc: n, accumulate: false)
        }
      }
    }
    return Tensor(shape: Array(a.shape.dropLast(2)) + [m, n], scalars: out)
  }

  let batchShape: [Int]
  if b.rank == 2 {
    batchShape = Array(a.shape.dropLast(2))
  } else if a.rank == 2 {
    batchShape = Array(b.shape.dropLast(2))
  } else {
    precondition(a.shape.dropLast(2) == b.shape.dropLast(2), "batched matmul needs equal batch shapes; got \(a.shape) and \(b.shape)")
    batchShape = Array(a.shape.dropLast(2))
  }
  let batch = batchShape.reduce(1, *)
  var out = [Float](unsetCount: batch * m * n)
  a.scalars.withUnsafeBufferPointer { x in
    b.scalars.withUnsafeBufferPointer { y in
      out.withUnsafeMutableBufferPointer { o in
        for index in 0..<batch {
          let aOffset = aBatch == 1 ? 0 : index * aRows * aColumns
          let bOffset = bBatch == 1 ? 0 : index * bRows * bColumns
          GEMM.multiply(m: m, n: n, k: k, a: x.baseAddress! + aOffset, lda: aColumns, transposeA: transposeA,
                        b: y.baseAddress! + bOffset, ldb: bColumns, transposeB: transposeB,
                        c: o.baseAddress! + index * m * n, ldc: n, accumulate: false)
        }
      }
    }
  }
  var result = Tensor(shape: batchShape + [m, n], scalars: out)
  if let target, result.shape != target.shape { result = result.summed(toShape: target.shape) }
  return result
}

/// x · weightᵀ + bias as a plain [rows, outputs] array: every row starts as the bias and the product is
/// accumulated onto it (no zero fill, no second pass for the bias).
func linearValues(_ x: Tensor, weight: Tensor, bias: Tensor, rows: Int) -> [Float] {
  let (outputs, inputs) = (weight.shape[0], weight.shape[1])
  return [Float](unsafeUninitializedCapacity: rows * outputs) { o, initialized in
    bias.scalars.withUnsafeBufferPointer { b in
      for row in 0..<rows { (o.baseAddress! + row * outputs).initialize(from: b.baseAddress!, count: outputs) }
    }
    initialized = rows * outputs
    guard rows > 0, outputs > 0 else { return }
    x.scalars.withUnsafeBufferPointer { a in
      weight.scalars.withUnsafeBufferPointer { w in
        GEMM.multiply(m: rows, n: outputs, k: inputs, a: a.baseAddress!, lda: inputs, transposeA: false,
                      b: w.baseAddress!, ldb: inputs, transposeB: true, c: o.baseAddress!, ldc: outputs, accumulate: true)
      }
    }
  }
}

/// x·Wᵀ + b over the last dimension as one op: [..., input] with weight [output, input] and bias
/// [output] → [..., output]. The product accumulates onto rows that start as the bias (no second output
/// array, which matters for a vocabulary-sized output), and the pullback is written out directly.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
  x.requireDense("linear")
  weight.requireDense("linear")
  precondition(weight.rank == 2 && bias.shape == [weight.shape[0]] && x.shape.last == weight.shape[1],
               "linear: input \(x.shape), weight \(weight.shape), bias \(bias.shape)")
  let (outputs, inputs) = (weight.shape[0], weight.shape[1])
  let rows = x.scalarCount / max(inputs, 1)
  let out = linearValues(x, weight: weight, bias: bias, rows: rows)
  let (input, weightValue) = (x.detached, weight.detached)
  let (needsInput, needsWeight, needsBias) = (x.isTracked, weight.isTracked, bias.isTracked)
  return Tensor(shape: Array(x.shape.dropLast()) + [outputs], scalars: out).recorded(from: [x, weight, bias]) { g in
    let flatGradient = g.reshapedValue([rows, outputs])
    return [
      needsInput ? matmulValue(flatGradient, weightValue, transposeA: false, transposeB: false).reshapedValue(input.shape) : nil,
      needsWeight ? matmulValue(flatGradient, input.reshapedValue([rows, inputs]), transposeA: true, transposeB: false) : nil,
      needsBias ? flatGradient.sumAxis(0, keepingDimension: false) : nil,
    ]
  }
}
