import Foundation
import Randomness
import Tensors
import Testing
import TestSupport

private func random(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: range, using: &generator)
}

/// Σ(y ⊙ w) with fixed random weights, so every output position gets its own gradient.
private func weightedSum(_ y: Tensor, seed: UInt64 = 99) -> Tensor {
  (y * random(y.shape, seed: seed)).sum()
}

@Test(arguments: [
  ([2, 3], [2, 3]), ([2, 3], [3]), ([2, 3], []), ([2, 1, 3], [4, 1]), ([1], [3, 2]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]),
  ([2, 3, 4], [2, 3, 1]), ([2, 3, 1], [2, 3, 4]),
])
func broadcastingArithmeticMatchesFiniteDifferences(lhs: [Int], rhs: [Int]) {
  let inputs = TensorList([random(lhs, seed: 1), random(rhs, seed: 2, range: 0.5...1.5)])
  expectGradientMatchesFiniteDifferences(at: inputs) { p, _ in weightedSum(p[0] + p[1]) }
  expectGradientMatchesFiniteDifferences(at: inputs) { p, _ in weightedSum(p[0] - p[1]) }
  expectGradientMatchesFiniteDifferences(at: inputs) { p, _ in weightedSum(p[0] * p[1]) }
  expectGradientMatchesFiniteDifferences(at: inputs) { p, _ in weightedSum(p[0] / p[1]) }
}

@Test func broadcastingShapesAndValues() {
  #expect(broadcastShape([2, 1, 3], [4, 1]) == [2, 4, 3])
  #expect(broadcastShape([], [5]) == [5])
  let a = Tensor([[1, 2, 3], [4, 5, 6]])
  #expect((a + Tensor([10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
  #expect((a * Tensor(shape: [2, 1], scalars: [2, 3])).scalars == [2, 4, 6, 12, 15, 18])
  #expect((Tensor(shape: [3, 1], scalars: [1, 2, 3]) - Tensor(shape: [1, 2], scalars: [10, 20])).scalars == [-9, -19, -8, -18, -7, -17])
  #expect((a / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
  #expect((1 - a).scalars == [0, -1, -2, -3, -4, -5])
}

@Test func largeElementwiseOpsSplitAcrossThreadsGiveTheSameBits() {
  // 300 × 257 = 77,100 scalars: past the size from which elementwise ops use the compute threads.
  let x = random([300, 257], seed: 5), y = random([300, 257], seed: 6), bias = random([257], seed: 7), perRow = random([300, 1], seed: 8)
  let results = [1, 3].map { threads in
    ComputeThreads.withMaximum(threads) {
      return [x + y, x * bias, bias - x, x / perRow, perRow * x, x.relu(), x * 3]
    }
  }
  #expect(results[0].count == 7 && results[1].count == 7)
  for (serial, threaded) in zip(results[0], results[1]) { #expect(serial.scalars == threaded.scalars) }
  // And what each should be, element by element.
  let expected: [(Int) -> Float] = [
    { x.scalars[$0] + y.scalars[$0] }, { x.scalars[$0] * bias.scalars[$0 % 257] }, { bias.scalars[$0 % 257] - x.scalars[$0] },
    { x.scalars[$0] / perRow.scalars[$0 / 257] }, { perRow.scalars[$0 / 257] * x.scalars[$0] }, { max(x.scalars[$0], 0) }, { x.scalars[$0] * 3 },
  ]
  #expect(expected.count == results[1].count)
  for (result, element) in zip(results[1], expected) {
    #expect(result.shape == [300, 257])
    #expect((0..<result.scalarCount).allSatisfy { result.scalars[$0] == element($0) })
  }
}

@Test func pointwiseOpsMatchFiniteDifferences() {
  let x = TensorList([random([3, 5], seed: 3)])
  let positive = TensorList([random([3, 5], seed: 4, range: 0.2...2)])
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].tanh()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].sigmoid()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].exp()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].gelu()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].squared()) }
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(-p[0] * 3 + 1) }
  expectGradientMatchesFiniteDifferences(at: positive) { p, _ in weightedSum(p[0].log()) }
  expectGradientMatchesFiniteDifferences(at: positive) { p, _ in weightedSum(p[0].squareRoot()) }
  // relu away from its kink
  let awayFromZero = TensorList([Tensor([-1.5, -0.5, 0.4, 1.2, 2.0, -2.2])])
  expectGradientMatchesFiniteDifferences(at: awayFromZero) { p, _ in weightedSum(p[0].relu()) }
}

@Test func pointwiseValues() {
  let x = Tensor([-2, -0.5, 0, 0.5, 2])
  #expect(x.relu().scalars == [0, 0, 0, 0.5, 2])
  #expect(x.sigmoid().isApproximatelyEqual(to: Tensor(x.scalars.map { 1 / (1 + Foundation.exp(-$0)) })))
  #expect(x.gelu().isApproximatelyEqual(to: Tensor([-0.045_500_26, -0.154_285_99, 0, 0.345_714, 1.954_5]), tolerance: 1e-4))
  #expect(Tensor([1000, -1000]).sigmoid().scalars == [1, 0])
}

@Test func maskingKeepsGradientOnKeptPositionsOnly() {
  let x = TensorList([random([2, 4], seed: 5)])
  let mask = Tensor(shape: [2, 4], scalars: [1, 1, 0, 1, 0, 1, 1, 0])
  #expect(x[0].masked(by: mask, fill: -9).scalars.enumerated().allSatisfy { mask.scalars[$0.offset] == 0 ? $0.element == -9 : $0.element == x[0].scalars[$0.offset] })
  expectGradientMatchesFiniteDifferences(at: x) { p, _ in weightedSum(p[0].masked(by: mask, fill: 0)) }
  let (_, gradient) = valueWithGradient(at: x) { p, _ in p[0].masked(by: mask, fill: 0).sum() }
  #expect(gradient[0].scalars == mask.scalars)
}

@Test(arguments: [([4, 6, 19], [19]), ([4, 6, 8], [6, 8]), ([3, 37], [3, 37]), ([5, 1], [1]), ([2, 3], [])])
func broadcastArithmeticGivesTheScalarLoopsBits(shape: [Int], operand: [Int]) {
  let a = random(shape, seed: 50), b = random(operand, seed: 51, range: 0.5...2)
  let count = a.scalarCount, repeats = max(b.scalarCount, 1)
  func scalar(_ op: (Float, Float) -> Float, swapped: Bool = false) -> [Float] {
    (0..<count).map { swapped ? op(b.scalars[$0 % repeats], a.scalars[$0]) : op(a.scalars[$0], b.scalars[$0 % repeats]) }
  }
  #expect((a + b).scalars == scalar(+))
  #expect((a - b).scalars == scalar(-))
  #expect((a * b).scalars == scalar(*))
  #expect((a / b).scalars == scalar(/))
  #expect((b - a).scalars == scalar(-, swapped: true))
}
