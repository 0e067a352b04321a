import Randomness
import Tensors
import Testing
import TestSupport

/// 19 sequences of 12 steps, 128 hidden units: enough for the forward steps to split into two chunks of sequences
/// (10 and 9) on two threads; two rows padded part of the way.
private let (batch, time, inputSize, hidden) = (19, 12, 8, 128)

private func random(_ shape: [Int], seed: UInt64) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: -0.5...0.5, using: &generator)
}

private var mask: Tensor {
  var scalars = [Float](repeating: 1, count: batch * time)
  for step in 4..<time { scalars[3 * time + step] = 0 }
  for step in 9..<time { scalars[17 * time + step] = 0 }
  return Tensor(shape: [batch, time], scalars: scalars)
}

/// The outputs and every gradient of a weighted sum of a fused recurrence's outputs, on `threads` threads.
private func outputsAndGradients(gates: Int, threads: Int, reverse: Bool) -> [[Float]] {
  let parameters = TensorList([
    random([batch, time, inputSize], seed: 1), random([gates * hidden, inputSize], seed: 2), random([gates * hidden, hidden], seed: 3),
    random([gates * hidden], seed: 4), random([gates * hidden], seed: 5),
  ])
  let weights = random([batch, time, hidden], seed: 6), mask = mask
  func run(_ p: TensorList) -> Tensor {
    gates == 3
      ? gruSequence(p[0], inputWeight: p[1], recurrentWeight: p[2], inputBias: p[3], recurrentBias: p[4], mask: mask, reverse: reverse)
      : lstmSequence(p[0], inputWeight: p[1], recurrentWeight: p[2], inputBias: p[3], recurrentBias: p[4], mask: mask, reverse: reverse)
  }
  return ComputeThreads.withMaximum(threads) {
    let (_, gradient) = valueWithGradient(at: parameters) { p, _ in (run(p) * weights).sum() }
    return [run(parameters).scalars] + (0..<5).map { gradient[$0].scalars }
  }
}

@Test(arguments: [3, 4], [false, true])
func recurrencesGiveTheSameBitsOnOneAndTwoThreads(gates: Int, reverse: Bool) {
  let one = outputsAndGradients(gates: gates, threads: 1, reverse: reverse)
  let two = outputsAndGradients(gates: gates, threads: 2, reverse: reverse)
  for (index, (a, b)) in zip(one, two).enumerated() {
    #expect(firstDifference(a, b) == nil, "\(index == 0 ? "outputs" : "gradient \(index - 1)")")
  }
}
