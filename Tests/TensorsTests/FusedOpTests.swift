import Randomness
import Tensors
import Testing
import TestSupport

private func random(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -0.8...0.8) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: range, using: &generator)
}

/// input, inputWeight, recurrentWeight, inputBias, recurrentBias, initialState
private func gruParameters(batch: Int, time: Int, input: Int, hidden: Int) -> TensorList {
  TensorList([
    random([batch, time, input], seed: 1), random([3 * hidden, input], seed: 2), random([3 * hidden, hidden], seed: 3),
    random([3 * hidden], seed: 4), random([3 * hidden], seed: 5), random([batch, hidden], seed: 6),
  ])
}

/// The GRU written with primitive ops, step by step: the reference the fused op must equal.
private func composedGRU(_ p: TensorList, mask: Tensor?, reverse: Bool) -> Tensor {
  let (batch, time, inputSize) = (p[0].shape[0], p[0].shape[1], p[0].shape[2])
  let hidden = p[2].shape[1]
  var state = p[5]
  var outputs = [Tensor](repeating: Tensor.zeros([batch, hidden]), count: time)
  for step in 0..<time {
    let t = reverse ? time - 1 - step : step
    let x = p[0].slice(alongAxis: 1, t..<(t + 1)).reshaped(to: [batch, inputSize])
    let gi = matmul(x, p[1], transposeB: true) + p[3]
    let gh = matmul(state, p[2], transposeB: true) + p[4]
    let r = (gi.slice(alongAxis: 1, 0..<hidden) + gh.slice(alongAxis: 1, 0..<hidden)).sigmoid()
    let z = (gi.slice(alongAxis: 1, hidden..<(2 * hidden)) + gh.slice(alongAxis: 1, hidden..<(2 * hidden))).sigmoid()
    let n = (gi.slice(alongAxis: 1, (2 * hidden)..<(3 * hidden)) + r * gh.slice(alongAxis: 1, (2 * hidden)..<(3 * hidden))).tanh()
    let next = (1 - z) * n + z * state
    if let mask {
      let m = mask.slice(alongAxis: 1, t..<(t + 1))  // [B, 1]
      state = m * next + (1 - m) * state
    } else {
      state = next
    }
    outputs[t] = state
  }
  return Tensor.stacking(outputs, alongAxis: 1)
}

private func fusedGRU(_ p: TensorList, mask: Tensor?, reverse: Bool) -> Tensor {
  gruSequence(p[0], inputWeight: p[1], recurrentWeight: p[2], inputBias: p[3], recurrentBias: p[4], initialState: p[5], mask: mask, reverse: reverse)
}

@Test(arguments: [false, true])
func fusedGRUEqualsTheComposedGRU(reverse: Bool) {
  let parameters = gruParameters(batch: 3, time: 5, input: 4, hidden: 10)  // 10: one SIMD8 block and a scalar tail
  let mask = Tensor(shape: [3, 5], scalars: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
  let outputWeights = random([3, 5, 10], seed: 7)
  for maskOrNil in [nil, mask] {
    let fused = fusedGRU(parameters, mask: maskOrNil, reverse: reverse)
    let composed = composedGRU(parameters, mask: maskOrNil, reverse: reverse)
    #expect(fused.isApproximatelyEqual(to: composed, tolerance: 1e-5))
    let (_, fusedGradient) = valueWithGradient(at: parameters) { p, _ in (fusedGRU(p, mask: maskOrNil, reverse: reverse) * outputWeights).sum() }
    let (_, composedGradient) = valueWithGradient(at: parameters) { p, _ in (composedGRU(p, mask: maskOrNil, reverse: reverse) * outputWeights).sum() }
    for index in 0..<6 {
      #expect(fusedGradient[index].isApproximatelyEqual(to: composedGradient[index], tolerance: 1e-4), "gradient \(index), mask \(maskOrNil != nil)")
    }
  }
}

@Test func fusedGRUGradientMatchesFiniteDifferences() {
  let parameters = gruParameters(batch: 2, time: 4, input: 3, hidden: 9)
  let mask = Tensor(shape: [2, 4], scalars: [1, 1, 1, 0, 1, 1, 1, 1])
  let outputWeights = random([2, 4, 9], seed: 8)
  expectGradientMatchesFiniteDifferences(at: parameters) { p, _ in (fusedGRU(p, mask: mask, reverse: false) * outputWeights).sum() }
  expectGradientMatchesFiniteDifferences(at: parameters) { p, _ in (fusedGRU(p, mask: nil, reverse: true) * outputWeights).sum() }
}

@Test func maskedStepsCarryTheState() {
  let parameters = gruParameters(batch: 1, time: 4, input: 2, hidden: 3)
  let outputs = fusedGRU(parameters, mask: Tensor(shape: [1, 4], scalars: [1, 1, 0, 0]), reverse: false)
  #expect(Array(outputs.scalars[3..<6]) == Array(outputs.scalars[6..<9]))
  #expect(Array(outputs.scalars[3..<6]) == Array(outputs.scalars[9..<12]))
}

/// softmax(QKᵀ/√d + mask)·V from primitive ops.
private func composedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?) -> Tensor {
  var scores = matmul(q, k, transposeB: true) / Float(q.shape.last!).squareRoot()
  if let mask {
    let (batch, keys) = (mask.shape[0], mask.shape[1])
    let broadcastMask = mask.reshaped(to: [batch, 1, 1, keys])
    scores = scores.masked(by: broadcastMask, fill: -1e9)
  }
  return matmul(scores.softmax(), v)
}

@Test func fusedAttentionEqualsTheComposedAttention() {
  let (q, k, v) = (random([2, 3, 5, 4], seed: 9), random([2, 3, 6, 4], seed: 10), random([2, 3, 6, 7], seed: 11))
  let mask = Tensor(shape: [2, 6], scalars: [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1])
  let weights = random([2, 3, 5, 7], seed: 12)
  for maskOrNil in [nil, mask] {
    let fused = scaledDotProductAttention(query: q, key: k, value: v, keyMask: maskOrNil)
    #expect(fused.isApproximatelyEqual(to: composedAttention(q, k, v, mask: maskOrNil), tolerance: 1e-5))
    let inputs = TensorList([q, k, v])
    let (_, fusedGradient) = valueWithGradient(at: inputs) { p, _ in (scaledDotProductAttention(query: p[0], key: p[1], value: p[2], keyMask: maskOrNil) * weights).sum() }
    let (_, composedGradient) = valueWithGradient(at: inputs) { p, _ in (composedAttention(p[0], p[1], p[2], mask: maskOrNil) * weights).sum() }
    for index in 0..<3 { #expect(fusedGradient[index].isApproximatelyEqual(to: composedGradient[index], tolerance: 1e-5)) }
  }
}

@Test func fusedAttentionIsTheSameOnAnyNumberOfThreads() {
  // 2 × 3 groups split into chunks of groups on up to 4 threads: values and gradients bit for bit.
  let inputs = TensorList([random([2, 3, 5, 4], seed: 21), random([2, 3, 6, 4], seed: 22), random([2, 3, 6, 7], seed: 23)])
  let mask = Tensor(shape: [2, 6], scalars: [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1])
  let weights = random([2, 3, 5, 7], seed: 24)
  let results = [1, 4].map { threads in
    ComputeThreads.withMaximum(threads) {
      return valueWithGradient(at: inputs) { p, _ in (scaledDotProductAttention(query: p[0], key: p[1], value: p[2], keyMask: mask) * weights).sum() }
    }
  }
  #expect(results[0].0.scalars == results[1].0.scalars)
  for index in 0..<3 { #expect(results[0].1[index].scalars == results[1].1[index].scalars) }
}

@Test func packedMultiHeadAttentionEqualsSlicingAndPermuting() {
  // [B 2, T 5, 3 × d 6] with 3 heads of 2: the same bits as the sliced, permuted, general op.
  let (batch, time, dimension, heads) = (2, 5, 6, 3)
  let qkv = random([batch, time, 3 * dimension], seed: 40)
  let mask = Tensor(shape: [batch, time], scalars: [1, 1, 1, 0, 0, 1, 1, 1, 1, 1])
  let weights = random([batch, time, dimension], seed: 41)
  func reference(_ packed: Tensor) -> Tensor {
    func head(_ part: Int) -> Tensor {
      packed.slice(alongAxis: 2, (part * dimension)..<((part + 1) * dimension)).reshaped(to: [batch, time, heads, dimension / heads]).permuted([0, 2, 1, 3])
    }
    let attended = scaledDotProductAttention(query: head(0), key: head(1), value: head(2), keyMask: mask)
    return attended.permuted([0, 2, 1, 3]).reshaped(to: [batch, time, dimension])
  }
  var results: [(Tensor, TensorList)] = []
  for threads in [1, 3] {
    ComputeThreads.withMaximum(threads) {
      let (value, gradient) = valueWithGradient(at: TensorList([qkv])) { p, _ in (multiHeadSelfAttention(packed: p[0], heads: heads, keyMask: mask) * weights).sum() }
      let (expected, expectedGradient) = valueWithGradient(at: TensorList([qkv])) { p, _ in (reference(p[0]) * weights).sum() }
      #expect(multiHeadSelfAttention(packed: qkv, heads: heads, keyMask: mask).scalars == reference(qkv).scalars)
      #expect(value.scalars == expected.scalars)
      #expect(gradient[0].scalars == expectedGradient[0].scalars)
      results.append((value, gradient))
    }
  }
  #expect(results[0].1[0].scalars == results[1].1[0].scalars)
}

@Test func fusedAttentionGradientMatchesFiniteDifferences() {
  let inputs = TensorList([random([2, 3, 4], seed: 13), random([2, 5, 4], seed: 14), random([2, 5, 3], seed: 15)])
  let mask = Tensor(shape: [2, 5], scalars: [1, 1, 1, 0, 0, 1, 1, 1, 1, 1])
  let weights = random([2, 3, 3], seed: 16)
  expectGradientMatchesFiniteDifferences(at: inputs) { p, _ in (scaledDotProductAttention(query: p[0], key: p[1], value: p[2], keyMask: mask) * weights).sum() }
}

@Test func fullyMaskedQueriesOutputZeros() {
  let out = scaledDotProductAttention(query: random([1, 2, 3], seed: 17), key: random([1, 2, 3], seed: 18), value: random([1, 2, 3], seed: 19),
                                      keyMask: Tensor(shape: [1, 2], scalars: [0, 0]))
  #expect(out.scalars.allSatisfy { $0 == 0 })
}

/// The GRU's GEMMs and gate arithmetic compute every element alike on both paths: the same bits, forward and backward.
/// Hidden 40 (two 16-lane blocks and an 8-lane tail on AVX-512, five 8-lane blocks on AVX2) and a batch of 13 (one
/// 12-row AVX-512 tile and a row left over).
@Test(.enabled(if: InstructionSet.supported == .avx512, "this CPU has no AVX-512"))
func fusedGRUGivesTheSameBitsOnAVX512AsOnAVX2() {
  let parameters = gruParameters(batch: 13, time: 6, input: 20, hidden: 40)
  var maskScalars = [Float](repeating: 1, count: 13 * 6)
  for step in 3..<6 { maskScalars[2 * 6 + step] = 0 }
  let mask = Tensor(shape: [13, 6], scalars: maskScalars)
  let outputWeights = random([13, 6, 40], seed: 9)
  func run(_ level: InstructionSet) -> (Tensor, TensorList) {
    InstructionSet.withMaximum(level) {
      valueWithGradient(at: parameters) { p, _ in (fusedGRU(p, mask: mask, reverse: false) * outputWeights).sum() }
    }
  }
  let (narrowValue, narrowGradient) = run(.avx2), (wideValue, wideGradient) = run(.avx512)
  #expect(firstDifference(wideValue.scalars, narrowValue.scalars) == nil)
  for index in 0..<6 { #expect(firstDifference(wideGradient[index].scalars, narrowGradient[index].scalars) == nil, "gradient \(index)") }
  let narrowOutput = InstructionSet.withMaximum(.avx2) { fusedGRU(parameters, mask: mask, reverse: true) }
  let wideOutput = InstructionSet.withMaximum(.avx512) { fusedGRU(parameters, mask: mask, reverse: true) }
  #expect(firstDifference(wideOutput.scalars, narrowOutput.scalars) == nil)
}
