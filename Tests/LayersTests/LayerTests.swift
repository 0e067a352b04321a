import Layers
import Randomness
import Tensors
import Testing
import TestSupport

@Test func layersUsePyTorchNamesAndLayouts() {
  var generator = SplitMix64(seed: 1)
  let gru = GRU(inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, using: &generator)
  #expect(gru.parameterPaths.map(\.name).prefix(8) == [
    "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
  ])
  #expect(gru[keyPath: gru.parameterPaths[0].path].shape == [12, 3])
  #expect(gru[keyPath: gru.parameterPaths[8].path].shape == [12, 8])  // layer 1 reads both directions
  let attention = TransformerEncoderLayer(dimension: 8, heads: 2, feedForwardSize: 16, dropout: 0.1, using: &generator)
  #expect(attention.parameterPaths.map(\.name) == [
    "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
    "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
  ])
  let linear = Linear(inputSize: 5, outputSize: 2, using: &generator)
  #expect(linear.weight.shape == [2, 5])
  #expect(linear.weight.scalars.allSatisfy { abs($0) <= 1 / Float(5).squareRoot() })
}

@Test func embeddingPaddingRowIsZeroAndFrozen() {
  var generator = SplitMix64(seed: 2)
  let embedding = Embedding(count: 5, dimension: 3, paddingIndex: 0, using: &generator)
  #expect(Array(embedding.weight.scalars[0..<3]) == [0, 0, 0])
  let (_, gradient) = valueWithGradient(at: embedding) { e, _ in e([0, 2, 0, 2], shape: [2, 2]).sum() }
  #expect(gradient.weight.sparseRows == [2, 2])
}

@Test func linearMatchesDefinitionAndFiniteDifferences() {
  var generator = SplitMix64(seed: 3)
  let linear = Linear(inputSize: 3, outputSize: 2, using: &generator)
  let x = Tensor([[1, 2, 3], [-1, 0, 0.5]])
  let y = linear(x)
  for row in 0..<2 {
    for out in 0..<2 {
      let expected = (0..<3).reduce(linear.bias.scalars[out]) { $0 + x.scalars[row * 3 + $1] * linear.weight.scalars[out * 3 + $1] }
      #expect(abs(y.scalars[row * 2 + out] - expected) < 1e-5)
    }
  }
  expectGradientMatchesFiniteDifferences(at: linear) { l, _ in (l(x) * Tensor([[1, -2], [0.5, 3]])).sum() }
}

@Test func transformerLayerGradientMatchesFiniteDifferences() {
  var generator = SplitMix64(seed: 4)
  let layer = TransformerEncoderLayer(dimension: 4, heads: 2, feedForwardSize: 6, dropout: 0, using: &generator)
  let x = Tensor.uniform([2, 3, 4], in: -1...1, using: &generator)
  let mask = Tensor(shape: [2, 3], scalars: [1, 1, 0, 1, 1, 1])
  let weights = Tensor.uniform([2, 3, 4], in: -1...1, using: &generator)
  expectGradientMatchesFiniteDifferences(at: layer) { l, _ in
    var context = ForwardContext.inference
    return (l(x, keyMask: mask, context: &context) * weights).sum()
  }
}

@Test(arguments: Pooling.allCases)
func poolingIgnoresPaddedPositions(pooling: Pooling) {
  // Row 0 has two real steps; its padded step holds a huge value that must not leak into mean or max.
  let h = Tensor(shape: [2, 3, 2], scalars: [1, 2, 3, 4, 3, 4, 5, 6, 7, 8, 9, 10])
  let mask = Tensor(shape: [2, 3], scalars: [1, 1, 0, 1, 1, 1])
  var padded = h
  padded.scalars[4] = 1000
  padded.scalars[5] = -1000
  let pooled = pooling(pooling == .last ? h : padded, mask: mask)
  switch pooling {
  case .mean: #expect(pooled.scalars == [2, 3, 7, 8])
  case .max: #expect(pooled.scalars == [3, 4, 9, 10])
  case .last: #expect(pooled.scalars == [3, 4, 9, 10])  // the GRU carries its state, so t = T − 1 is the last real state
  }
}

@Test func dropoutOnlyInTraining() {
  var training = ForwardContext(training: true, generator: SplitMix64(seed: 5))
  var inference = ForwardContext.inference
  let x = Tensor.ones([100])
  #expect(inference.dropout(x, rate: 0.5) == x)
  #expect(training.dropout(x, rate: 0.5) != x)
}

/// Without the tape the mean is one fused pass; recorded, it is the product with the mask, the sum and the division:
/// the same bits either way, and the same gradient through the recorded ops.
@Test func meanPoolingGivesTheSameBitsWithAndWithoutTheTape() {
  var generator = SplitMix64(seed: 7)
  let h = Tensor.uniform([3, 5, 20], in: -1...1, using: &generator)
  let mask = Tensor(shape: [3, 5], scalars: [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0])
  let untracked = Pooling.mean(h, mask: mask)
  var recorded: [Float] = []
  _ = valueWithGradient(at: TensorList([h])) { parameters, _ in
    let pooled = Pooling.mean(parameters[0], mask: mask)
    recorded = pooled.scalars
    return pooled.sum()
  }
  #expect(untracked.shape == [3, 20])
  #expect(untracked.scalars == recorded)
  #expect(untracked.scalars[40] == h.scalars[2 * 5 * 20], "a text of one position pools to its one state")
}
