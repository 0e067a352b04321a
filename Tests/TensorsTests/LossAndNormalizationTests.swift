import Foundation
import Randomness
import Tensors
import Testing
import TestSupport

private func random(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: range, using: &generator)
}

@Test func crossEntropyValuesMatchTheDefinition() {
  let logits = Tensor([[2, 1, 0], [0, 0, 3], [1, 1, 1]])
  let loss = crossEntropy(logits, [0, 2, 1]).scalar
  let manual = [(2, Float(2)), (2, Float(3)), (1, Float(1))].enumerated().map { row, pair -> Float in
    let values = logits.scalars[row * 3..<row * 3 + 3]
    let logTotal = Foundation.log(values.map { Foundation.exp($0) }.reduce(0, +))
    return logTotal - pair.1
  }.reduce(0, +) / 3
  #expect(abs(loss - manual) < 1e-6)
  // Ignored rows neither count nor contribute.
  #expect(abs(crossEntropy(logits, [0, -100, 1]).scalar - (manual * 3 - (Foundation.log(Foundation.exp(0) * 2 + Foundation.exp(3)) - 3)) / 2) < 1e-5)
  // Label smoothing ε: (1 − ε)·NLL + ε·mean over classes of −log p.
  let smoothed = crossEntropy(Tensor([[2, 1, 0]]), [0], labelSmoothing: 0.1).scalar
  let lp = Tensor([2, 1, 0]).logSoftmax().scalars
  #expect(abs(smoothed - (0.9 * -lp[0] + 0.1 * -(lp.reduce(0, +) / 3))) < 1e-6)
}

@Test func crossEntropyGradientMatchesFiniteDifferences() {
  let logits = TensorList([random([4, 5], seed: 1, range: -2...2)])
  expectGradientMatchesFiniteDifferences(at: logits) { p, _ in crossEntropy(p[0], [1, 4, 0, 2]) }
  expectGradientMatchesFiniteDifferences(at: logits) { p, _ in crossEntropy(p[0], [1, -100, 0, 3], labelSmoothing: 0.2) }
  expectGradientMatchesFiniteDifferences(at: logits) { p, _ in crossEntropy(p[0], [7, 7, 7, 2], ignoreIndex: 7) }
}

@Test func layerNormMatchesDefinitionAndFiniteDifferences() {
  let x = random([3, 6], seed: 2, range: -2...2)
  let weight = random([6], seed: 3, range: 0.5...1.5), bias = random([6], seed: 4)
  let y = x.layerNormalized(weight: weight, bias: bias)
  for row in 0..<3 {
    let values = Array(x.scalars[row * 6..<row * 6 + 6])
    let mean = values.reduce(0, +) / 6
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
    for j in 0..<6 {
      let expected = (values[j] - mean) / (variance + 1e-5).squareRoot() * weight.scalars[j] + bias.scalars[j]
      #expect(abs(y.scalars[row * 6 + j] - expected) < 1e-5)
    }
  }
  let mix = random([3, 6], seed: 5)
  expectGradientMatchesFiniteDifferences(at: TensorList([x, weight, bias])) { p, _ in
    (p[0].layerNormalized(weight: p[1], bias: p[2]) * mix).sum()
  }
}

@Test func dropoutIsSeededScaledAndDifferentiable() {
  let x = Tensor.ones([1000])
  var first = SplitMix64(seed: 3), second = SplitMix64(seed: 3)
  let a = x.dropout(rate: 0.25, using: &first), b = x.dropout(rate: 0.25, using: &second)
  #expect(a == b)
  let kept = a.scalars.filter { $0 != 0 }
  #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
  #expect(abs(Float(kept.count) / 1000 - 0.75) < 0.05)
  let input = TensorList([random([4, 4], seed: 6)])
  expectGradientMatchesFiniteDifferences(at: input) { p, _ in
    var generator = SplitMix64(seed: 9)  // the same mask on every evaluation
    return (p[0].dropout(rate: 0.5, using: &generator) * p[0]).sum()
  }
}

@Test func fusedLinearCrossEntropyIsTheSameOnAnyNumberOfThreads() {
  // Blocks of 24 rows split across threads in the forward (53 rows: a ragged last block), slices of 256 classes in
  // the pullback (533 classes: two whole slices and a ragged one, not a whole number of 8-column vectors).
  let inputs = TensorList([random([53, 4], seed: 33), random([533, 4], seed: 34), random([533], seed: 35)])
  let labels = (0..<53).map { $0 % 7 == 2 ? -100 : ($0 * 97) % 533 }
  let results = [1, 3].map { threads in
    ComputeThreads.withMaximum(threads) {
      return valueWithGradient(at: inputs) { p, _ in linearCrossEntropy(p[0], weight: p[1], bias: p[2], labels: labels) }
    }
  }
  #expect(results[0].0.scalars == results[1].0.scalars)
  for index in 0..<3 { #expect(results[0].1[index].scalars == results[1].1[index].scalars, "gradient \(index)") }
  let (composed, composedGradient) = valueWithGradient(at: inputs) { p, _ in
    crossEntropy(linear(p[0], weight: p[1], bias: p[2]), labels)
  }
  #expect(abs(results[0].0.scalar - composed.scalar) < 1e-5)
  for index in 0..<3 { #expect(results[0].1[index].isApproximatelyEqual(to: composedGradient[index], tolerance: 1e-5), "gradient \(index)") }
}

@Test func layerNormIsTheSameOnAnyNumberOfThreads() {
  // 300 rows of 70 features: past the size where rows and 8-column groups split across threads.
  let inputs = TensorList([random([3, 100, 70], seed: 36), random([70], seed: 37), random([70], seed: 38)])
  let weights = random([3, 100, 70], seed: 39)
  let results = [1, 3].map { threads in
    ComputeThreads.withMaximum(threads) {
      return valueWithGradient(at: inputs) { p, _ in (p[0].layerNormalized(weight: p[1], bias: p[2]) * weights).sum() }
    }
  }
  #expect(results[0].0.scalars == results[1].0.scalars)
  for index in 0..<3 { #expect(results[0].1[index].scalars == results[1].1[index].scalars, "gradient \(index)") }
}

@Test func fusedLinearCrossEntropyEqualsTheComposition() {
  let x = random([2, 3, 4], seed: 30), weight = random([7, 4], seed: 31), bias = random([7], seed: 32)
  let labels = [1, 6, -100, 0, 3, 3]
  let inputs = TensorList([x, weight, bias])
  let (fused, fusedGradient) = valueWithGradient(at: inputs) { p, _ in linearCrossEntropy(p[0], weight: p[1], bias: p[2], labels: labels) }
  let (composed, composedGradient) = valueWithGradient(at: inputs) { p, _ in
    crossEntropy(linear(p[0], weight: p[1], bias: p[2]).reshaped(to: [-1, 7]), labels)
  }
  #expect(abs(fused.scalar - composed.scalar) < 1e-5)
  for index in 0..<3 { #expect(fusedGradient[index].isApproximatelyEqual(to: composedGradient[index], tolerance: 1e-5), "gradient \(index)") }
  expectGradientMatchesFiniteDifferences(at: inputs) { p, _ in linearCrossEntropy(p[0], weight: p[1], bias: p[2], labels: labels) }
}

/// The one-row LayerNorm the kernel must agree with bit for bit, whichever rows it batches into SIMD lanes: the mean
/// from eight-lane partial sums (then their sum), the variance a left-to-right sum of squares.
private func referenceLayerNorm(_ x: [Float], features: Int, gamma: [Float], beta: [Float]) -> [Float] {
  var out: [Float] = []
  for row in 0..<(x.count / features) {
    let values = Array(x[(row * features)..<((row + 1) * features)])
    var lanes = SIMD8<Float>()
    var j = 0
    while j + 8 <= features {
      lanes += SIMD8(values[j..<(j + 8)])
      j += 8
    }
    var total = lanes.sum()
    while j < features {
      total += values[j]
      j += 1
    }
    let mean = total / Float(features)
    var variance: Float = 0
    for value in values { let d = value - mean; variance += d * d }
    variance /= Float(features)
    let inverse = 1 / (variance + 1e-5).squareRoot()
    out += values.indices.map { ((values[$0] - mean) * inverse) * gamma[$0] + beta[$0] }
  }
  return out
}

@Test(arguments: [(1, 5), (7, 8), (9, 13), (19, 64), (33, 70)])
func layerNormGivesTheOneRowBitsForEveryRow(rows: Int, features: Int) {
  let x = random([rows, features], seed: 40, range: -3...3), gamma = random([features], seed: 41), beta = random([features], seed: 42)
  let want = referenceLayerNorm(x.scalars, features: features, gamma: gamma.scalars, beta: beta.scalars)
  let got = x.layerNormalized(weight: gamma, bias: beta).scalars
  #expect(got.count == want.count && zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(zip(got, want).filter { $0 != $1 }.count) values differ")
}
