// Compiled for x86-64-v4 (Package.swift): every function here may use AVX-512 instructions, so it must only be called
// after `InstructionSet` has found AVX-512 on the CPU. Nothing here is @inlinable: inlined into another module, the
// body would be compiled again for that module's (narrower) target.
#if arch(x86_64)

/// The GEMM register tile for AVX-512: 12 rows × 32 columns of C in 24 `SIMD16<Float>` (zmm) accumulators, over the
/// same packed panels as the 6×16 AVX2 tile (two 6-row A panels, two 16-column B panels), so the two tiles share
/// `GEMM`'s packing. Each element of C is the same chain of fused multiply-adds over depth 0, 1, 2, … as in the
/// narrower tile, so both give the same bits.
public enum AVX512GEMMTile {
  public static let rows = 12, columns = 32

  /// C[0..<rows, 0..<32] = (C +) Σ_d A[r, d]·B[d, j] for `rows` in 7...12. Row r of A is at
  /// `a + r·rowStride + d·depthStride` for r < 6 and `a + rowGroupStride + (r − 6)·rowStride + d·depthStride` for the
  /// others; B's first 16 columns are the panel at `b` (`depth` × 16, row after row) and the next 16 the panel at
  /// `b + panelStride`. With fewer than 12 rows, the missing ones re-read row 6 (always there) and are not stored;
  /// 7 or 8 rows go to `multiplyEightRows`.
  @inline(never)
  public static func multiply(
    rows: Int = AVX512GEMMTile.rows, depth: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int, rowGroupStride: Int,
    b: UnsafePointer<Float>, panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
  ) {
    precondition(rows > 6 && rows <= AVX512GEMMTile.rows, "the AVX-512 tile takes 7 to 12 rows; got \(rows)")
    if rows <= 8 {
      multiplyEightRows(
        rows: rows, depth: depth, a: a, rowStride: rowStride, depthStride: depthStride, rowGroupStride: rowGroupStride,
        b: b, panelStride: panelStride, c: c, ldc: ldc, accumulate: accumulate)
      return
    }
    typealias V = SIMD16<Float>
    var c0a = V(), c0b = V(), c1a = V(), c1b = V(), c2a = V(), c2b = V()
    var c3a = V(), c3b = V(), c4a = V(), c4b = V(), c5a = V(), c5b = V()
    var c6a = V(), c6b = V(), c7a = V(), c7b = V(), c8a = V(), c8b = V()
    var c9a = V(), c9b = V(), c10a = V(), c10b = V(), c11a = V(), c11b = V()
    let o1 = rowStride, o2 = 2 * rowStride, o3 = 3 * rowStride, o4 = 4 * rowStride, o5 = 5 * rowStride
    let p1 = rows > 7 ? o1 : 0, p2 = rows > 8 ? o2 : 0, p3 = rows > 9 ? o3 : 0, p4 = rows > 10 ? o4 : 0, p5 = rows > 11 ? o5 : 0
    var a0 = a, a1 = a + rowGroupStride
    var b0p = UnsafeRawPointer(b), b1p = UnsafeRawPointer(b + panelStride)
    for _ in 0..<depth {
      let b0 = b0p.load(as: V.self), b1 = b1p.load(as: V.self)
      let x0 = V(repeating: a0[0]), x1 = V(repeating: a0[o1]), x2 = V(repeating: a0[o2])
      c0a.addProduct(x0, b0); c0b.addProduct(x0, b1)
      c1a.addProduct(x1, b0); c1b.addProduct(x1, b1)
      c2a.addProduct(x2, b0); c2b.addProduct(x2, b1)
      let x3 = V(repeating: a0[o3]), x4 = V(repeating: a0[o4]), x5 = V(repeating: a0[o5])
      c3a.addProduct(x3, b0); c3b.addProduct(x3, b1)
      c4a.addProduct(x4, b0); c4b.addProduct(x4, b1)
      c5a.addProduct(x5, b0); c5b.addProduct(x5, b1)
      let x6 = V(repeating: a1[0]), x7 = V(repeating: a1[p1]), x8 = V(repeating: a1[p2])
      c6a.addProduct(x6, b0); c6b.addProduct(x6, b1)
      c7a.addProduct(x7, b0); c7b.addProduct(x7, b1)
      c8a.addProduct(x8, b0); c8b.addProduct(x8, b1)
      let x9 = V(repeating: a1[p3]), x10 = V(repeating: a1[p4]), x11 = V(repeating: a1[p5])
      c9a.addProduct(x9, b0); c9b.addProduct(x9, b1)
      c10a.addProduct(x10, b0); c10b.addProduct(x10, b1)
      c11a.addProduct(x11, b0); c11b.addProduct(x11, b1)
      a0 += depthStride
      a1 += depthStride
      b0p += 64
      b1p += 64
    }
    store(c0a, c0b, to: c, accumulate: accumulate)
    store(c1a, c1b, to: c + ldc, accumulate: accumulate)
    store(c2a, c2b, to: c + 2 * ldc, accumulate: accumulate)
    store(c3a, c3b, to: c + 3 * ldc, accumulate: accumulate)
    store(c4a, c4b, to: c + 4 * ldc, accumulate: accumulate)
    store(c5a, c5b, to: c + 5 * ldc, accumulate: accumulate)
    store(c6a, c6b, to: c + 6 * ldc, accumulate: accumulate)
    if rows > 7 { store(c7a, c7b, to: c + 7 * ldc, accumulate: accumulate) }
    if rows > 8 { store(c8a, c8b, to: c + 8 * ldc, accumulate: accumulate) }
    if rows > 9 { store(c9a, c9b, to: c + 9 * ldc, accumulate: accumulate) }
    if rows > 10 { store(c10a, c10b, to: c + 10 * ldc, accumulate: accumulate) }
    if rows > 11 { store(c11a, c11b, to: c + 11 * ldc, accumulate: accumulate) }
  }

  /// `multiply` for 7 or 8 rows in 16 accumulators: two thirds of the 12-row tile's work, where that tile would
  /// compute 4 or 5 rows it does not store (32 rows are 12 + 12 + 8). The same operands as `multiply`.
  @inline(never)
  static func multiplyEightRows(
    rows: Int, depth: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int, rowGroupStride: Int,
    b: UnsafePointer<Float>, panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
  ) {
    precondition(rows > 6 && rows <= 8, "the 8-row AVX-512 tile takes 7 or 8 rows; got \(rows)")
    typealias V = SIMD16<Float>
    var c0a = V(), c0b = V(), c1a = V(), c1b = V(), c2a = V(), c2b = V()
    var c3a = V(), c3b = V(), c4a = V(), c4b = V(), c5a = V(), c5b = V()
    var c6a = V(), c6b = V(), c7a = V(), c7b = V()
    let o1 = rowStride, o2 = 2 * rowStride, o3 = 3 * rowStride, o4 = 4 * rowStride, o5 = 5 * rowStride
    let p1 = rows > 7 ? o1 : 0
    var a0 = a, a1 = a + rowGroupStride
    var b0p = UnsafeRawPointer(b), b1p = UnsafeRawPointer(b + panelStride)
    for _ in 0..<depth {
      let b0 = b0p.load(as: V.self), b1 = b1p.load(as: V.self)
      let x0 = V(repeating: a0[0]), x1 = V(repeating: a0[o1]), x2 = V(repeating: a0[o2])
      c0a.addProduct(x0, b0); c0b.addProduct(x0, b1)
      c1a.addProduct(x1, b0); c1b.addProduct(x1, b1)
      c2a.addProduct(x2, b0); c2b.addProduct(x2, b1)
      let x3 = V(repeating: a0[o3]), x4 = V(repeating: a0[o4]), x5 = V(repeating: a0[o5])
      c3a.addProduct(x3, b0); c3b.addProduct(x3, b1)
      c4a.addProduct(x4, b0); c4b.addProduct(x4, b1)
      c5a.addProduct(x5, b0); c5b.addProduct(x5, b1)
      let x6 = V(repeating: a1[0]), x7 = V(repeating: a1[p1])
      c6a.addProduct(x6, b0); c6b.addProduct(x6, b1)
      c7a.addProduct(x7, b0); c7b.addProduct(x7, b1)
      a0 += depthStride
      a1 += depthStride
      b0p += 64
      b1p += 64
    }
    store(c0a, c0b, to: c, accumulate: accumulate)
    store(c1a, c1b, to: c + ldc, accumulate: accumulate)
    store(c2a, c2b, to: c + 2 * ldc, accumulate: accumulate)
    store(c3a, c3b, to: c + 3 * ldc, accumulate: accumulate)
    store(c4a, c4b, to: c + 4 * ldc, accumulate: accumulate)
    store(c5a, c5b, to: c + 5 * ldc, accumulate: accumulate)
    store(c6a, c6b, to: c + 6 * ldc, accumulate: accumulate)
    if rows > 7 { store(c7a, c7b, to: c + 7 * ldc, accumulate: accumulate) }
  }

  @inline(__always)
  static func store(_ left: SIMD16<Float>, _ right: SIMD16<Float>, to target: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let raw = UnsafeMutableRawPointer(target)
    if accumulate {
      raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + left, as: SIMD16<Float>.self)
      raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self) + right, toByteOffset: 64, as: SIMD16<Float>.self)
    } else {
      raw.storeBytes(of: left, as: SIMD16<Float>.self)
      raw.storeBytes(of: right, toByteOffset: 64, as: SIMD16<Float>.self)
    }
  }
}
#endif
