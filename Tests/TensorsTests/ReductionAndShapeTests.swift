import Randomness
import Tensors
import Testing
import TestSupport

private func random(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: range, using: &generator)
}

private func weightedSum(_ y: Tensor, seed: UInt64 = 77) -> Tensor { (y * random(y.shape, seed: seed)).sum() }

@Test func reductionsMatchFiniteDifferences() {
  let x = TensorList([random([2, 3, 4], seed: 1)])
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in p[0].sum() * 0.5 }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in p[0].mean() }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].sum(alongAxes: [1])) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].sum(alongAxes: [0, 2], keepingDimensions: true)) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].mean(alongAxes: [-1])) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].max(alongAxis: 1)) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].softmax()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].softmax(alongAxis: 1)) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].logSoftmax()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].logSoftmax(alongAxis: 0)) }
}

@Test func reductionValues() {
  let x = Tensor([[1, 5, 3], [4, 2, 6]])
  #expect(x.sum().scalar == 21)
  #expect(x.sum(alongAxes: [0]).scalars == [5, 7, 9])
  #expect(x.sum(alongAxes: [1], keepingDimensions: true).shape == [2, 1])
  #expect(x.max(alongAxis: 1).scalars == [5, 6])
  #expect(x.mean(alongAxes: [1]).scalars == [3, 4])
  let softmax = Tensor([1, 2, 3]).softmax()
  #expect(softmax.isApproximatelyEqual(to: Tensor([0.090_030_57, 0.244_728_47, 0.665_240_94])))
  #expect(Tensor([1000, 1001]).logSoftmax().isApproximatelyEqual(to: Tensor([-1.313_261_7, -0.313_261_7]), tolerance: 1e-4))
}

@Test func shapeOpsMatchFiniteDifferences() {
  let x = TensorList([random([2, 3, 4], seed: 2)])
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].reshaped(to: [4, -1])) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].permuted([2, 0, 1])) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].transposed()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].slice(alongAxis: 1, 1..<3)) }
  let pair = TensorList([random([2, 3], seed: 3), random([2, 5], seed: 4)])
  expectGradientMatchesFiniteDifferences(at: pair) { p, _ in weightedSum(Tensor.concatenating([p[0], p[1]], alongAxis: 1)) }
  let same = TensorList([random([2, 3], seed: 5), random([2, 3], seed: 6)])
  expectGradientMatchesFiniteDifferences(at: same) { p, _ in weightedSum(Tensor.stacking([p[0], p[1]], alongAxis: 1)) }
}

@Test func shapeOpValues() {
  let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
  #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
  #expect(x.permuted([1, 0]).shape == [3, 2])
  #expect(x.slice(alongAxis: 1, 1..<3).scalars == [2, 3, 5, 6])
  #expect(Tensor.concatenating([x, x], alongAxis: 0).shape == [4, 3])
  #expect(Tensor.stacking([x, x], alongAxis: 0).shape == [2, 2, 3])
  #expect(Tensor.stacking([x, x], alongAxis: -1).scalars == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
  #expect(x.reshaped(to: [3, -1]).shape == [3, 2])
}

@Test func gatherGivesRowSparseGradientsThatAddUp() {
  let table = TensorList([random([6, 3], seed: 7)])
  let ids = [4, 1, 4, 0]
  let rows = table[0].gathering(rows: ids, indexShape: [2, 2])
  #expect(rows.shape == [2, 2, 3])
  #expect(Array(rows.scalars[0..<3]) == Array(table[0].scalars[12..<15]))
  let (_, gradient) = valueWithGradient(at: table) { p, _ in weightedSum(p[0].gathering(rows: ids, indexShape: [2, 2])) }
  #expect(gradient[0].isSparse)
  #expect(gradient[0].sparseRows == ids)
  expectGradientMatchesFiniteDifferences(at: table) { p, _ in weightedSum(p[0].gathering(rows: ids)) }
  let coalesced = gradient[0].coalesced()
  #expect(coalesced.sparseRows == [0, 1, 4])
  #expect(coalesced.densified().isApproximatelyEqual(to: gradient[0].densified()))
}

@Test func scatterAddIsTheAdjointOfGather() {
  let rows = TensorList([random([3, 2], seed: 8)])
  let scattered = rows[0].scatteringAdd(intoRows: [2, 0, 2], shape: [4, 2])
  #expect(scattered.scalars[4] == rows[0].scalars[0] + rows[0].scalars[4])
  #expect(scattered.scalars[2] == 0)
  expectGradientMatchesFiniteDifferences(at: rows) { p, _ in weightedSum(p[0].scatteringAdd(intoRows: [2, 0, 2], shape: [4, 2])) }
}

@Test func gradientAccumulationMixesDenseAndSparse() {
  let dense = Tensor([[1, 1], [1, 1], [1, 1]])
  let sparse = Tensor(shape: [3, 2], sparseRows: [2, 0, 2], scalars: [1, 2, 3, 4, 5, 6])
  #expect(dense.accumulating(sparse).scalars == [4, 5, 1, 1, 7, 9])
  #expect(sparse.accumulating(dense).scalars == [4, 5, 1, 1, 7, 9])
  #expect(sparse.accumulating(sparse).densified().scalars == [6, 8, 0, 0, 12, 16])
  #expect(sparse.squaredNorm == 9 + 16 + 36 + 64)  // rows 2 merged: (6, 8); row 0: (3, 4)
}
