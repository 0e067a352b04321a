#if arch(x86_64)
import KernelsAVX512
#endif

/// An LSTM over a whole sequence as one op with a hand-written pullback (backpropagation through time).
///
/// PyTorch's equations and layouts (gate order i, f, g, o; both biases):
///   i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
///   g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
///   c' = f ⊙ c + i ⊙ g                        h' = o ⊙ tanh(c')
/// Shapes: input [B, T, I]; inputWeight [4H, I]; recurrentWeight [4H, H]; biases [4H]; mask [B, T] with 1 for real
/// steps and 0 for padding. Returns [B, T, H]; states start at zero.
///
/// Padding: at a masked step h and c are carried unchanged and h is also the output, so with right padding
/// `output[:, T − 1]` is each sequence's final state. `reverse` runs time backwards (the reverse direction of a
/// bidirectional LSTM), starting from the end of the padded sequence.
public func lstmSequence(
  _ input: Tensor, inputWeight: Tensor, recurrentWeight: Tensor, inputBias: Tensor, recurrentBias: Tensor,
  mask: Tensor? = nil, reverse: Bool = false
) -> Tensor {
  precondition(input.rank == 3, "LSTM wants [batch, time, features]; got \(input.shape)")
  let (batch, time, inputSize) = (input.shape[0], input.shape[1], input.shape[2])
  let hidden = recurrentWeight.shape[1]
  let gates = 4 * hidden
  precondition(inputWeight.shape == [gates, inputSize], "LSTM inputWeight must be [\(gates), \(inputSize)]; got \(inputWeight.shape)")
  precondition(recurrentWeight.shape == [gates, hidden], "LSTM recurrentWeight must be [\(gates), \(hidden)]; got \(recurrentWeight.shape)")
  precondition(inputBias.shape == [gates] && recurrentBias.shape == [gates], "LSTM biases must be [\(gates)]")
  if let mask { precondition(mask.shape == [batch, time], "LSTM mask must be [\(batch), \(time)]; got \(mask.shape)") }
  for tensor in [input, inputWeight, recurrentWeight, inputBias, recurrentBias] { tensor.requireDense("LSTM") }

  // Input projections for every step at once: [B·T, 4H] (the same product as a GRU's, with four gates).
  let inputProjection = gruInputProjection(input.reshapedValue([batch * time, inputSize]), inputWeight: inputWeight, inputBias: inputBias).scalars
  let tracked = [input, inputWeight, recurrentWeight, inputBias, recurrentBias]
  let recording = tracked.contains(where: \.isTracked)
  let run = LSTMRecurrence(
    inputProjection: inputProjection, batch: batch, time: time, recurrentWeight: recurrentWeight, recurrentBias: recurrentBias,
    mask: mask, reverse: reverse, saving: recording)
  let result = Tensor(shape: [batch, time, hidden], scalars: run.outputs)
  guard recording else { return result }
  let (inputValue, inputWeightValue, recurrentWeightValue) = (input.detached, inputWeight.detached, recurrentWeight.detached)
  let (gateValues, cellTanh, previousCells, previousStates, active) = (run.gateValues, run.cellTanh, run.previousCells, run.previousStates, run.active)
  return result.recorded(from: tracked) { gradient in
    var stateGradient = [Float](repeating: 0, count: batch * hidden)  // dL/dh flowing into the step being undone
    var cellGradient = [Float](repeating: 0, count: batch * hidden)  // dL/dc likewise
    var nextStateGradient = [Float](repeating: 0, count: batch * hidden)
    var gateGradients = [Float](repeating: 0, count: time * batch * gates)  // rows s·B + b
    var inputProjectionGradient = [Float](repeating: 0, count: batch * time * gates)  // rows b·T + t
    // W_hh packed once for the T products dA·W_hh.
    let packedWeight = recurrentWeightValue.scalars.withUnsafeBufferPointer {
      GEMM.PackedMatrix($0.baseAddress!, rows: gates, columns: hidden, ldb: hidden, transposed: false)
    }
    let wide = InstructionSet.current == .avx512
    gradient.scalars.withUnsafeBufferPointer { gBuffer in
      gateValues.withUnsafeBufferPointer { gateBuffer in
        cellTanh.withUnsafeBufferPointer { tanhBuffer in
          previousCells.withUnsafeBufferPointer { cellBuffer in
            gateGradients.withUnsafeMutableBufferPointer { dAllBuffer in
              inputProjectionGradient.withUnsafeMutableBufferPointer { dxBuffer in
                cellGradient.withUnsafeMutableBufferPointer { dcBuffer in
                  for step in stride(from: time - 1, through: 0, by: -1) {
                    let t = reverse ? time - 1 - step : step
                    stateGradient.withUnsafeMutableBufferPointer { dhBuffer in
                      nextStateGradient.withUnsafeMutableBufferPointer { carriedBuffer in
                        for b in 0..<batch {
                          let row = b * hidden, saved = (step * batch + b) * hidden
                          let dh = dhBuffer.baseAddress! + row, carry = carriedBuffer.baseAddress! + row
                          let g = gBuffer.baseAddress! + (b * time + t) * hidden
                          for j in 0..<hidden { dh[j] += g[j] }
                          let dA = dAllBuffer.baseAddress! + (step * batch + b) * gates
                          guard active[b * time + t] else {
                            carry.update(from: dh, count: hidden)  // h and c were carried; so are their gradients
                            dA.update(repeating: 0, count: gates)
                            continue
                          }
                          lstmCellBackward(
                            wide: wide, hidden: hidden, dh: dh, dc: dcBuffer.baseAddress! + row,
                            gates: gateBuffer.baseAddress! + (step * batch + b) * gates, cellTanh: tanhBuffer.baseAddress! + saved,
                            previousCell: cellBuffer.baseAddress! + saved, dGates: dA)
                          (dxBuffer.baseAddress! + (b * time + t) * gates).update(from: dA, count: gates)
                          carry.update(repeating: 0, count: hidden)
                        }
                        // dh_prev = dA · W_hh ([B, 4H] · [4H, H]); masked rows have zero dA and their carried dh.
                        GEMM.multiply(m: batch, a: dAllBuffer.baseAddress! + step * batch * gates, lda: gates, transposeA: false,
                                      packed: packedWeight, c: carriedBuffer.baseAddress!, ldc: hidden, accumulate: true)
                      }
                    }
                    swap(&stateGradient, &nextStateGradient)
                  }
                }
              }
            }
          }
        }
      }
    }
    return recurrentParameterGradients(
      inputProjection: inputProjectionGradient, recurrent: gateGradients, input: inputValue, inputWeight: inputWeightValue,
      previousStates: previousStates, hidden: hidden)
  }
}

/// Inference only (no tape): an LSTM whose input projections W_ih·x + b_ih are looked up rather than computed. Step t
/// of sequence b reads row `rows[b·T + t]` of `projections` ([rows, 4H]), e.g. a table of every vocabulary token's
/// projection indexed by the token ids. The same outputs, bit for bit, as `lstmSequence` over inputs whose
/// projections are those rows.
public func lstmSequence(
  projections: Tensor, rows: [Int], batch: Int, time: Int, recurrentWeight: Tensor, recurrentBias: Tensor, mask: Tensor? = nil,
  reverse: Bool = false
) -> Tensor {
  lstmSequenceWithFinalCells(
    projections: projections, rows: rows, batch: batch, time: time, recurrentWeight: recurrentWeight, recurrentBias: recurrentBias,
    mask: mask, reverse: reverse
  ).outputs
}

/// Inference only (no tape): an LSTM that may start from given states and also returns where its cells end, so that a
/// sequence can be run in parts (the audit runs many continuations of the same text from the state after it).
/// Step t of sequence b reads row `rows[b·T + t]` of `projections` ([rows, 4H]; `rows` nil: row b·T + t, the layout
/// `gruInputProjection` gives for [B, T, I] inputs). `initialState` and `initialCell` [B, H] (zeros when nil).
/// Returns the outputs [B, T, H] and each sequence's cell after its last real step [B, H] (padding carries it; for
/// `reverse`, after step 0). Running a sequence in two parts, the second from the first's last output and final cells,
/// gives the same bits as running it whole.
public func lstmSequenceWithFinalCells(
  projections: Tensor, rows: [Int]? = nil, batch: Int, time: Int, recurrentWeight: Tensor, recurrentBias: Tensor,
  initialState: Tensor? = nil, initialCell: Tensor? = nil, mask: Tensor? = nil, reverse: Bool = false
) -> (outputs: Tensor, finalCells: Tensor) {
  let hidden = recurrentWeight.shape[1]
  precondition(projections.rank == 2 && projections.shape[1] == 4 * hidden, "LSTM projections must be [rows, \(4 * hidden)]; got \(projections.shape)")
  if let rows {
    precondition(rows.count == batch * time, "LSTM needs one projection row per step: \(batch * time); got \(rows.count)")
    precondition(rows.allSatisfy { (0..<projections.shape[0]).contains($0) }, "an LSTM projection row lies outside the \(projections.shape[0]) rows")
  } else {
    precondition(projections.shape[0] == batch * time, "LSTM projections must have one row per step: \(batch * time); got \(projections.shape[0])")
  }
  precondition(recurrentWeight.shape == [4 * hidden, hidden] && recurrentBias.shape == [4 * hidden], "LSTM recurrent weight and bias must be [\(4 * hidden), \(hidden)] and [\(4 * hidden)]")
  for (name, initial) in [("state", initialState), ("cell", initialCell)] {
    if let initial { precondition(initial.shape == [batch, hidden], "LSTM initial \(name) must be [\(batch), \(hidden)]; got \(initial.shape)") }
  }
  if let mask { precondition(mask.shape == [batch, time], "LSTM mask must be [\(batch), \(time)]; got \(mask.shape)") }
  let inputs = [projections, recurrentWeight, recurrentBias] + [initialState, initialCell].compactMap { $0 }
  for tensor in inputs { tensor.requireDense("LSTM") }
  precondition(!inputs.contains(where: \.isTracked), "this LSTM is for inference; it records no pullback")
  let run = LSTMRecurrence(
    inputProjection: projections.scalars, projectionRows: rows, batch: batch, time: time, recurrentWeight: recurrentWeight,
    recurrentBias: recurrentBias, initialState: initialState?.scalars, initialCell: initialCell?.scalars, mask: mask, reverse: reverse,
    saving: false)
  return (Tensor(shape: [batch, time, hidden], scalars: run.outputs), Tensor(shape: [batch, hidden], scalars: run.finalCells))
}

/// The forward steps of an LSTM over projected inputs ([B·T, 4H], rows b·T + t, or the rows `projectionRows` names):
/// outputs [B, T, H], and, when `saving`, per step s (in processing order) what the pullback reads: the gates' values
/// [T][B][4H], tanh(c'), the previous cell and state [T][B][H] (else one step's scratch); the cells after the last
/// step, [B, H].
struct LSTMRecurrence {
  var outputs: [Float]
  var finalCells: [Float]
  var gateValues: [Float], cellTanh: [Float], previousCells: [Float], previousStates: [Float]
  /// Active[b·T + t]: whether step t of row b is real.
  var active: [Bool]

  init(
    inputProjection: [Float], projectionRows: [Int]? = nil, batch: Int, time: Int, recurrentWeight: Tensor, recurrentBias: Tensor,
    initialState: [Float]? = nil, initialCell: [Float]? = nil, mask: Tensor?, reverse: Bool, saving: Bool
  ) {
    let hidden = recurrentWeight.shape[1], gates = 4 * hidden
    let savedSteps = saving ? time : 1
    var gateValues = [Float](repeating: 0, count: savedSteps * batch * gates)
    var cellTanh = [Float](repeating: 0, count: savedSteps * batch * hidden)
    var previousCells = cellTanh, previousStates = cellTanh
    var outputs = [Float](repeating: 0, count: batch * time * hidden)
    var state = initialState ?? [Float](repeating: 0, count: batch * hidden)
    var cell = initialCell ?? [Float](repeating: 0, count: batch * hidden)
    var recurrent = [Float](repeating: 0, count: batch * gates)
    let active = mask?.scalars.map { $0 != 0 } ?? [Bool](repeating: true, count: batch * time)
    let packedRecurrent = recurrentWeight.scalars.withUnsafeBufferPointer {
      GEMM.PackedMatrix($0.baseAddress!, rows: hidden, columns: gates, ldb: hidden, transposed: true)
    }
    let wide = InstructionSet.current == .avx512
    inputProjection.withUnsafeBufferPointer { xBuffer in
      recurrentBias.scalars.withUnsafeBufferPointer { biasBuffer in
        state.withUnsafeMutableBufferPointer { stateBuffer in
          cell.withUnsafeMutableBufferPointer { cellBuffer in
            recurrent.withUnsafeMutableBufferPointer { recurrentBuffer in
              outputs.withUnsafeMutableBufferPointer { outputBuffer in
                gateValues.withUnsafeMutableBufferPointer { gateBuffer in
                  cellTanh.withUnsafeMutableBufferPointer { tanhBuffer in
                    previousCells.withUnsafeMutableBufferPointer { previousCellBuffer in
                      previousStates.withUnsafeMutableBufferPointer { previousStateBuffer in
                        let readAddresses = [xBuffer.baseAddress, biasBuffer.baseAddress].map { Int(bitPattern: $0) }
                        let writeAddresses = [
                          stateBuffer.baseAddress, cellBuffer.baseAddress, recurrentBuffer.baseAddress, outputBuffer.baseAddress, gateBuffer.baseAddress,
                          tanhBuffer.baseAddress, previousCellBuffer.baseAddress, previousStateBuffer.baseAddress,
                        ].map { Int(bitPattern: $0) }
                        // Sequences are independent: each chunk of rows runs all its steps on its own thread.
                        forEachChunk(of: batch, parts: recurrenceChunks(batch: batch, time: time, gates: gates, hidden: hidden)) { _, rows in
                          let x = UnsafePointer<Float>(bitPattern: readAddresses[0])!, bias = UnsafePointer<Float>(bitPattern: readAddresses[1])!
                          let pointers = writeAddresses.map { UnsafeMutablePointer<Float>(bitPattern: $0)! }
                          let (h, c, projection, out) = (pointers[0], pointers[1], pointers[2], pointers[3])
                          let (gateValues, cellTanh, previousCells, previousStates) = (pointers[4], pointers[5], pointers[6], pointers[7])
                          for step in 0..<time {
                            let t = reverse ? time - 1 - step : step
                            if let projectionRows, step + 1 < time {
                              prefetchRows(projectionRows, rows, step: reverse ? t - 1 : t + 1, time: time, of: x, width: gates)
                            }
                            let saved = saving ? step * batch : 0
                            let first = rows.lowerBound * hidden
                            if saving {
                              (previousStates + saved * hidden + first).update(from: h + first, count: rows.count * hidden)
                              (previousCells + saved * hidden + first).update(from: c + first, count: rows.count * hidden)
                            }
                            // Recurrent projections: [rows, 4H] = h · W_hhᵀ.
                            GEMM.multiply(
                              m: rows.count, a: h + first, lda: hidden, transposeA: false, packed: packedRecurrent,
                              c: projection + rows.lowerBound * gates, ldc: gates, accumulate: false)
                            for b in rows {
                              let row = b * hidden
                              lstmCell(
                                wide: wide, hidden: hidden, x: x + (projectionRows?[b * time + t] ?? b * time + t) * gates, recurrent: projection + b * gates,
                                bias: bias, state: h + row, cell: c + row, gates: gateValues + (saved + b) * gates,
                                cellTanh: cellTanh + (saved + b) * hidden, active: active[b * time + t])
                              (out + (b * time + t) * hidden).update(from: h + row, count: hidden)
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    self.outputs = outputs
    finalCells = cell
    self.active = active
    (self.gateValues, self.cellTanh, self.previousCells, self.previousStates) = (gateValues, cellTanh, previousCells, previousStates)
  }
}

/// One LSTM step for one row with the kernel of the instruction set in use (`LSTMCellKernel`; `wide`: AVX-512).
@inline(__always)
private func lstmCell(
  wide: Bool, hidden: Int, x: UnsafePointer<Float>, recurrent: UnsafePointer<Float>, bias: UnsafePointer<Float>,
  state: UnsafeMutablePointer<Float>, cell: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>,
  cellTanh: UnsafeMutablePointer<Float>, active: Bool
) {
  #if arch(x86_64)
  if wide {
    KernelsAVX512.LSTMCellKernel.forward(
      hidden: hidden, x: x, recurrent: recurrent, bias: bias, state: state, cell: cell, gates: gates, cellTanh: cellTanh, active: active)
    return
  }
  #endif
  LSTMCellKernel.forward(hidden: hidden, x: x, recurrent: recurrent, bias: bias, state: state, cell: cell, gates: gates, cellTanh: cellTanh, active: active)
}

/// The pullback of one real LSTM step for one row with the kernel of the instruction set in use.
@inline(__always)
private func lstmCellBackward(
  wide: Bool, hidden: Int, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>, gates: UnsafePointer<Float>, cellTanh: UnsafePointer<Float>,
  previousCell: UnsafePointer<Float>, dGates: UnsafeMutablePointer<Float>
) {
  #if arch(x86_64)
  if wide {
    KernelsAVX512.LSTMCellKernel.backward(
      hidden: hidden, dh: dh, dc: dc, gates: gates, cellTanh: cellTanh, previousCell: previousCell, dGates: dGates)
    return
  }
  #endif
  LSTMCellKernel.backward(hidden: hidden, dh: dh, dc: dc, gates: gates, cellTanh: cellTanh, previousCell: previousCell, dGates: dGates)
}
