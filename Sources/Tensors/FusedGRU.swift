import CCPUFeatures
#if arch(x86_64)
import KernelsAVX512
#endif

/// A GRU over a whole sequence as one op with a hand-written pullback (backpropagation through time).
///
/// PyTorch's equations and layouts (gate order r, z, n; both biases):
///   r = σ(W_ir x + b_ir + W_hr h + b_hr)
///   z = σ(W_iz x + b_iz + W_hz h + b_hz)
///   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///   h' = (1 − z) ⊙ n + z ⊙ h
/// Shapes: input [B, T, I]; inputWeight [3H, I]; recurrentWeight [3H, H]; biases [3H]; initialState
/// [B, H] (zeros when nil); mask [B, T] with 1 for real steps and 0 for padding. Returns [B, T, H].
///
/// Padding: at a masked step the state is carried unchanged and is also the output, so with right
/// padding `output[:, T − 1]` is each sequence's final state. `reverse` runs time backwards (the
/// reverse direction of a bidirectional GRU), starting from the end of the padded sequence.
public func gruSequence(
  _ input: Tensor, inputWeight: Tensor, recurrentWeight: Tensor, inputBias: Tensor, recurrentBias: Tensor,
  initialState: Tensor? = nil, mask: Tensor? = nil, reverse: Bool = false
) -> Tensor {
  precondition(input.rank == 3, "GRU wants [batch, time, features]; got \(input.shape)")
  let (batch, time, inputSize) = (input.shape[0], input.shape[1], input.shape[2])
  let hidden = recurrentWeight.shape[1]
  let gates = 3 * hidden
  precondition(inputWeight.shape == [gates, inputSize], "GRU inputWeight must be [\(gates), \(inputSize)]; got \(inputWeight.shape)")
  precondition(recurrentWeight.shape == [gates, hidden], "GRU recurrentWeight must be [\(gates), \(hidden)]; got \(recurrentWeight.shape)")
  precondition(inputBias.shape == [gates] && recurrentBias.shape == [gates], "GRU biases must be [\(gates)]")
  if let initialState { precondition(initialState.shape == [batch, hidden], "GRU initial state must be [\(batch), \(hidden)]; got \(initialState.shape)") }
  if let mask { precondition(mask.shape == [batch, time], "GRU mask must be [\(batch), \(time)]; got \(mask.shape)") }
  for tensor in [input, inputWeight, recurrentWeight, inputBias, recurrentBias] { tensor.requireDense("GRU") }

  // Input projections for every step at once: [B·T, 3H].
  let inputProjection = gruInputProjection(input.reshapedValue([batch * time, inputSize]), inputWeight: inputWeight, inputBias: inputBias).scalars
  var tracked = [input, inputWeight, recurrentWeight, inputBias, recurrentBias]
  if let initialState { tracked.append(initialState) }
  let recording = tracked.contains(where: \.isTracked)
  let run = GRURecurrence(
    inputProjection: inputProjection, batch: batch, time: time, recurrentWeight: recurrentWeight, recurrentBias: recurrentBias,
    initialState: initialState, mask: mask, reverse: reverse, saving: recording)
  let (outputs, active) = (run.outputs, run.active)
  let (resetGates, updateGates, candidates, recurrentCandidates, previousStates) = (run.resetGates, run.updateGates, run.candidates, run.recurrentCandidates, run.previousStates)

  let result = Tensor(shape: [batch, time, hidden], scalars: outputs)
  guard recording else { return result }
  let (inputValue, inputWeightValue, recurrentWeightValue) = (input.detached, inputWeight.detached, recurrentWeight.detached)
  let needsInitial = initialState?.isTracked ?? false
  return result.recorded(from: tracked) { gradient in
    var stateGradient = [Float](repeating: 0, count: batch * hidden)
    var inputProjectionGradient = [Float](repeating: 0, count: batch * time * gates)  // rows b·T + t
    var recurrentGradients = [Float](repeating: 0, count: time * batch * gates)  // rows s·B + b
    // W_hh packed once for the T products dHp·W_hh.
    let packedWeight = recurrentWeightValue.scalars.withUnsafeBufferPointer {
      GEMM.PackedMatrix($0.baseAddress!, rows: gates, columns: hidden, ldb: hidden, transposed: false)
    }
    var carried = [Float](repeating: 0, count: batch * hidden)
    let wide = InstructionSet.current == .avx512
    gradient.scalars.withUnsafeBufferPointer { gBuffer in
      resetGates.withUnsafeBufferPointer { rBuffer in
        updateGates.withUnsafeBufferPointer { zBuffer in
          candidates.withUnsafeBufferPointer { nBuffer in
            recurrentCandidates.withUnsafeBufferPointer { hnBuffer in
              previousStates.withUnsafeBufferPointer { previousBuffer in
                inputProjectionGradient.withUnsafeMutableBufferPointer { dxBuffer in
                  recurrentGradients.withUnsafeMutableBufferPointer { dhBuffer in
                    for step in stride(from: time - 1, through: 0, by: -1) {
                      let t = reverse ? time - 1 - step : step
                      let saved = step * batch * hidden
                      stateGradient.withUnsafeMutableBufferPointer { dhNext in
                        carried.withUnsafeMutableBufferPointer { carriedBuffer in
                          for b in 0..<batch {
                            let row = b * hidden
                            let dh = dhNext.baseAddress! + row, carry = carriedBuffer.baseAddress! + row
                            let g = gBuffer.baseAddress! + (b * time + t) * hidden
                            for j in 0..<hidden { dh[j] += g[j] }
                            guard active[b * time + t] else {
                              carry.update(from: dh, count: hidden)
                              continue
                            }
                            gruCellBackward(
                              wide: wide, hidden: hidden, dh: dh, r: rBuffer.baseAddress! + saved + row, z: zBuffer.baseAddress! + saved + row,
                              n: nBuffer.baseAddress! + saved + row, hn: hnBuffer.baseAddress! + saved + row,
                              previous: previousBuffer.baseAddress! + saved + row,
                              dInput: dxBuffer.baseAddress! + (b * time + t) * gates,
                              dRecurrent: dhBuffer.baseAddress! + (step * batch + b) * gates, carried: carry)
                          }
                          // dh_prev = dh·z + dHp · W_hh   ([B, 3H] · [3H, H]); masked rows have zero dHp.
                          GEMM.multiply(m: batch, a: dhBuffer.baseAddress! + step * batch * gates, lda: gates, transposeA: false,
                                        packed: packedWeight, c: carriedBuffer.baseAddress!, ldc: hidden, accumulate: true)
                        }
                      }
                      swap(&stateGradient, &carried)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    var result = recurrentParameterGradients(
      inputProjection: inputProjectionGradient, recurrent: recurrentGradients, input: inputValue, inputWeight: inputWeightValue,
      previousStates: previousStates, hidden: hidden)
    if needsInitial { result.append(Tensor(shape: [batch, hidden], scalars: stateGradient)) } else if initialState != nil { result.append(nil) }
    return result
  }
}

/// x·W_ihᵀ + b_ih for rows x ([N, I] → [N, 3H]): a GRU's input projections, as `gruSequence` computes them.
public func gruInputProjection(_ input: Tensor, inputWeight: Tensor, inputBias: Tensor) -> Tensor {
  var projection = matmulValue(input, inputWeight, transposeA: false, transposeB: true).scalars
  addRowBias(&projection, inputBias.scalars, rows: input.shape[0])
  return Tensor(shape: [input.shape[0], inputBias.shape[0]], scalars: projection)
}

/// Inference only (no tape): a GRU whose input projections W_ih·x + b_ih (`gruInputProjection`) are looked up rather
/// than computed. Step t of sequence b reads row `rows[b·T + t]` of `projections` ([rows, 3H]), e.g. a table of every
/// vocabulary token's projection indexed by the token ids. `initialState` [B, H] (zeros when nil). The same outputs,
/// bit for bit, as `gruSequence` over inputs whose projections are those rows (each row of a product is computed
/// alike, whatever the other rows). Returns [B, T, H].
public func gruSequence(
  projections: Tensor, rows: [Int], batch: Int, time: Int, recurrentWeight: Tensor, recurrentBias: Tensor, initialState: Tensor? = nil,
  mask: Tensor? = nil, reverse: Bool = false
) -> Tensor {
  let hidden = recurrentWeight.shape[1]
  precondition(projections.rank == 2 && projections.shape[1] == 3 * hidden, "GRU projections must be [rows, \(3 * hidden)]; got \(projections.shape)")
  precondition(recurrentWeight.shape == [3 * hidden, hidden] && recurrentBias.shape == [3 * hidden], "GRU recurrent weight and bias must be [\(3 * hidden), \(hidden)] and [\(3 * hidden)]")
  precondition(rows.count == batch * time, "GRU needs one projection row per step: \(batch * time); got \(rows.count)")
  precondition(rows.allSatisfy { (0..<projections.shape[0]).contains($0) }, "a GRU projection row lies outside the \(projections.shape[0]) rows")
  if let initialState { precondition(initialState.shape == [batch, hidden], "GRU initial state must be [\(batch), \(hidden)]; got \(initialState.shape)") }
  if let mask { precondition(mask.shape == [batch, time], "GRU mask must be [\(batch), \(time)]; got \(mask.shape)") }
  for tensor in [projections, recurrentWeight, recurrentBias] { tensor.requireDense("GRU") }
  precondition(!([projections, recurrentWeight, recurrentBias].contains(where: \.isTracked)), "the looked-up GRU is for inference; it records no pullback")
  let run = GRURecurrence(
    inputProjection: projections.scalars, projectionRows: rows, batch: batch, time: time, recurrentWeight: recurrentWeight,
    recurrentBias: recurrentBias, initialState: initialState, mask: mask, reverse: reverse, saving: false)
  return Tensor(shape: [batch, time, hidden], scalars: run.outputs)
}

/// The forward steps of a GRU over projected inputs ([B·T, 3H], rows b·T + t, or the rows `projectionRows` names):
/// outputs [B, T, H], and, when `saving`, per step s (in processing order) what the pullback reads, each [T][B][H]
/// (else one step's scratch).
struct GRURecurrence {
  var outputs: [Float]
  var resetGates: [Float], updateGates: [Float], candidates: [Float], recurrentCandidates: [Float], previousStates: [Float]
  /// Active[b·T + t]: whether step t of row b is real.
  var active: [Bool]

  init(
    inputProjection: [Float], projectionRows: [Int]? = nil, batch: Int, time: Int, recurrentWeight: Tensor, recurrentBias: Tensor,
    initialState: Tensor?, mask: Tensor?, reverse: Bool, saving: Bool
  ) {
    let hidden = recurrentWeight.shape[1], gates = 3 * hidden
    // Saved per step s (in processing order) for the pullback, each [T][B][H]; without a tape (inference) one step's
    // worth, overwritten.
    let savedCount = (saving ? time : 1) * batch * hidden
    var resetGates = [Float](repeating: 0, count: savedCount)
    var updateGates = resetGates, candidates = resetGates, recurrentCandidates = resetGates, previousStates = resetGates
    var outputs = [Float](repeating: 0, count: batch * time * hidden)
    var state = initialState?.scalars ?? [Float](repeating: 0, count: batch * hidden)
    var recurrent = [Float](repeating: 0, count: batch * gates)
    // Active[b·T + t]: whether step t of row b is real.
    let active = mask?.scalars.map { $0 != 0 } ?? [Bool](repeating: true, count: batch * time)
    // W_hhᵀ packed once for the T products h·W_hhᵀ.
    let packedRecurrent = recurrentWeight.scalars.withUnsafeBufferPointer {
      GEMM.PackedMatrix($0.baseAddress!, rows: hidden, columns: gates, ldb: hidden, transposed: true)
    }

    let wide = InstructionSet.current == .avx512
    inputProjection.withUnsafeBufferPointer { xBuffer in
      recurrentBias.scalars.withUnsafeBufferPointer { biasBuffer in
        state.withUnsafeMutableBufferPointer { stateBuffer in
          recurrent.withUnsafeMutableBufferPointer { recurrentBuffer in
            outputs.withUnsafeMutableBufferPointer { outputBuffer in
              resetGates.withUnsafeMutableBufferPointer { rBuffer in
                updateGates.withUnsafeMutableBufferPointer { zBuffer in
                  candidates.withUnsafeMutableBufferPointer { nBuffer in
                    recurrentCandidates.withUnsafeMutableBufferPointer { hnBuffer in
                      previousStates.withUnsafeMutableBufferPointer { previousBuffer in
                        let readAddresses = [xBuffer.baseAddress, biasBuffer.baseAddress].map { Int(bitPattern: $0) }
                        let writeAddresses = [
                          stateBuffer.baseAddress, recurrentBuffer.baseAddress, outputBuffer.baseAddress, rBuffer.baseAddress, zBuffer.baseAddress,
                          nBuffer.baseAddress, hnBuffer.baseAddress, previousBuffer.baseAddress,
                        ].map { Int(bitPattern: $0) }
                        // Sequences are independent: each chunk of rows runs all its steps on its own thread.
                        forEachChunk(of: batch, parts: recurrenceChunks(batch: batch, time: time, gates: gates, hidden: hidden)) { _, rows in
                          let x = UnsafePointer<Float>(bitPattern: readAddresses[0])!, bias = UnsafePointer<Float>(bitPattern: readAddresses[1])!
                          let pointers = writeAddresses.map { UnsafeMutablePointer<Float>(bitPattern: $0)! }
                          let (h, projection, out) = (pointers[0], pointers[1], pointers[2])
                          let (r, z, n, savedHn, previous) = (pointers[3], pointers[4], pointers[5], pointers[6], pointers[7])
                          for step in 0..<time {
                            let t = reverse ? time - 1 - step : step
                            if let projectionRows, step + 1 < time {
                              prefetchRows(projectionRows, rows, step: reverse ? t - 1 : t + 1, time: time, of: x, width: gates)
                            }
                            let saved = saving ? step * batch * hidden : 0
                            let first = rows.lowerBound * hidden
                            if saving { (previous + saved + first).update(from: h + first, count: rows.count * hidden) }
                            // Recurrent projections: [rows, 3H] = h · W_hhᵀ + b_hh.
                            GEMM.multiply(
                              m: rows.count, a: h + first, lda: hidden, transposeA: false, packed: packedRecurrent,
                              c: projection + rows.lowerBound * gates, ldc: gates, accumulate: false)
                            for b in rows {
                              let xp = x + (projectionRows?[b * time + t] ?? b * time + t) * gates, hp = projection + b * gates, row = b * hidden
                              for j in 0..<gates { hp[j] += bias[j] }
                              gruCell(wide: wide, hidden: hidden, xr: xp, xz: xp + hidden, xn: xp + 2 * hidden,
                                      hr: hp, hz: hp + hidden, hn: hp + 2 * hidden, state: h + row,
                                      r: r + saved + row, z: z + saved + row, n: n + saved + row, savedHn: savedHn + saved + row,
                                      active: active[b * time + t])
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
    self.active = active
    (self.resetGates, self.updateGates, self.candidates, self.recurrentCandidates, self.previousStates) = (resetGates, updateGates, candidates, recurrentCandidates, previousStates)
  }
}

/// One GRU step for one row with the kernel of the instruction set in use (`GRUCellKernel`; `wide`: AVX-512).
@inline(__always)
private func gruCell(
  wide: Bool, hidden: Int, xr: UnsafePointer<Float>, xz: UnsafePointer<Float>, xn: UnsafePointer<Float>,
  hr: UnsafePointer<Float>, hz: UnsafePointer<Float>, hn: UnsafePointer<Float>,
  state: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
  n: UnsafeMutablePointer<Float>, savedHn: UnsafeMutablePointer<Float>, active: Bool
) {
  #if arch(x86_64)
  if wide {
    KernelsAVX512.GRUCellKernel.forward(
      hidden: hidden, xr: xr, xz: xz, xn: xn, hr: hr, hz: hz, hn: hn, state: state, r: r, z: z, n: n, savedHn: savedHn, active: active)
    return
  }
  #endif
  GRUCellKernel.forward(hidden: hidden, xr: xr, xz: xz, xn: xn, hr: hr, hz: hz, hn: hn, state: state, r: r, z: z, n: n, savedHn: savedHn, active: active)
}

/// The pullback of one GRU step for one row with the kernel of the instruction set in use.
@inline(__always)
private func gruCellBackward(
  wide: Bool, hidden: Int, dh: UnsafePointer<Float>, r: UnsafePointer<Float>, z: UnsafePointer<Float>, n: UnsafePointer<Float>,
  hn: UnsafePointer<Float>, previous: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>, dRecurrent: UnsafeMutablePointer<Float>, carried: UnsafeMutablePointer<Float>
) {
  #if arch(x86_64)
  if wide {
    KernelsAVX512.GRUCellKernel.backward(
      hidden: hidden, dh: dh, r: r, z: z, n: n, hn: hn, previous: previous, dInput: dInput, dRecurrent: dRecurrent, carried: carried)
    return
  }
  #endif
  GRUCellKernel.backward(hidden: hidden, dh: dh, r: r, z: z, n: n, hn: hn, previous: previous, dInput: dInput, dRecurrent: dRecurrent, carried: carried)
}

/// A recurrent layer's gradients for its input, weights and biases, over all steps at once, from the gradients of the
/// gates' pre-activations: `inputProjection` [B·T, gates] (rows b·T + t), `recurrent` [T·B, gates] (rows s·B + b, in
/// processing order) and the states each step started from, `previousStates` [T·B, hidden] (same rows). Returns
/// [dInput, dInputWeight, dRecurrentWeight, dInputBias, dRecurrentBias].
func recurrentParameterGradients(
  inputProjection: [Float], recurrent: [Float], input: Tensor, inputWeight: Tensor, previousStates: [Float], hidden: Int
) -> [Tensor?] {
  let (batch, time, inputSize) = (input.shape[0], input.shape[1], input.shape[2])
  let gates = inputWeight.shape[0]
  let dInputProjection = Tensor(shape: [batch * time, gates], scalars: inputProjection)
  let dRecurrent = Tensor(shape: [time * batch, gates], scalars: recurrent)
  let flatInput = input.reshapedValue([batch * time, inputSize])
  let dInputWeight = matmulValue(dInputProjection, flatInput, transposeA: true, transposeB: false)
  let dRecurrentWeight = matmulValue(dRecurrent, Tensor(shape: [time * batch, hidden], scalars: previousStates), transposeA: true, transposeB: false)
  let dInput = matmulValue(dInputProjection, inputWeight, transposeA: false, transposeB: false).reshapedValue([batch, time, inputSize])
  return [dInput, dInputWeight, dRecurrentWeight, dInputProjection.sumAxis(0, keepingDimension: false), dRecurrent.sumAxis(0, keepingDimension: false)]
}

/// Prefetches what step t of the sequences `batchRows` reads from a looked-up projection table (row `rows[b·T + t]` of
/// `table`, `width` floats): issued a step ahead, the rows arrive while the step before runs its recurrent product,
/// instead of stalling the gates on scattered reads from a table far larger than the caches.
@inline(__always)
func prefetchRows(_ rows: [Int], _ batchRows: Range<Int>, step t: Int, time: Int, of table: UnsafePointer<Float>, width: Int) {
  let floatsPerLine = 16  // a 64-byte cache line
  for b in batchRows {
    let row = table + rows[b * time + t] * width
    for offset in stride(from: 0, to: width, by: floatsPerLine) { backdoorlab_prefetch(row + offset) }
  }
}

/// How many chunks of sequences a recurrence's forward steps split into: one per compute thread when each gets at least
/// 8 sequences and the whole run at least ~4 M multiply-adds of recurrent products, else 1.
func recurrenceChunks(batch: Int, time: Int, gates: Int, hidden: Int) -> Int {
  let minimumRows = 8
  guard ComputeThreads.maximum > 1, batch >= 2 * minimumRows, batch * time * gates * hidden >= 1 << 22 else { return 1 }
  return Swift.min(ComputeThreads.maximum, batch / minimumRows)
}

/// Adds a bias to every row of a [rows, bias.count] matrix.
func addRowBias(_ matrix: inout [Float], _ bias: [Float], rows: Int) {
  let width = bias.count
  matrix.withUnsafeMutableBufferPointer { m in
    bias.withUnsafeBufferPointer { b in
      for row in 0..<rows {
        let base = m.baseAddress! + row * width
        for j in 0..<width { base[j] += b[j] }
      }
    }
  }
}
