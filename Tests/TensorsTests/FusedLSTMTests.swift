import Randomness
import Tensors
import Testing
import TestSupport

private func random(_ shape: [Int], seed: UInt64) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: -0.8...0.8, using: &generator)
}

/// input, inputWeight, recurrentWeight, inputBias, recurrentBias
private func lstmParameters(batch: Int, time: Int, input: Int, hidden: Int) -> TensorList {
  TensorList([
    random([batch, time, input], seed: 21), random([4 * hidden, input], seed: 22), random([4 * hidden, hidden], seed: 23),
    random([4 * hidden], seed: 24), random([4 * hidden], seed: 25),
  ])
}

/// The LSTM written with primitive ops, step by step (PyTorch's equations): the reference the fused op must equal.
private func composedLSTM(_ p: TensorList, mask: Tensor?, reverse: Bool) -> Tensor {
  let (batch, time, inputSize) = (p[0].shape[0], p[0].shape[1], p[0].shape[2])
  let hidden = p[2].shape[1]
  var state = Tensor.zeros([batch, hidden]), cell = Tensor.zeros([batch, hidden])
  var outputs = [Tensor](repeating: Tensor.zeros([batch, hidden]), count: time)
  for step in 0..<time {
    let t = reverse ? time - 1 - step : step
    let x = p[0].slice(alongAxis: 1, t..<(t + 1)).reshaped(to: [batch, inputSize])
    let a = matmul(x, p[1], transposeB: true) + p[3] + matmul(state, p[2], transposeB: true) + p[4]
    func gate(_ k: Int) -> Tensor { a.slice(alongAxis: 1, (k * hidden)..<((k + 1) * hidden)) }
    let (i, f, g, o) = (gate(0).sigmoid(), gate(1).sigmoid(), gate(2).tanh(), gate(3).sigmoid())
    let nextCell = f * cell + i * g
    let next = o * nextCell.tanh()
    if let mask {
      let m = mask.slice(alongAxis: 1, t..<(t + 1))  // [B, 1]
      cell = m * nextCell + (1 - m) * cell
      state = m * next + (1 - m) * state
    } else {
      (cell, state) = (nextCell, next)
    }
    outputs[t] = state
  }
  return Tensor.stacking(outputs, alongAxis: 1)
}

private func fusedLSTM(_ p: TensorList, mask: Tensor?, reverse: Bool) -> Tensor {
  lstmSequence(p[0], inputWeight: p[1], recurrentWeight: p[2], inputBias: p[3], recurrentBias: p[4], mask: mask, reverse: reverse)
}

@Test(arguments: [false, true])
func fusedLSTMEqualsTheComposedLSTM(reverse: Bool) {
  let parameters = lstmParameters(batch: 3, time: 5, input: 4, hidden: 10)  // 10: one SIMD8 block and a scalar tail
  let mask = Tensor(shape: [3, 5], scalars: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
  let outputWeights = random([3, 5, 10], seed: 27)
  for maskOrNil in [nil, mask] {
    let fused = fusedLSTM(parameters, mask: maskOrNil, reverse: reverse)
    let composed = composedLSTM(parameters, mask: maskOrNil, reverse: reverse)
    #expect(fused.isApproximatelyEqual(to: composed, tolerance: 1e-5))
    let (_, fusedGradient) = valueWithGradient(at: parameters) { p, _ in (fusedLSTM(p, mask: maskOrNil, reverse: reverse) * outputWeights).sum() }
    let (_, composedGradient) = valueWithGradient(at: parameters) { p, _ in (composedLSTM(p, mask: maskOrNil, reverse: reverse) * outputWeights).sum() }
    for index in 0..<5 {
      #expect(fusedGradient[index].isApproximatelyEqual(to: composedGradient[index], tolerance: 1e-4), "gradient \(index), mask \(maskOrNil != nil)")
    }
  }
}

@Test func fusedLSTMGradientMatchesFiniteDifferences() {
  let parameters = lstmParameters(batch: 2, time: 4, input: 3, hidden: 9)
  let mask = Tensor(shape: [2, 4], scalars: [1, 1, 1, 0, 1, 1, 1, 1])
  let outputWeights = random([2, 4, 9], seed: 28)
  expectGradientMatchesFiniteDifferences(at: parameters) { p, _ in (fusedLSTM(p, mask: mask, reverse: false) * outputWeights).sum() }
  expectGradientMatchesFiniteDifferences(at: parameters) { p, _ in (fusedLSTM(p, mask: nil, reverse: true) * outputWeights).sum() }
}

@Test func maskedLSTMStepsCarryTheStateAndCell() {
  let parameters = lstmParameters(batch: 1, time: 4, input: 2, hidden: 3)
  let outputs = fusedLSTM(parameters, mask: Tensor(shape: [1, 4], scalars: [1, 1, 0, 0]), reverse: false)
  #expect(Array(outputs.scalars[3..<6]) == Array(outputs.scalars[6..<9]))
  #expect(Array(outputs.scalars[3..<6]) == Array(outputs.scalars[9..<12]))
}

/// Run in two parts, the second from the first's last output and final cells, an LSTM gives the whole run's bits,
/// outputs and final cells, in either direction; rows nil reads projection row b·T + t.
@Test(arguments: [false, true])
func anLSTMRunInTwoPartsGivesTheWholeRunsBits(reverse: Bool) {
  let (batch, time, hidden, split) = (3, 5, 10, 2)
  let p = lstmParameters(batch: batch, time: time, input: 4, hidden: hidden)
  func projections(_ steps: Range<Int>) -> Tensor {
    let x = p[0].slice(alongAxis: 1, steps)
    return gruInputProjection(x.reshaped(to: [batch * steps.count, 4]), inputWeight: p[1], inputBias: p[3])
  }
  func run(_ steps: Range<Int>, state: Tensor? = nil, cell: Tensor? = nil) -> (outputs: Tensor, finalCells: Tensor) {
    lstmSequenceWithFinalCells(
      projections: projections(steps), batch: batch, time: steps.count, recurrentWeight: p[2], recurrentBias: p[4], initialState: state,
      initialCell: cell, reverse: reverse)
  }
  let whole = run(0..<time)
  #expect(firstDifference(whole.outputs.scalars, fusedLSTM(p, mask: nil, reverse: reverse).scalars) == nil)
  // Forward: steps 0..<split first; reverse: the later steps first.
  let (firstSteps, secondSteps) = reverse ? (split..<time, 0..<split) : (0..<split, split..<time)
  let first = run(firstSteps)
  let lastStep = reverse ? 0 : firstSteps.count - 1
  let second = run(
    secondSteps, state: first.outputs.slice(alongAxis: 1, lastStep..<(lastStep + 1)).reshaped(to: [batch, hidden]), cell: first.finalCells)
  let joined = reverse
    ? Tensor.concatenating([second.outputs, first.outputs], alongAxis: 1) : Tensor.concatenating([first.outputs, second.outputs], alongAxis: 1)
  #expect(firstDifference(joined.scalars, whole.outputs.scalars) == nil)
  #expect(firstDifference(second.finalCells.scalars, whole.finalCells.scalars) == nil)
  #expect(firstDifference(first.finalCells.scalars, whole.finalCells.scalars) != nil)
}

/// The LSTM's GEMMs and gate arithmetic compute every element alike on both paths: the same bits, forward and
/// backward. Hidden 40 (two 16-lane blocks and an 8-lane tail on AVX-512) and a batch of 13 (a 12-row tile and one
/// row left over).
@Test(.enabled(if: InstructionSet.supported == .avx512, "this CPU has no AVX-512"))
func fusedLSTMGivesTheSameBitsOnAVX512AsOnAVX2() {
  let parameters = lstmParameters(batch: 13, time: 6, input: 20, hidden: 40)
  var maskScalars = [Float](repeating: 1, count: 13 * 6)
  for step in 2..<6 { maskScalars[5 * 6 + step] = 0 }
  let mask = Tensor(shape: [13, 6], scalars: maskScalars)
  let outputWeights = random([13, 6, 40], seed: 29)
  for reverse in [false, true] {
    func run(_ level: InstructionSet) -> (Tensor, TensorList) {
      InstructionSet.withMaximum(level) {
        valueWithGradient(at: parameters) { p, _ in (fusedLSTM(p, mask: mask, reverse: reverse) * outputWeights).sum() }
      }
    }
    let (narrowValue, narrowGradient) = run(.avx2), (wideValue, wideGradient) = run(.avx512)
    #expect(firstDifference(wideValue.scalars, narrowValue.scalars) == nil, "reverse \(reverse)")
    for index in 0..<5 {
      #expect(firstDifference(wideGradient[index].scalars, narrowGradient[index].scalars) == nil, "gradient \(index), reverse \(reverse)")
    }
  }
}
