import Randomness
import Tensors

/// Long short-term memory (Hochreiter & Schmidhuber 1997), 1 or more layers, optionally bidirectional.
/// [batch, time, input] → [batch, time, hidden · directions], as PyTorch's `nn.LSTM(batch_first=True)`: same
/// equations, gate order (i, f, g, o), parameter names and layouts, and init U(±1/√hidden).
public struct LSTM: RecurrentStack {
  public static var gateCount: Int { 4 }
  /// cells[layer * directions + direction]
  public var cells: [GRU.Cell]
  public let inputSize: Int
  public let hiddenSize: Int
  public let layerCount: Int
  public let bidirectional: Bool
  public var interLayerDropout: Float = 0

  public init<G: RandomNumberGenerator>(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false, using generator: inout G) {
    (self.inputSize, self.hiddenSize, layerCount, self.bidirectional) = (inputSize, hiddenSize, layers, bidirectional)
    cells = Self.makeCells(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bidirectional: bidirectional, using: &generator)
  }

  public static func sequence(_ input: Tensor, cell: GRU.Cell, mask: Tensor?, reverse: Bool) -> Tensor {
    lstmSequence(input, inputWeight: cell.inputWeight, recurrentWeight: cell.recurrentWeight, inputBias: cell.inputBias,
                 recurrentBias: cell.recurrentBias, mask: mask, reverse: reverse)
  }

  public static func sequence(
    projections: Tensor, rows: [Int], batch: Int, time: Int, cell: GRU.Cell, mask: Tensor?, reverse: Bool
  ) -> Tensor {
    lstmSequence(projections: projections, rows: rows, batch: batch, time: time, recurrentWeight: cell.recurrentWeight,
                 recurrentBias: cell.recurrentBias, mask: mask, reverse: reverse)
  }
}
