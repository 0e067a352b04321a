// Compiled in Tensors and, through a symbolic link, in KernelsAVX512: it may use only the standard library and
// what each of the two modules declares alike (`KernelVector`, `FastMath`).

/// The GRU's per-row gate arithmetic (PyTorch's equations, FusedGRU.swift), vectorised over the hidden units with
/// `FastMath.Vector`: 8 lanes in `Tensors`, 16 in `KernelsAVX512`. Every unit is computed alike in either, so the two
/// give the same bits.
package enum GRUCellKernel {
  /// One GRU step for one row, vectorised over the hidden units. `state` is updated in place.
  package static func forward(
    hidden: Int, xr: UnsafePointer<Float>, xz: UnsafePointer<Float>, xn: UnsafePointer<Float>,
    hr: UnsafePointer<Float>, hz: UnsafePointer<Float>, hn: UnsafePointer<Float>,
    state: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
    n: UnsafeMutablePointer<Float>, savedHn: UnsafeMutablePointer<Float>, active: Bool
  ) {
    typealias V = FastMath.Vector
    func load(_ p: UnsafePointer<Float>, _ j: Int) -> V { UnsafeRawPointer(p + j).loadUnaligned(as: V.self) }
    func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ j: Int) { UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: V.self) }
    var j = 0
    while j + V.scalarCount <= hidden {
      let reset = FastMath.sigmoid(load(xr, j) + load(hr, j))
      let update = FastMath.sigmoid(load(xz, j) + load(hz, j))
      let recurrentCandidate = load(hn, j)
      let candidate = FastMath.tanh(load(xn, j) + reset * recurrentCandidate)
      let previous = load(state, j)
      store(reset, r, j)
      store(update, z, j)
      store(candidate, n, j)
      store(recurrentCandidate, savedHn, j)
      if active { store((1 - update) * candidate + update * previous, state, j) }
      j += V.scalarCount
    }
    while j < hidden {
      let reset = FastMath.scalarSigmoid(xr[j] + hr[j])
      let update = FastMath.scalarSigmoid(xz[j] + hz[j])
      let candidate = FastMath.scalarTanh(xn[j] + reset * hn[j])
      r[j] = reset
      z[j] = update
      n[j] = candidate
      savedHn[j] = hn[j]
      if active { state[j] = (1 - update) * candidate + update * state[j] }
      j += 1
    }
  }

  /// The pullback of one GRU step for one row, vectorised over the hidden units: writes the gate
  /// gradients for the input and recurrent projections and dh·z into `carried`.
  package static func backward(
    hidden: Int, dh: UnsafePointer<Float>, r: UnsafePointer<Float>, z: UnsafePointer<Float>, n: UnsafePointer<Float>,
    hn: UnsafePointer<Float>, previous: UnsafePointer<Float>,
    dInput: UnsafeMutablePointer<Float>, dRecurrent: UnsafeMutablePointer<Float>, carried: UnsafeMutablePointer<Float>
  ) {
    typealias V = FastMath.Vector
    func load(_ p: UnsafePointer<Float>, _ j: Int) -> V { UnsafeRawPointer(p + j).loadUnaligned(as: V.self) }
    func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ j: Int) { UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: V.self) }
    var j = 0
    while j + V.scalarCount <= hidden {
      let (reset, update, candidate, gradient) = (load(r, j), load(z, j), load(n, j), load(dh, j))
      let dAn = gradient * (1 - update) * (1 - candidate * candidate)
      let dAz = gradient * (load(previous, j) - candidate) * update * (1 - update)
      let dAr = dAn * load(hn, j) * reset * (1 - reset)
      store(dAr, dInput, j)
      store(dAz, dInput + hidden, j)
      store(dAn, dInput + 2 * hidden, j)
      store(dAr, dRecurrent, j)
      store(dAz, dRecurrent + hidden, j)
      store(dAn * reset, dRecurrent + 2 * hidden, j)
      store(gradient * update, carried, j)
      j += V.scalarCount
    }
    while j < hidden {
      let dAn = dh[j] * (1 - z[j]) * (1 - n[j] * n[j])
      let dAz = dh[j] * (previous[j] - n[j]) * z[j] * (1 - z[j])
      let dAr = dAn * hn[j] * r[j] * (1 - r[j])
      dInput[j] = dAr
      dInput[hidden + j] = dAz
      dInput[2 * hidden + j] = dAn
      dRecurrent[j] = dAr
      dRecurrent[hidden + j] = dAz
      dRecurrent[2 * hidden + j] = dAn * r[j]
      carried[j] = dh[j] * z[j]
      j += 1
    }
  }
}
