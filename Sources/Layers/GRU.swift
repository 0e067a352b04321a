import Randomness
import Tensors

/// Gated recurrent unit (Cho et al. 2014), 1 or more layers, optionally bidirectional.
/// [batch, time, input] → [batch, time, hidden · directions], as PyTorch's `nn.GRU(batch_first=True)`:
/// same equations, gate order (r, z, n), parameter names and layouts, and init U(±1/√hidden).
public struct GRU: RecurrentStack {
  /// One direction of one layer (also an LSTM's).
  public struct Cell: Sendable {
    public var inputWeight: Tensor  // [gates * hidden, input]; a GRU's gates r | z | n, an LSTM's i | f | g | o
    public var recurrentWeight: Tensor  // [gates * hidden, hidden]
    public var inputBias: Tensor  // [gates * hidden]
    public var recurrentBias: Tensor  // [gates * hidden]
  }

  public static var gateCount: Int { 3 }
  /// cells[layer * directions + direction]
  public var cells: [Cell]
  public let inputSize: Int
  public let hiddenSize: Int
  public let layerCount: Int
  public let bidirectional: Bool
  public var interLayerDropout: Float = 0

  public init<G: RandomNumberGenerator>(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false, using generator: inout G) {
    (self.inputSize, self.hiddenSize, layerCount, self.bidirectional) = (inputSize, hiddenSize, layers, bidirectional)
    cells = Self.makeCells(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bidirectional: bidirectional, using: &generator)
  }

  public static func sequence(_ input: Tensor, cell: Cell, mask: Tensor?, reverse: Bool) -> Tensor {
    gruSequence(input, inputWeight: cell.inputWeight, recurrentWeight: cell.recurrentWeight, inputBias: cell.inputBias,
                recurrentBias: cell.recurrentBias, mask: mask, reverse: reverse)
  }

  public static func sequence(
    projections: Tensor, rows: [Int], batch: Int, time: Int, cell: Cell, mask: Tensor?, reverse: Bool
  ) -> Tensor {
    gruSequence(projections: projections, rows: rows, batch: batch, time: time, recurrentWeight: cell.recurrentWeight,
                recurrentBias: cell.recurrentBias, mask: mask, reverse: reverse)
  }
}
