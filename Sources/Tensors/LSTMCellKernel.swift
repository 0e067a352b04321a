// Compiled in Tensors and, through a symbolic link, in KernelsAVX512: it may use only the standard library and
// what each of the two modules declares alike (`KernelVector`, `FastMath`).

/// The LSTM's per-row gate arithmetic (PyTorch's equations, FusedLSTM.swift), vectorised over the hidden units with
/// `FastMath.Vector`: 8 lanes in `Tensors`, 16 in `KernelsAVX512`. Every unit is computed alike in either, so the two
/// give the same bits.
package enum LSTMCellKernel {
  /// One LSTM step for one row, vectorised over the hidden units: the four gates' values into `gates` (i | f | g | o),
  /// tanh(c') into `cellTanh`; `state` and `cell` updated in place when the step is real.
  package static func forward(
    hidden: Int, x: UnsafePointer<Float>, recurrent: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    state: UnsafeMutablePointer<Float>, cell: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>,
    cellTanh: UnsafeMutablePointer<Float>, active: Bool
  ) {
    typealias V = FastMath.Vector
    func load(_ p: UnsafePointer<Float>, _ j: Int) -> V { UnsafeRawPointer(p + j).loadUnaligned(as: V.self) }
    func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ j: Int) { UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: V.self) }
    var j = 0
    while j + V.scalarCount <= hidden {
      // Written out rather than as a local function: the 16-lane build does not inline one that returns a vector.
      let (inputAt, forgetAt, candidateAt, outputAt) = (j, hidden + j, 2 * hidden + j, 3 * hidden + j)
      let input = FastMath.sigmoid(load(x, inputAt) + load(recurrent, inputAt) + load(bias, inputAt))
      let forget = FastMath.sigmoid(load(x, forgetAt) + load(recurrent, forgetAt) + load(bias, forgetAt))
      let candidate = FastMath.tanh(load(x, candidateAt) + load(recurrent, candidateAt) + load(bias, candidateAt))
      let output = FastMath.sigmoid(load(x, outputAt) + load(recurrent, outputAt) + load(bias, outputAt))
      let newCell = forget * load(cell, j) + input * candidate
      let squashed = FastMath.tanh(newCell)
      store(input, gates, j)
      store(forget, gates + hidden, j)
      store(candidate, gates + 2 * hidden, j)
      store(output, gates + 3 * hidden, j)
      store(squashed, cellTanh, j)
      if active {
        store(newCell, cell, j)
        store(output * squashed, state, j)
      }
      j += V.scalarCount
    }
    while j < hidden {
      func pre(_ gate: Int) -> Float { x[gate * hidden + j] + recurrent[gate * hidden + j] + bias[gate * hidden + j] }
      let input = FastMath.scalarSigmoid(pre(0)), forget = FastMath.scalarSigmoid(pre(1))
      let candidate = FastMath.scalarTanh(pre(2)), output = FastMath.scalarSigmoid(pre(3))
      let newCell = forget * cell[j] + input * candidate
      let squashed = FastMath.scalarTanh(newCell)
      gates[j] = input
      gates[hidden + j] = forget
      gates[2 * hidden + j] = candidate
      gates[3 * hidden + j] = output
      cellTanh[j] = squashed
      if active {
        cell[j] = newCell
        state[j] = output * squashed
      }
      j += 1
    }
  }

  /// The pullback of one real LSTM step for one row: from dh (all of dL/dh_t) and dc (dL/dc_t from later steps), the
  /// pre-activation gradients of the four gates into `dGates` (the same for the input and recurrent projections) and
  /// dL/dc_{t−1} into `dc`, in place.
  package static func backward(
    hidden: Int, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>, gates: UnsafePointer<Float>, cellTanh: UnsafePointer<Float>,
    previousCell: UnsafePointer<Float>, dGates: UnsafeMutablePointer<Float>
  ) {
    typealias V = FastMath.Vector
    func load(_ p: UnsafePointer<Float>, _ j: Int) -> V { UnsafeRawPointer(p + j).loadUnaligned(as: V.self) }
    func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ j: Int) { UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: V.self) }
    var j = 0
    while j + V.scalarCount <= hidden {
      let (input, forget, candidate, output) = (load(gates, j), load(gates, hidden + j), load(gates, 2 * hidden + j), load(gates, 3 * hidden + j))
      let squashed = load(cellTanh, j), gradient = load(dh, j)
      let dCell = load(dc, j) + gradient * output * (1 - squashed * squashed)
      store(dCell * candidate * input * (1 - input), dGates, j)
      store(dCell * load(previousCell, j) * forget * (1 - forget), dGates + hidden, j)
      store(dCell * input * (1 - candidate * candidate), dGates + 2 * hidden, j)
      store(gradient * squashed * output * (1 - output), dGates + 3 * hidden, j)
      store(dCell * forget, dc, j)
      j += V.scalarCount
    }
    while j < hidden {
      let (input, forget, candidate, output) = (gates[j], gates[hidden + j], gates[2 * hidden + j], gates[3 * hidden + j])
      let squashed = cellTanh[j]
      let dCell = dc[j] + dh[j] * output * (1 - squashed * squashed)
      dGates[j] = dCell * candidate * input * (1 - input)
      dGates[hidden + j] = dCell * previousCell[j] * forget * (1 - forget)
      dGates[2 * hidden + j] = dCell * input * (1 - candidate * candidate)
      dGates[3 * hidden + j] = dh[j] * squashed * output * (1 - output)
      dc[j] = dCell * forget
      j += 1
    }
  }
}
