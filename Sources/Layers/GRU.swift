import Randomness
import Tensors

/// Gated recurrent unit (Cho et al. 2014), 1 or more layers, optionally bidirectional.
/// [batch, time, input] → [batch, time, hidden · directions], as PyTorch's `nn.GRU(batch_first=True)`:
/// same equations, gate order (r, z, n), parameter names and layouts, and init U(±1/√hidden).
public struct GRU: Parameterized, Sendable {
  /// One direction of one layer.
  public struct Cell: Sendable {
    public var inputWeight: Tensor  // [3 * hidden, input], gates r | z | n
    public var recurrentWeight: Tensor  // [3 * hidden, hidden]
    public var inputBias: Tensor  // [3 * hidden]
    public var recurrentBias: Tensor  // [3 * hidden]
  }

  /// cells[layer * directions + direction]
  public var cells: [Cell]
  public let inputSize: Int
  public let hiddenSize: Int
  public let layerCount: Int
  public let bidirectional: Bool
  /// Dropout on the outputs of every layer but the last (PyTorch's `dropout` argument).
  public var interLayerDropout: Float = 0

  public var directions: Int { bidirectional ? 2 : 1 }
  public var outputSize: Int { hiddenSize * directions }

  public init<G: RandomNumberGenerator>(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false, using generator: inout G) {
    precondition(layers >= 1, "a GRU needs at least one layer")
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.layerCount = layers
    self.bidirectional = bidirectional
    let bound = 1 / Float(hiddenSize).squareRoot()
    var cells: [Cell] = []
    for layer in 0..<layers {
      let layerInput = layer == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
      for _ in 0..<(bidirectional ? 2 : 1) {
        cells.append(Cell(
          inputWeight: .uniform([3 * hiddenSize, layerInput], in: -bound...bound, using: &generator),
          recurrentWeight: .uniform([3 * hiddenSize, hiddenSize], in: -bound...bound, using: &generator),
          inputBias: .uniform([3 * hiddenSize], in: -bound...bound, using: &generator),
          recurrentBias: .uniform([3 * hiddenSize], in: -bound...bound, using: &generator)))
      }
    }
    self.cells = cells
  }

  /// `mask` [batch, time]: 1 for real steps, 0 for padding (the state is carried through padding).
  public func callAsFunction(_ x: Tensor, mask: Tensor?, context: inout ForwardContext) -> Tensor {
    precondition(x.rank == 3 && x.shape[2] == inputSize, "GRU wants [batch, time, \(inputSize)]; got \(x.shape)")
    var input = x
    for layer in 0..<layerCount {
      var outputs: [Tensor] = []
      for direction in 0..<directions {
        let cell = cells[layer * directions + direction]
        outputs.append(gruSequence(input, inputWeight: cell.inputWeight, recurrentWeight: cell.recurrentWeight,
                                   inputBias: cell.inputBias, recurrentBias: cell.recurrentBias, mask: mask, reverse: direction == 1))
      }
      input = outputs.count == 1 ? outputs[0] : Tensor.concatenating(outputs, alongAxis: 2)
      if layer < layerCount - 1 { input = context.dropout(input, rate: interLayerDropout) }
    }
    return input
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<GRU, Tensor>)] {
    var paths: [(name: String, path: WritableKeyPath<GRU, Tensor>)] = []
    for layer in 0..<layerCount {
      for direction in 0..<directions {
        let index = layer * directions + direction
        let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
        paths += [
          ("weight_ih" + suffix, \GRU.cells[index].inputWeight), ("weight_hh" + suffix, \GRU.cells[index].recurrentWeight),
          ("bias_ih" + suffix, \GRU.cells[index].inputBias), ("bias_hh" + suffix, \GRU.cells[index].recurrentBias),
        ]
      }
    }
    return paths
  }
}
