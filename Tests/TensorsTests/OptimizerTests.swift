import Foundation
import Tensors
import Testing
import TestSupport

private let start = TensorList([Tensor([1, -2, 3]), Tensor([[0.5, 0.5], [1, -1], [2, 0]])])
private let gradientA = TensorList([Tensor([0.1, 0.2, -0.3]), Tensor([[1, 0], [0, 1], [0.5, 0.5]])])
private let gradientB = TensorList([Tensor([-0.2, 0.1, 0.0]), Tensor([[0, 1], [1, 0], [0.25, -0.5]])])

@Test func plainSGDStepsAgainstTheGradient() {
  var model = start
  var optimizer = SGD(for: model, learningRate: 0.5)
  optimizer.update(&model, along: gradientA)
  #expect(model[0].scalars == [0.95, -2.1, 3.15])
}

@Test func sgdMomentumAndNesterovFollowPyTorch() {
  // torch.optim.SGD: buf₁ = g₁; buf = μ·buf + g; step = buf (or g + μ·buf with Nesterov); decay adds wd·θ to g.
  for nesterov in [false, true] {
    var model = start
    var optimizer = SGD(for: model, learningRate: 0.1, momentum: 0.9, nesterov: nesterov, weightDecay: 0.01)
    optimizer.update(&model, along: gradientA)
    optimizer.update(&model, along: gradientB)
    var theta = start[0].scalars
    var buffer: [Float] = []
    for g in [gradientA[0].scalars, gradientB[0].scalars] {
      let decayed = zip(g, theta).map { $0 + 0.01 * $1 }
      buffer = buffer.isEmpty ? decayed : zip(buffer, decayed).map { 0.9 * $0 + $1 }
      let step = nesterov ? zip(decayed, buffer).map { $0 + 0.9 * $1 } : buffer
      theta = zip(theta, step).map { $0 - 0.1 * $1 }
    }
    #expect(model[0].isApproximatelyEqual(to: Tensor(theta), tolerance: 1e-6), "nesterov \(nesterov)")
  }
}

/// torch.optim.Adam / AdamW for one parameter vector.
private func referenceAdam(_ theta: [Float], _ gradients: [[Float]], rate: Float, decay: Float, decoupled: Bool) -> [Float] {
  var theta = theta.map(Double.init)
  var m = [Double](repeating: 0, count: theta.count), v = m
  for (step, g) in gradients.enumerated() {
    let t = Double(step + 1)
    for i in theta.indices {
      if decoupled { theta[i] *= 1 - Double(rate * decay) }
      let gi = Double(g[i]) + (decoupled ? 0 : Double(decay) * theta[i])
      m[i] = 0.9 * m[i] + 0.1 * gi
      v[i] = 0.999 * v[i] + 0.001 * gi * gi
      let mHat = m[i] / (1 - pow(0.9, t)), vHat = v[i] / (1 - pow(0.999, t))
      theta[i] -= Double(rate) * mHat / (vHat.squareRoot() + 1e-8)
    }
  }
  return theta.map(Float.init)
}

@Test(arguments: [(Float(0), false), (Float(0.1), false), (Float(0.1), true)])
func adamAndAdamWFollowPyTorch(decay: Float, decoupled: Bool) {
  var model = start
  var optimizer = Adam(for: model, learningRate: 0.01, weightDecay: decay, decoupledWeightDecay: decoupled)
  for gradient in [gradientA, gradientB, gradientA] { optimizer.update(&model, along: gradient) }
  let expected = referenceAdam(start[1].scalars, [gradientA[1].scalars, gradientB[1].scalars, gradientA[1].scalars], rate: 0.01, decay: decay, decoupled: decoupled)
  #expect(model[1].isApproximatelyEqual(to: Tensor(shape: [3, 2], scalars: expected), tolerance: 1e-6))
}

@Test func adamOnRowSparseGradientsEqualsAdamOnTheirDenseForm() {
  let sparse = TensorList([Tensor([0, 0, 0]), Tensor(shape: [3, 2], sparseRows: [2, 0, 2], scalars: [1, 2, 3, 4, 5, 6])])
  let dense = TensorList([Tensor([0, 0, 0]), sparse[1].densified()])
  for decoupled in [false, true] {
    var viaSparse = start, viaDense = start
    var a = Adam(for: start, learningRate: 0.1, weightDecay: decoupled ? 0.05 : 0, decoupledWeightDecay: decoupled)
    var b = a
    for _ in 0..<3 {
      a.update(&viaSparse, along: sparse)
      b.update(&viaDense, along: dense)
    }
    #expect(viaSparse[1].isApproximatelyEqual(to: viaDense[1], tolerance: 1e-6))
    // Row 1 has no gradient yet moves, as in PyTorch's dense Adam: its moments are zero, so it stays.
    #expect(viaSparse[1].scalars[2...3] == start[1].scalars[2...3] || decoupled)
  }
}

@Test func adamIsTheSameOnAnyNumberOfThreads() {
  // Large enough to be split across threads: a vector of 70,003 scalars (not a multiple of 8) with dense gradients
  // and a [10,000, 8] table with row-sparse ones.
  let count = 70_003
  let theta = TensorList([
    Tensor((0..<count).map { Float(sin(Double($0))) }), Tensor(shape: [10_000, 8], scalars: (0..<80_000).map { Float(cos(Double($0))) }),
  ])
  let gradient = TensorList([
    Tensor((0..<count).map { Float(cos(Double($0) * 0.7)) }),
    Tensor(shape: [10_000, 8], sparseRows: [5, 9_999, 5], scalars: (0..<24).map { Float($0) - 11.5 }),
  ])
  let results = [1, 3].map { threads -> [[Float]] in
    ComputeThreads.withMaximum(threads) {
      var model = theta
      var optimizer = Adam(for: model, learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: true)
      for _ in 0..<3 { optimizer.update(&model, along: gradient) }
      return [model[0].scalars, model[1].scalars]
    }
  }
  #expect(results[0] == results[1])
  #expect(results[0][1] != theta[1].scalars, "the table moved")
}

@Test func lazyAdamTouchesOnlyTheGradientsRows() {
  var model = start
  var optimizer = LazyAdam(for: model, learningRate: 0.1)
  optimizer.update(&model, along: TensorList([Tensor([1, 1, 1]), Tensor(shape: [3, 2], sparseRows: [0], scalars: [1, -1])]))
  optimizer.update(&model, along: TensorList([Tensor([1, 1, 1]), Tensor(shape: [3, 2], sparseRows: [2], scalars: [1, 1])]))
  #expect(Array(model[1].scalars[2...3]) == Array(start[1].scalars[2...3]))  // row 1 never touched
  #expect(model[1].scalars[0] != start[1].scalars[0])
  // Row 0's moment from step 1 did not move it again at step 2 (unlike Adam).
  var afterOne = start
  var single = LazyAdam(for: afterOne, learningRate: 0.1)
  single.update(&afterOne, along: TensorList([Tensor([1, 1, 1]), Tensor(shape: [3, 2], sparseRows: [0], scalars: [1, -1])]))
  #expect(Array(model[1].scalars[0...1]) == Array(afterOne[1].scalars[0...1]))
}

@Test func globalNormClippingScalesEveryParameter() {
  var gradient = TensorList([Tensor([3, 0]), Tensor(shape: [2, 2], sparseRows: [1, 1], scalars: [2, 0, 2, 0])])
  let norm = clipByGlobalNorm(&gradient, maximumNorm: 1)
  #expect(abs(norm - 5) < 1e-5)  // √(9 + (2 + 2)²)
  var total: Float = 0
  gradient.forEachParameter { _, tensor in total += tensor.squaredNorm }
  #expect(abs(total.squareRoot() - 1) < 1e-4)
  var small = TensorList([Tensor([0.1])])
  clipByGlobalNorm(&small, maximumNorm: 1)
  #expect(small[0].scalars == [0.1])
}

@Test func learningRateSchedules() {
  #expect(LearningRateSchedule.constant(0.1).learningRate(atStep: 50) == 0.1)
  let linear = LearningRateSchedule.linear(peak: 1, warmupSteps: 4, totalSteps: 14)
  #expect([0, 3, 4, 9, 14, 20].map(linear.learningRate(atStep:)) == [0.25, 1, 1, 0.5, 0, 0])
  let cosine = LearningRateSchedule.cosine(peak: 1, warmupSteps: 0, totalSteps: 10, minimum: 0.1)
  #expect(abs(cosine.learningRate(atStep: 0) - 1) < 1e-6)
  #expect(abs(cosine.learningRate(atStep: 5) - 0.55) < 1e-6)
  #expect(abs(cosine.learningRate(atStep: 10) - 0.1) < 1e-6)
}
