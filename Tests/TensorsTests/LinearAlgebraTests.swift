import Randomness
@testable import Tensors
import Testing
import TestSupport

private func random(_ shape: [Int], seed: UInt64) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: -1...1, using: &generator)
}

/// Naive triple loop in Double, the reference for the kernel.
private func naiveProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> [Float] {
  var c = [Float](repeating: 0, count: m * n)
  for i in 0..<m {
    for j in 0..<n {
      var sum: Double = 0
      for p in 0..<k {
        let x = transposeA ? a[p * m + i] : a[i * k + p]
        let y = transposeB ? b[j * k + p] : b[p * n + j]
        sum += Double(x) * Double(y)
      }
      c[i * n + j] = Float(sum)
    }
  }
  return c
}

@Test(arguments: [(1, 1, 1), (5, 7, 3), (6, 16, 8), (13, 33, 300), (64, 64, 64), (97, 130, 257), (2, 500, 17)])
func gemmMatchesNaiveProductForEveryTransposition(m: Int, n: Int, k: Int) {
  for transposeA in [false, true] {
    for transposeB in [false, true] {
      let a = random([m * k], seed: UInt64(m * 31 + k)).scalars
      let b = random([k * n], seed: UInt64(n * 17 + k)).scalars
      var c = [Float](repeating: 0, count: m * n)
      GEMM.multiply(m: m, n: n, k: k, a: a, lda: transposeA ? m : k, transposeA: transposeA,
                    b: b, ldb: transposeB ? k : n, transposeB: transposeB, c: &c, ldc: n, accumulate: false, threads: 1)
      let expected = naiveProduct(a, b, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
      let worst = zip(c, expected).map { abs($0 - $1) }.max() ?? 0
      #expect(worst <= 1e-4 * Float(k).squareRoot(), "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB): error \(worst)")
    }
  }
}

@Test func gemmAccumulatesAndIgnoresThreadCount() {
  let (m, n, k) = (150, 140, 130)
  let a = random([m * k], seed: 1).scalars, b = random([k * n], seed: 2).scalars
  var one = [Float](repeating: 1, count: m * n), two = one
  GEMM.multiply(m: m, n: n, k: k, a: a, lda: k, transposeA: false, b: b, ldb: n, transposeB: false, c: &one, ldc: n, accumulate: true, threads: 1)
  GEMM.multiply(m: m, n: n, k: k, a: a, lda: k, transposeA: false, b: b, ldb: n, transposeB: false, c: &two, ldc: n, accumulate: true, threads: 2)
  #expect(one == two, "results must not depend on the thread count")
  let expected = naiveProduct(a, b, m: m, n: n, k: k, transposeA: false, transposeB: false).map { $0 + 1 }
  #expect(zip(one, expected).allSatisfy { abs($0 - $1) < 1e-3 })
}

/// A row-major A is read in place, a transposed one packed: the same products in the same order, so the same bits,
/// edge rows and columns and several depth slices included.
@Test func gemmReadsARowMajorAInPlaceWithThePackedPathsBits() {
  let (m, n, k) = (13, 21, 700)
  let a = random([m * k], seed: 11).scalars, b = random([k * n], seed: 12).scalars
  var transposedA = [Float](repeating: 0, count: m * k)
  for i in 0..<m { for p in 0..<k { transposedA[p * m + i] = a[i * k + p] } }
  var direct = [Float](repeating: 0.5, count: m * n), packed = direct
  GEMM.multiply(m: m, n: n, k: k, a: a, lda: k, transposeA: false, b: b, ldb: n, transposeB: false, c: &direct, ldc: n, accumulate: true, threads: 1)
  GEMM.multiply(m: m, n: n, k: k, a: transposedA, lda: m, transposeA: true, b: b, ldb: n, transposeB: false, c: &packed, ldc: n, accumulate: true, threads: 1)
  #expect(direct == packed)
  let expected = naiveProduct(a, b, m: m, n: n, k: k, transposeA: false, transposeB: false).map { $0 + 0.5 }
  let worst = zip(direct, expected).map { abs($0 - $1) }.max() ?? 0
  #expect(worst <= 1e-4 * Float(k).squareRoot(), "error \(worst)")
}

@Test func matmulShapesAndValues() {
  let a = Tensor([[1, 2], [3, 4], [5, 6]])
  let b = Tensor([[1, 0, 2], [0, 1, 3]])
  #expect(matmul(a, b).scalars == [1, 2, 8, 3, 4, 18, 5, 6, 28])
  #expect(matmul(a, a, transposeA: true).scalars == [35, 44, 44, 56])
  #expect(matmul(a, a, transposeB: true).shape == [3, 3])
  let batched = Tensor.stacking([a, a * 2])
  #expect(matmul(batched, b).shape == [2, 3, 3])
  #expect(matmul(batched, Tensor.stacking([b, b])).scalars == matmul(batched, b).scalars)
}

@Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
func matmulGradientsMatchFiniteDifferences(transposeA: Bool, transposeB: Bool) {
  let a = random(transposeA ? [4, 3] : [3, 4], seed: 3)
  let b = random(transposeB ? [5, 4] : [4, 5], seed: 4)
  let weights = random([3, 5], seed: 5)
  expectGradientMatchesFiniteDifferences(at: TensorList([a, b])) { p, _ in
    (matmul(p[0], p[1], transposeA: transposeA, transposeB: transposeB) * weights).sum()
  }
}

@Test func batchedMatmulGradientsMatchFiniteDifferences() {
  let weights = random([2, 3, 5], seed: 6)
  // A shared rank-2 right operand (a linear layer over a batch) and a fully batched one.
  expectGradientMatchesFiniteDifferences(at: TensorList([random([2, 3, 4], seed: 7), random([4, 5], seed: 8)])) { p, _ in
    (matmul(p[0], p[1]) * weights).sum()
  }
  expectGradientMatchesFiniteDifferences(at: TensorList([random([2, 3, 4], seed: 9), random([5, 4], seed: 10)])) { p, _ in
    (matmul(p[0], p[1], transposeB: true) * weights).sum()
  }
  expectGradientMatchesFiniteDifferences(at: TensorList([random([2, 3, 4], seed: 11), random([2, 4, 5], seed: 12)])) { p, _ in
    (matmul(p[0], p[1]) * weights).sum()
  }
  expectGradientMatchesFiniteDifferences(at: TensorList([random([2, 4, 3], seed: 13), random([2, 5, 4], seed: 14)])) { p, _ in
    (matmul(p[0], p[1], transposeA: true, transposeB: true) * weights).sum()
  }
}

@Test func fusedLinearEqualsMatmulPlusBiasAndMatchesFiniteDifferences() {
  let x = random([2, 3, 4], seed: 20), weight = random([5, 4], seed: 21), bias = random([5], seed: 22)
  #expect(linear(x, weight: weight, bias: bias).isApproximatelyEqual(to: matmul(x, weight, transposeB: true) + bias, tolerance: 1e-6))
  let mix = random([2, 3, 5], seed: 23)
  expectGradientMatchesFiniteDifferences(at: TensorList([x, weight, bias])) { p, _ in (linear(p[0], weight: p[1], bias: p[2]) * mix).sum() }
}

/// Every register tile computes an element as one chain of fused multiply-adds over each depth slice of 256, added to
/// C slice by slice; a scalar loop in that order gives the same bits. Shapes with a right edge of 1–8 columns (the
/// 12×8 tile), of 9–15 (the 6×16 tile), 1–3 rows left (the 3×16 tile), 7–8 (AVX-512's 8-row tile) or 9–11 (its
/// 12-row tile), several depth slices, A read in place or packed.
@Test(arguments: [
  (25, 100, 300), (13, 4, 600), (12, 8, 9), (7, 21, 257), (30, 9, 40), (100, 140, 513), (5, 1, 3), (32, 64, 130), (27, 19, 70),
  (20, 64, 9), (33, 40, 260),
])
func everyTileComputesTheScalarFusedChainsBits(m: Int, n: Int, k: Int) {
  let a = random([m * k], seed: UInt64(m * 3 + k)).scalars, b = random([k * n], seed: UInt64(n * 5 + k)).scalars
  let start = random([m * n], seed: 9).scalars
  for level in InstructionSet.allCases where level <= InstructionSet.supported {
    for transposeA in [false, true] {
      for accumulate in [false, true] {
        var expected = start
        for i in 0..<m {
          for j in 0..<n {
            var total = accumulate ? start[i * n + j] : 0
            for slice in stride(from: 0, to: k, by: 256) {
              var chain: Float = 0
              for p in slice..<Swift.min(slice + 256, k) {
                chain = chain.addingProduct(a[i * k + p], b[p * n + j])
              }
              total = slice == 0 && !accumulate ? chain : total + chain
            }
            expected[i * n + j] = total
          }
        }
        var stored = a
        if transposeA { for i in 0..<m { for p in 0..<k { stored[p * m + i] = a[i * k + p] } } }
        var c = start
        InstructionSet.withMaximum(level) {
          GEMM.multiply(m: m, n: n, k: k, a: stored, lda: transposeA ? m : k, transposeA: transposeA,
                        b: b, ldb: n, transposeB: false, c: &c, ldc: n, accumulate: accumulate, threads: 1)
        }
        #expect(c == expected, "\(level) m \(m) n \(n) k \(k) transposeA \(transposeA) accumulate \(accumulate)")
      }
    }
  }
}
