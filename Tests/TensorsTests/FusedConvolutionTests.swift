import Randomness
import Tensors
import Testing
import TestSupport

private func random(_ shape: [Int], seed: UInt64) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape, in: -0.8...0.8, using: &generator)
}

/// The filter bank from primitive ops, one text at a time: each window's scalars · the weight, bias, ReLU, max.
private func composedConvolution(_ p: TensorList, lengths: [Int], minimumLength: Int) -> Tensor {
  let (input, weight, bias) = (p[0], p[1], p[2])
  let (features, filters, width) = (input.shape[2], weight.shape[0], weight.shape[2])
  // [F, E, k] → [k · E, F]: a window's scalars are position-major.
  let windowWeight = weight.permuted([0, 2, 1]).reshaped(to: [filters, width * features]).transposed()
  let rows = lengths.enumerated().map { b, length in
    let text = input.slice(alongAxis: 0, b..<(b + 1)).reshaped(to: [input.shape[1], features])
    let windows = (0..<(max(length, minimumLength) - width + 1)).map { t in
      text.slice(alongAxis: 0, t..<(t + width)).reshaped(to: [1, width * features])
    }
    let responses = matmul(Tensor.concatenating(windows, alongAxis: 0), windowWeight) + bias  // [windows, F]
    return responses.relu().max(alongAxis: 0).reshaped(to: [1, filters])
  }
  return Tensor.concatenating(rows, alongAxis: 0)
}

private func fusedConvolution(_ p: TensorList, lengths: [Int], minimumLength: Int) -> Tensor {
  convolutionMaxPool(p[0], weight: p[1], bias: p[2], lengths: lengths, minimumLength: minimumLength)
}

/// 6 filters take the one-filter path of the max over windows, 19 the eight-filter one and then it for the last 3.
@Test(arguments: [(1, 6), (3, 6), (4, 6), (3, 19)])
func convolutionMaxPoolEqualsTheComposedFilterBank(width: Int, filters: Int) {
  // Row 2 is shorter than the widest filter (4): its windows read the padding positions after it.
  let parameters = TensorList([random([3, 7, 5], seed: 31), random([filters, 5, width], seed: 32), random([filters], seed: 33)])
  let lengths = [7, 5, 2]
  let outputWeights = random([3, filters], seed: 34)
  let fused = fusedConvolution(parameters, lengths: lengths, minimumLength: 4)
  let composed = composedConvolution(parameters, lengths: lengths, minimumLength: 4)
  #expect(fused.isApproximatelyEqual(to: composed, tolerance: 1e-5))
  let (_, fusedGradient) = valueWithGradient(at: parameters) { p, _ in (fusedConvolution(p, lengths: lengths, minimumLength: 4) * outputWeights).sum() }
  let (_, composedGradient) = valueWithGradient(at: parameters) { p, _ in (composedConvolution(p, lengths: lengths, minimumLength: 4) * outputWeights).sum() }
  for index in 0..<3 {
    #expect(fusedGradient[index].isApproximatelyEqual(to: composedGradient[index], tolerance: 1e-5), "gradient \(index)")
  }
  // The maximum is not differentiable where two windows tie; with one-position windows two of them come within the
  // finite-difference step here, so that case is checked against the composed ops only.
  if width > 1 {
    expectGradientMatchesFiniteDifferences(at: parameters) { p, _ in (fusedConvolution(p, lengths: lengths, minimumLength: 4) * outputWeights).sum() }
  }
}

@Test func aFilterNoWindowActivatesGivesZeroAndNoGradient() {
  let input = random([1, 4, 2], seed: 35)
  let weight = Tensor(shape: [1, 2, 2], scalars: [0, 0, 0, 0]), bias = Tensor(shape: [1], scalars: [-1])
  #expect(convolutionMaxPool(input, weight: weight, bias: bias, lengths: [4], minimumLength: 2).scalars == [0])
  let (_, gradient) = valueWithGradient(at: TensorList([input, weight, bias])) { p, _ in
    convolutionMaxPool(p[0], weight: p[1], bias: p[2], lengths: [4], minimumLength: 2).sum()
  }
  #expect(gradient[1].densified().scalars.allSatisfy { $0 == 0 } && gradient[2].densified().scalars == [0])
}

@Test func theFirstOfEqualMaximaTakesTheGradientInEveryFilter() {
  // One feature, width 1, every filter's weight 1: each filter's response is the input, whose maximum 3 comes twice.
  let input = Tensor(shape: [1, 4, 1], scalars: [1, 3, 3, 2])
  let weight = Tensor(shape: [9, 1, 1], scalars: Array(repeating: 1, count: 9)), bias = Tensor(shape: [9], scalars: Array(repeating: 0, count: 9))
  #expect(convolutionMaxPool(input, weight: weight, bias: bias, lengths: [4], minimumLength: 1).scalars == Array(repeating: 3, count: 9))
  let (_, gradient) = valueWithGradient(at: TensorList([input, weight, bias])) { p, _ in
    convolutionMaxPool(p[0], weight: p[1], bias: p[2], lengths: [4], minimumLength: 1).sum()
  }
  #expect(gradient[0].densified().scalars == [0, 9, 0, 0], "all nine filters pick window 1, not window 2")
}
