import Randomness
import Tensors

/// What GRU and LSTM layers share: cells in PyTorch's order (`cells[layer · directions + direction]`), each layer's
/// directions concatenated, dropout between layers, and PyTorch's parameter names. A conforming type says how many
/// gates a cell has and runs one direction of one layer over a sequence.
public protocol RecurrentStack: Parameterized, Sendable {
  /// Gates per cell: 3 for a GRU (r, z, n), 4 for an LSTM (i, f, g, o).
  static var gateCount: Int { get }
  var cells: [GRU.Cell] { get set }
  var inputSize: Int { get }
  var hiddenSize: Int { get }
  var layerCount: Int { get }
  var bidirectional: Bool { get }
  /// Dropout on the outputs of every layer but the last (PyTorch's `dropout` argument).
  var interLayerDropout: Float { get }
  /// One direction of one layer: [batch, time, input] → [batch, time, hidden].
  static func sequence(_ input: Tensor, cell: GRU.Cell, mask: Tensor?, reverse: Bool) -> Tensor
  /// One direction of one layer in inference, its input projections looked up: step t of sequence b reads row
  /// `rows[b·T + t]` of `projections` ([rows, gates · hidden]). → [batch, time, hidden].
  static func sequence(projections: Tensor, rows: [Int], batch: Int, time: Int, cell: GRU.Cell, mask: Tensor?, reverse: Bool) -> Tensor
}

extension RecurrentStack {
  public var directions: Int { bidirectional ? 2 : 1 }
  public var outputSize: Int { hiddenSize * directions }

  /// `mask` [batch, time]: 1 for real steps, 0 for padding (the state is carried through padding).
  public func callAsFunction(_ x: Tensor, mask: Tensor?, context: inout ForwardContext) -> Tensor {
    precondition(x.rank == 3 && x.shape[2] == inputSize, "\(Self.self) wants [batch, time, \(inputSize)]; got \(x.shape)")
    let firstLayer = (0..<directions).map { direction in
      Self.sequence(x, cell: cells[direction], mask: mask, reverse: direction == 1)
    }
    return upperLayers(over: firstLayer, mask: mask, context: &context)
  }

  /// The first layer's input projections (W_ih·x + b_ih) of every row of `inputs` ([rows, input]), one [rows,
  /// gates · hidden] per direction: for an embedding matrix, every token's, which inference then looks up
  /// (`callAsFunction(projections:rows:…)`). A row is computed as the layer computes it at any step.
  public func firstLayerProjections(of inputs: Tensor) -> [Tensor] {
    precondition(inputs.rank == 2 && inputs.shape[1] == inputSize, "\(Self.self) projects [rows, \(inputSize)]; got \(inputs.shape)")
    return cells.prefix(directions).map { gruInputProjection(inputs, inputWeight: $0.inputWeight, inputBias: $0.inputBias) }
  }

  /// Inference over inputs whose first-layer projections are looked up: step t of sequence b reads row `rows[b·T + t]`
  /// of each direction's `projections` (`firstLayerProjections(of:)`). The same outputs, bit for bit, as
  /// `callAsFunction` over those inputs with an inference context.
  public func callAsFunction(projections: [Tensor], rows: [Int], batch: Int, time: Int, mask: Tensor?) -> Tensor {
    precondition(projections.count == directions, "\(Self.self) needs one projection table per direction (\(directions)); got \(projections.count)")
    let firstLayer = (0..<directions).map { direction in
      Self.sequence(projections: projections[direction], rows: rows, batch: batch, time: time, cell: cells[direction], mask: mask, reverse: direction == 1)
    }
    var inference = ForwardContext.inference
    return upperLayers(over: firstLayer, mask: mask, context: &inference)
  }

  /// Joins the first layer's directions and runs the layers above it.
  private func upperLayers(over firstLayer: [Tensor], mask: Tensor?, context: inout ForwardContext) -> Tensor {
    var input = firstLayer.count == 1 ? firstLayer[0] : Tensor.concatenating(firstLayer, alongAxis: 2)
    for layer in 1..<Swift.max(layerCount, 1) {
      input = context.dropout(input, rate: interLayerDropout)
      let outputs = (0..<directions).map { direction in
        Self.sequence(input, cell: cells[layer * directions + direction], mask: mask, reverse: direction == 1)
      }
      input = outputs.count == 1 ? outputs[0] : Tensor.concatenating(outputs, alongAxis: 2)
    }
    return input
  }

  public var parameterPaths: [(name: String, path: WritableKeyPath<Self, Tensor>)] {
    var paths: [(name: String, path: WritableKeyPath<Self, Tensor>)] = []
    for layer in 0..<layerCount {
      for direction in 0..<directions {
        let index = layer * directions + direction
        let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
        paths += [
          ("weight_ih" + suffix, \Self.cells[index].inputWeight), ("weight_hh" + suffix, \Self.cells[index].recurrentWeight),
          ("bias_ih" + suffix, \Self.cells[index].inputBias), ("bias_hh" + suffix, \Self.cells[index].recurrentBias),
        ]
      }
    }
    return paths
  }

  /// PyTorch's initialisation, U(±1/√hidden), in PyTorch's order of cells.
  static func makeCells<G: RandomNumberGenerator>(
    inputSize: Int, hiddenSize: Int, layers: Int, bidirectional: Bool, using generator: inout G
  ) -> [GRU.Cell] {
    precondition(layers >= 1, "\(Self.self) needs at least one layer")
    let bound = 1 / Float(hiddenSize).squareRoot(), gates = Self.gateCount * hiddenSize
    var cells: [GRU.Cell] = []
    for layer in 0..<layers {
      let layerInput = layer == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
      for _ in 0..<(bidirectional ? 2 : 1) {
        cells.append(GRU.Cell(
          inputWeight: .uniform([gates, layerInput], in: -bound...bound, using: &generator),
          recurrentWeight: .uniform([gates, hiddenSize], in: -bound...bound, using: &generator),
          inputBias: .uniform([gates], in: -bound...bound, using: &generator),
          recurrentBias: .uniform([gates], in: -bound...bound, using: &generator)))
      }
    }
    return cells
  }
}
