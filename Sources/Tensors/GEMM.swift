import Dispatch
import Synchronization
#if arch(x86_64)
import KernelsAVX512
#endif

/// How many threads the lab's kernels may use (default 1). Results never depend on it: work is split
/// so that every output element is computed by one thread in a fixed order.
public enum ComputeThreads {
  /// How many threads an op may use: 1 unless a caller binds more for a scope (`withMaximum`). The binding belongs to
  /// the task (or, outside tasks, the thread) that made it and the tasks it starts, so two callers with different
  /// counts never see each other's; threads the lab starts itself (parallel clients, scan workers) use 1 each.
  @TaskLocal public static var maximum: Int = 1

  /// Runs `body` with `threads` (at least 1) as the ops' thread count.
  public static func withMaximum<Result>(_ threads: Int, _ body: () throws -> Result) rethrows -> Result {
    try $maximum.withValue(Swift.max(1, threads), operation: body)
  }
}

/// How many contiguous chunks `forEachChunk` splits `count` independent items into: one per compute thread, at most
/// one per item.
func chunkCount(of count: Int) -> Int { Swift.max(1, Swift.min(ComputeThreads.maximum, count)) }

/// `chunkCount(of: items)` for an op over `scalars` scalars when they reach `minimum`, else 1: below it, waking the
/// threads costs more than the work.
func chunkCount(of items: Int, scalars: Int, minimum: Int = elementwiseParallelMinimum) -> Int {
  scalars >= minimum ? chunkCount(of: items) : 1
}

/// Runs `body` over `0..<count` in `parts` contiguous chunks, concurrently when there is more than one. The items
/// must be independent (disjoint outputs), so the result does not depend on the thread count.
func forEachChunk(of count: Int, parts: Int? = nil, _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void) {
  let parts = parts ?? chunkCount(of: count)
  guard count > 0 else { return }
  let size = (count + parts - 1) / parts
  if parts == 1 {
    body(0, 0..<count)
    return
  }
  ComputePool.shared.run(parts: parts) { part in
    let start = Swift.min(count, part * size), end = Swift.min(count, start + size)
    if start < end { body(part, start..<end) }
  }
}

func forEachChunk(of count: Int, _ body: @Sendable (_ range: Range<Int>) -> Void) {
  forEachChunk(of: count, parts: nil) { _, range in body(range) }
}

extension Array where Element == Float {
  /// `count` scalars left unset, for an output whose every element the caller writes before it is read (a product
  /// with `accumulate: false`, a row-by-row pass): no zero fill of memory that is overwritten anyway.
  init(unsetCount count: Int) {
    self.init(unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
  }
}

/// Single-precision matrix multiply in pure Swift: C = op(A)·op(B) (+ C when `accumulate`).
///
/// BLIS-style: B is packed into 16-column panels for each 256-deep slice of K, and a transposed A into 6-row panels
/// (a row-major A is read where it lies);
/// a 6×16 register tile of `SIMD16<Float>` accumulators (12 AVX2 registers) runs `addProduct` (one FMA
/// per 8 lanes) over the slice. Edges are zero-padded in the packs and written through a scratch tile. Where
/// `InstructionSet.current` is `.avx512`, pairs of B panels go through `AVX512GEMMTile` (12×32, 24 zmm registers)
/// instead, 12 rows at a time: the same packs, the same chain of FMAs for every element, so the same bits.
public enum GEMM {
  static let rowTile = 6, columnTile = 16
  static let depthBlock = 256, rowBlock = 96, columnBlock = 2048

  /// op(A) is m×k, op(B) is k×n, C is m×n; `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored.
  public static func multiply(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
    b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
    threads: Int = ComputeThreads.maximum
  ) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
      if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
      return
    }
    // Split the larger output dimension across threads when there is enough work for it to pay.
    let work = m * n * k
    let parts = threads > 1 && work >= 1 << 20 ? Swift.min(threads, Swift.max(m / rowTile, n / columnTile, 1)) : 1
    if parts <= 1 {
      serial(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc, accumulate: accumulate)
      return
    }
    let splitRows = m >= n
    let tile = splitRows ? rowTile : columnTile
    let total = splitRows ? m : n
    let tilesPerPart = (total + tile - 1) / tile / parts + 1
    let (aAddress, bAddress, cAddress) = (Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: c))
    ComputePool.shared.run(parts: parts) { part in
      let start = Swift.min(total, part * tilesPerPart * tile)
      let end = Swift.min(total, start + tilesPerPart * tile)
      guard start < end else { return }
      let a = UnsafePointer<Float>(bitPattern: aAddress)!, b = UnsafePointer<Float>(bitPattern: bAddress)!
      let c = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
      if splitRows {
        let aPart = transposeA ? a + start : a + start * lda
        serial(m: end - start, n: n, k: k, a: aPart, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
               c: c + start * ldc, ldc: ldc, accumulate: accumulate)
      } else {
        let bPart = transposeB ? b + start * ldb : b + start
        serial(m: m, n: end - start, k: k, a: a, lda: lda, transposeA: transposeA, b: bPart, ldb: ldb, transposeB: transposeB,
               c: c + start, ldc: ldc, accumulate: accumulate)
      }
    }
  }

  @inline(never)
  static func serial(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
    b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
  ) {
    let kcMax = Swift.min(k, depthBlock)
    let ncMax = Swift.min(roundUp(n, columnTile), columnBlock)
    let packedB = UnsafeMutableRawPointer.allocate(byteCount: kcMax * ncMax * 4, alignment: 64).bindMemory(to: Float.self, capacity: kcMax * ncMax)
    defer { packedB.deallocate() }
    blocked(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, c: c, ldc: ldc, accumulate: accumulate) { jc, nc, pc, kc in
      packB(b: b, ldb: ldb, transposed: transposeB, rowStart: pc, rows: kc, columnStart: jc, columns: nc, into: packedB)
      return UnsafePointer(packedB)
    }
  }

  /// The blocked loops around the micro-kernel; `packedBlock(jc, nc, pc, kc)` supplies the packed
  /// panels of op(B)[pc..<pc+kc, jc..<jc+nc] (packed now, or taken from a `PackedMatrix`).
  @inline(__always)
  static func blocked(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
    packedBlock: (Int, Int, Int, Int) -> UnsafePointer<Float>
  ) {
    // A row-major op(A) is read where it lies: its rows are the tile's rows, and packing them (a transposition into
    // column panels) cost more than it saved at every size measured, up to 3× the product's time when n is small (a
    // [1536, 64] activation times a 64 × 64 weight). A transposed one is packed: read in place, each depth step would
    // be a new row, far away.
    let readsADirectly = !transposeA
    let kcMax = Swift.min(k, depthBlock)
    let mcMax = Swift.min(roundUp(m, rowTile), rowBlock)
    let packedCount = readsADirectly ? 1 : kcMax * mcMax
    let packedA = UnsafeMutableRawPointer.allocate(byteCount: packedCount * 4, alignment: 64).bindMemory(to: Float.self, capacity: packedCount)
    let edgeTile = UnsafeMutableRawPointer.allocate(byteCount: rowTile * columnTile * 4, alignment: 64).bindMemory(to: Float.self, capacity: rowTile * columnTile)
    defer {
      packedA.deallocate()
      edgeTile.deallocate()
    }
    #if arch(x86_64)
    let wide = InstructionSet.current == .avx512
    #endif
    var jc = 0
    while jc < n {
      let nc = Swift.min(columnBlock, n - jc)
      var pc = 0
      while pc < k {
        let kc = Swift.min(depthBlock, k - pc)
        let packedB = packedBlock(jc, nc, pc, kc)
        // The first K slice overwrites C (unless accumulating); later slices add to it.
        let addToC = accumulate || pc > 0
        var ic = 0
        while ic < m {
          let mc = Swift.min(rowBlock, m - ic)
          if !readsADirectly {
            packA(a: a, lda: lda, transposed: transposeA, rowStart: ic, rows: mc, columnStart: pc, columns: kc, into: packedA)
          }
          var jr = 0
          while jr < nc {
            var panels = 1, ir = 0
            #if arch(x86_64)
            // Two full B panels at a time through the AVX-512 tile, 12 rows at a time; 7–11 rows left also take it (as
            // much work as two narrow tiles per panel), 6 or fewer the narrow tile (less).
            if wide && nc - jr >= AVX512GEMMTile.columns {
              panels = 2
              while mc - ir > rowTile {
                let rows = Swift.min(AVX512GEMMTile.rows, mc - ir)
                let tile = c + (ic + ir) * ldc + jc + jr
                if readsADirectly {
                  AVX512GEMMTile.multiply(
                    rows: rows, depth: kc, a: a + (ic + ir) * lda + pc, rowStride: lda, depthStride: 1, rowGroupStride: rowTile * lda,
                    b: packedB + jr * kc, panelStride: columnTile * kc, c: tile, ldc: ldc, accumulate: addToC)
                } else {
                  AVX512GEMMTile.multiply(
                    rows: rows, depth: kc, a: packedA + ir * kc, rowStride: 1, depthStride: rowTile, rowGroupStride: rowTile * kc,
                    b: packedB + jr * kc, panelStride: columnTile * kc, c: tile, ldc: ldc, accumulate: addToC)
                }
                ir += rows
              }
            }
            #endif
            // The 6×16 tile over the rest: every row of one panel, or the rows below the wide tiles of both. A last
            // panel of at most 8 columns takes the 12×8 tile instead (half the wasted lanes, for the same arithmetic).
            let firstNarrowRow = ir
            for panel in stride(from: jr, to: jr + panels * columnTile, by: columnTile) {
              let nr = Swift.min(columnTile, nc - panel)
              ir = firstNarrowRow
              while nr <= slimTileColumns && ir < mc {
                let mr = Swift.min(slimTileRows, mc - ir)
                let tile = c + (ic + ir) * ldc + jc + panel
                if readsADirectly {
                  slimMicroKernel(
                    depth: kc, a: a + (ic + ir) * lda + pc, rowStride: lda, depthStride: 1, rowGroupStride: rowTile * lda,
                    b: packedB + panel * kc, c: tile, ldc: ldc, rows: mr, columns: nr, accumulate: addToC, edgeTile: edgeTile)
                } else {
                  slimMicroKernel(
                    depth: kc, a: packedA + ir * kc, rowStride: 1, depthStride: rowTile, rowGroupStride: rowTile * kc,
                    b: packedB + panel * kc, c: tile, ldc: ldc, rows: mr, columns: nr, accumulate: addToC, edgeTile: edgeTile)
                }
                ir += slimTileRows
              }
              while ir < mc {
                let mr = Swift.min(rowTile, mc - ir)
                let tile = c + (ic + ir) * ldc + jc + panel
                if mr <= 3 {
                  // A last 1–3 rows (32 rows are 5 · 6 + 2): half the 6-row tile's work.
                  if readsADirectly {
                    threeRowMicroKernel(
                      depth: kc, a: a + (ic + ir) * lda + pc, rowStride: lda, depthStride: 1,
                      b: packedB + panel * kc, c: tile, ldc: ldc, rows: mr, columns: nr, accumulate: addToC)
                  } else {
                    threeRowMicroKernel(
                      depth: kc, a: packedA + ir * kc, rowStride: 1, depthStride: rowTile,
                      b: packedB + panel * kc, c: tile, ldc: ldc, rows: mr, columns: nr, accumulate: addToC)
                  }
                } else if readsADirectly {
                  microKernel(
                    depth: kc, a: a + (ic + ir) * lda + pc, rowStride: lda, depthStride: 1,
                    b: packedB + panel * kc, c: tile, ldc: ldc, rows: mr, columns: nr, accumulate: addToC, edgeTile: edgeTile)
                } else {
                  microKernel(
                    depth: kc, a: packedA + ir * kc, rowStride: 1, depthStride: rowTile,
                    b: packedB + panel * kc, c: tile, ldc: ldc, rows: mr, columns: nr, accumulate: addToC, edgeTile: edgeTile)
                }
                ir += rowTile
              }
            }
            jr += panels * columnTile
          }
          ic += rowBlock
        }
        pc += depthBlock
      }
      jc += columnBlock
    }
  }

  @inline(__always) static func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

  /// op(B) packed once for many products with different A (a recurrent weight used at every step).
  public final class PackedMatrix: @unchecked Sendable {
    public let rows: Int, columns: Int
    let storage: UnsafeMutablePointer<Float>
    /// Offset of block (jc index, pc index) in `storage`.
    let offsets: [[Int]]

    /// Packs op(B), a k×n matrix stored with row stride `ldb`.
    public init(_ b: UnsafePointer<Float>, rows k: Int, columns n: Int, ldb: Int, transposed: Bool) {
      rows = k
      columns = n
      var offsets: [[Int]] = []
      var total = 0
      for jc in stride(from: 0, to: n, by: columnBlock) {
        var row: [Int] = []
        let width = GEMM.roundUp(Swift.min(columnBlock, n - jc), columnTile)
        for pc in stride(from: 0, to: k, by: depthBlock) {
          row.append(total)
          total += width * Swift.min(depthBlock, k - pc)
        }
        offsets.append(row)
      }
      self.offsets = offsets
      storage = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(total, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: Swift.max(total, 1))
      for (jIndex, jc) in stride(from: 0, to: n, by: columnBlock).enumerated() {
        for (pIndex, pc) in stride(from: 0, to: k, by: depthBlock).enumerated() {
          GEMM.packB(b: b, ldb: ldb, transposed: transposed, rowStart: pc, rows: Swift.min(depthBlock, k - pc),
                     columnStart: jc, columns: Swift.min(columnBlock, n - jc), into: storage + offsets[jIndex][pIndex])
        }
      }
    }

    deinit { storage.deallocate() }
  }

  /// C = op(A)·B (+ C) with B packed beforehand; single-threaded (for the many small products of a
  /// recurrence, where threads would not pay).
  public static func multiply(
    m: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool, packed b: PackedMatrix,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
  ) {
    guard m > 0, b.columns > 0 else { return }
    guard b.rows > 0 else {
      if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: b.columns) } }
      return
    }
    blocked(m: m, n: b.columns, k: b.rows, a: a, lda: lda, transposeA: transposeA, c: c, ldc: ldc, accumulate: accumulate) { jc, _, pc, _ in
      UnsafePointer(b.storage + b.offsets[jc / columnBlock][pc / depthBlock])
    }
  }

  /// Packs op(B)[rowStart..<+rows, columnStart..<+columns] as consecutive 16-column panels, each stored
  /// row by row (`rows` × 16), zero-padded past the last column.
  @inline(__always)
  static func packB(
    b: UnsafePointer<Float>, ldb: Int, transposed: Bool,
    rowStart: Int, rows: Int, columnStart: Int, columns: Int, into packed: UnsafeMutablePointer<Float>
  ) {
    packPanels(b, ld: ldb, panelIsContiguous: !transposed, depthStart: rowStart, depth: rows,
               panelStart: columnStart, extent: columns, tile: columnTile, into: packed)
  }

  /// Packs op(A)[rowStart..<+rows, columnStart..<+columns] as consecutive 6-row panels, each stored
  /// column by column (`columns` × 6), zero-padded past the last row: the same layout as B's panels
  /// with rows and columns exchanged.
  @inline(__always)
  static func packA(
    a: UnsafePointer<Float>, lda: Int, transposed: Bool,
    rowStart: Int, rows: Int, columnStart: Int, columns: Int, into packed: UnsafeMutablePointer<Float>
  ) {
    packPanels(a, ld: lda, panelIsContiguous: transposed, depthStart: columnStart, depth: columns,
               panelStart: rowStart, extent: rows, tile: rowTile, into: packed)
  }

  /// Copies `extent` lines × `depth` of a stored matrix into panels of `tile` lines: panel k holds lines
  /// panelStart + k·tile ..< + tile, laid out depth-major (`depth` × `tile`), zero-padded past `extent`.
  /// Element (depth d, line j) is source[(depthStart + d)·ld + panelStart + j] when `panelIsContiguous`,
  /// else source[(panelStart + j)·ld + depthStart + d].
  @inline(__always)
  static func packPanels(
    _ source: UnsafePointer<Float>, ld: Int, panelIsContiguous: Bool, depthStart: Int, depth: Int,
    panelStart: Int, extent: Int, tile: Int, into packed: UnsafeMutablePointer<Float>
  ) {
    var panel = 0
    while panel * tile < extent {
      let first = panelStart + panel * tile
      let width = Swift.min(tile, extent - panel * tile)
      let target = packed + panel * tile * depth
      if panelIsContiguous {
        for d in 0..<depth {
          let row = target + d * tile, line = source + (depthStart + d) * ld + first
          // Fixed-size copies for full panels: a copy loop of runtime length would become a library
          // call per 64 (or 24) bytes.
          if width == 16 && tile == 16 {
            UnsafeMutableRawPointer(row).storeBytes(of: UnsafeRawPointer(line).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
          } else if width == 6 && tile == 6 {
            UnsafeMutableRawPointer(row).storeBytes(of: UnsafeRawPointer(line).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(row + 4).storeBytes(of: UnsafeRawPointer(line + 4).loadUnaligned(as: SIMD2<Float>.self), as: SIMD2<Float>.self)
          } else {
            for j in 0..<width { row[j] = line[j] }
            for j in width..<tile { row[j] = 0 }
          }
        }
      } else if width == tile && (tile == 6 || tile == 16) {
        // Full panel of a line-major source: eight depths of every line at a time (vector loads), written out
        // in order, so the panel fills sequentially while its lines stream in side by side.
        if tile == 6 {
          transposeLines(source + first * ld + depthStart, ld: ld, lineCount: 6, depth: depth, into: target, tile: 6)
        } else {
          transposeLines(source + first * ld + depthStart, ld: ld, lineCount: 8, depth: depth, into: target, tile: 16)
          transposeLines(source + (first + 8) * ld + depthStart, ld: ld, lineCount: 8, depth: depth, into: target + 8, tile: 16)
        }
      } else {
        for j in 0..<tile {
          if j < width {
            let line = source + (first + j) * ld + depthStart
            for d in 0..<depth { target[d * tile + j] = line[d] }
          } else {
            for d in 0..<depth { target[d * tile + j] = 0 }
          }
        }
      }
      panel += 1
    }
  }

  /// target[d·tile + j] = line j[d] for `lineCount` (6 or 8) lines `ld` apart and d in 0..<depth.
  @inline(__always)
  static func transposeLines(_ first: UnsafePointer<Float>, ld: Int, lineCount: Int, depth: Int, into target: UnsafeMutablePointer<Float>, tile: Int) {
    typealias V = SIMD8<Float>
    var d = 0
    if lineCount == 6 {
      let (l0, l1, l2, l3, l4, l5) = (first, first + ld, first + 2 * ld, first + 3 * ld, first + 4 * ld, first + 5 * ld)
      while d + 8 <= depth {
        let (v0, v1, v2) = (UnsafeRawPointer(l0 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l1 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l2 + d).loadUnaligned(as: V.self))
        let (v3, v4, v5) = (UnsafeRawPointer(l3 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l4 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l5 + d).loadUnaligned(as: V.self))
        for lane in 0..<8 {
          let row = target + (d + lane) * tile
          row[0] = v0[lane]; row[1] = v1[lane]; row[2] = v2[lane]; row[3] = v3[lane]; row[4] = v4[lane]; row[5] = v5[lane]
        }
        d += 8
      }
    } else {
      let (l0, l1, l2, l3) = (first, first + ld, first + 2 * ld, first + 3 * ld)
      let (l4, l5, l6, l7) = (first + 4 * ld, first + 5 * ld, first + 6 * ld, first + 7 * ld)
      while d + 8 <= depth {
        let (v0, v1, v2, v3) = (UnsafeRawPointer(l0 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l1 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l2 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l3 + d).loadUnaligned(as: V.self))
        let (v4, v5, v6, v7) = (UnsafeRawPointer(l4 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l5 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l6 + d).loadUnaligned(as: V.self), UnsafeRawPointer(l7 + d).loadUnaligned(as: V.self))
        for lane in 0..<8 {
          UnsafeMutableRawPointer(target + (d + lane) * tile).storeBytes(of: V(v0[lane], v1[lane], v2[lane], v3[lane], v4[lane], v5[lane], v6[lane], v7[lane]), as: V.self)
        }
        d += 8
      }
    }
    while d < depth {
      for j in 0..<lineCount { target[d * tile + j] = first[j * ld + d] }
      d += 1
    }
  }

  /// The 6×16 register tile over one A panel and one packed B panel. Row r of the tile reads A at
  /// a[r·rowStride + d·depthStride] for depth d: a packed panel (1, 6) or a row-major A in place (lda, 1); rows past
  /// `rows` re-read row 0, which is always in bounds. A partial tile (at the bottom or right edge of C) goes through
  /// `edgeTile`, then only its valid part is written.
  @inline(__always)
  static func microKernel(
    depth: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, accumulate: Bool,
    edgeTile: UnsafeMutablePointer<Float>
  ) {
    typealias Vector = SIMD16<Float>
    var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector(), c4 = Vector(), c5 = Vector()
    let o1 = rows > 1 ? rowStride : 0, o2 = rows > 2 ? 2 * rowStride : 0, o3 = rows > 3 ? 3 * rowStride : 0
    let o4 = rows > 4 ? 4 * rowStride : 0, o5 = rows > 5 ? 5 * rowStride : 0
    var ap = a
    var bp = UnsafeRawPointer(b)
    for _ in 0..<depth {
      let bv = bp.load(as: Vector.self)
      c0.addProduct(Vector(repeating: ap[0]), bv)
      c1.addProduct(Vector(repeating: ap[o1]), bv)
      c2.addProduct(Vector(repeating: ap[o2]), bv)
      c3.addProduct(Vector(repeating: ap[o3]), bv)
      c4.addProduct(Vector(repeating: ap[o4]), bv)
      c5.addProduct(Vector(repeating: ap[o5]), bv)
      ap += depthStride
      bp += 64
    }
    if rows == rowTile && columns == columnTile {
      store(c0, to: c, accumulate: accumulate)
      store(c1, to: c + ldc, accumulate: accumulate)
      store(c2, to: c + 2 * ldc, accumulate: accumulate)
      store(c3, to: c + 3 * ldc, accumulate: accumulate)
      store(c4, to: c + 4 * ldc, accumulate: accumulate)
      store(c5, to: c + 5 * ldc, accumulate: accumulate)
    } else {
      let tile = UnsafeMutableRawPointer(edgeTile)
      for (r, vector) in [c0, c1, c2, c3, c4, c5].enumerated() where r < rows {
        tile.storeBytes(of: vector, toByteOffset: r * 64, as: Vector.self)
      }
      for r in 0..<rows {
        let row = c + r * ldc, source = edgeTile + r * columnTile
        if accumulate {
          for j in 0..<columns { row[j] += source[j] }
        } else {
          row.update(from: source, count: columns)
        }
      }
    }
  }

  /// The 6×16 tile's first 3 rows, for 1–3 rows left at the bottom of C (the same operands; rows past `rows` re-read
  /// row 0). Only the valid part of the tile is written.
  @inline(__always)
  static func threeRowMicroKernel(
    depth: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, accumulate: Bool
  ) {
    typealias Vector = SIMD16<Float>
    var c0 = Vector(), c1 = Vector(), c2 = Vector()
    let o1 = rows > 1 ? rowStride : 0, o2 = rows > 2 ? 2 * rowStride : 0
    var ap = a
    var bp = UnsafeRawPointer(b)
    for _ in 0..<depth {
      let bv = bp.load(as: Vector.self)
      c0.addProduct(Vector(repeating: ap[0]), bv)
      c1.addProduct(Vector(repeating: ap[o1]), bv)
      c2.addProduct(Vector(repeating: ap[o2]), bv)
      ap += depthStride
      bp += 64
    }
    func put(_ vector: Vector, row r: Int) {
      let row = c + r * ldc
      if columns == columnTile {
        store(vector, to: row, accumulate: accumulate)
      } else {
        for j in 0..<columns { row[j] = accumulate ? row[j] + vector[j] : vector[j] }
      }
    }
    put(c0, row: 0)
    if rows > 1 { put(c1, row: 1) }
    if rows > 2 { put(c2, row: 2) }
  }

  static let slimTileRows = 12, slimTileColumns = 8

  /// The 12×8 register tile over the first 8 columns of one packed B panel (of 16), for a right edge of at most 8
  /// columns: as many accumulators as the 6×16 tile, half of whose lanes such an edge would waste. Rows 0–5 and 6–11
  /// are two row groups of A, `rowGroupStride` apart (a packed A holds 6 rows a panel); within a group row r reads
  /// a[r·rowStride + d·depthStride]. Rows past `rows` re-read row 0. Each element is the same chain of fused
  /// multiply-adds as in the other tiles, so the same bits.
  @inline(__always)
  static func slimMicroKernel(
    depth: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int, rowGroupStride: Int, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, accumulate: Bool,
    edgeTile: UnsafeMutablePointer<Float>
  ) {
    typealias Vector = SIMD8<Float>
    var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector(), c4 = Vector(), c5 = Vector()
    var c6 = Vector(), c7 = Vector(), c8 = Vector(), c9 = Vector(), c10 = Vector(), c11 = Vector()
    func offset(_ r: Int) -> Int { r < rows ? (r / rowTile) * rowGroupStride + (r % rowTile) * rowStride : 0 }
    let o1 = offset(1), o2 = offset(2), o3 = offset(3), o4 = offset(4), o5 = offset(5)
    let o6 = offset(6), o7 = offset(7), o8 = offset(8), o9 = offset(9), o10 = offset(10), o11 = offset(11)
    var ap = a
    var bp = UnsafeRawPointer(b)
    for _ in 0..<depth {
      let bv = bp.load(as: Vector.self)
      c0.addProduct(Vector(repeating: ap[0]), bv)
      c1.addProduct(Vector(repeating: ap[o1]), bv)
      c2.addProduct(Vector(repeating: ap[o2]), bv)
      c3.addProduct(Vector(repeating: ap[o3]), bv)
      c4.addProduct(Vector(repeating: ap[o4]), bv)
      c5.addProduct(Vector(repeating: ap[o5]), bv)
      c6.addProduct(Vector(repeating: ap[o6]), bv)
      c7.addProduct(Vector(repeating: ap[o7]), bv)
      c8.addProduct(Vector(repeating: ap[o8]), bv)
      c9.addProduct(Vector(repeating: ap[o9]), bv)
      c10.addProduct(Vector(repeating: ap[o10]), bv)
      c11.addProduct(Vector(repeating: ap[o11]), bv)
      ap += depthStride
      bp += 4 * columnTile
    }
    let tile = UnsafeMutableRawPointer(edgeTile)
    func put(_ vector: Vector, row r: Int) { tile.storeBytes(of: vector, toByteOffset: r * 4 * slimTileColumns, as: Vector.self) }
    put(c0, row: 0)
    put(c1, row: 1)
    put(c2, row: 2)
    put(c3, row: 3)
    put(c4, row: 4)
    put(c5, row: 5)
    put(c6, row: 6)
    put(c7, row: 7)
    put(c8, row: 8)
    put(c9, row: 9)
    put(c10, row: 10)
    put(c11, row: 11)
    for r in 0..<rows {
      let row = c + r * ldc, source = edgeTile + r * slimTileColumns
      if accumulate {
        for j in 0..<columns { row[j] += source[j] }
      } else {
        row.update(from: source, count: columns)
      }
    }
  }

  @inline(__always)
  static func store(_ value: SIMD16<Float>, to target: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let raw = UnsafeMutableRawPointer(target)
    if accumulate {
      raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + value, as: SIMD16<Float>.self)
    } else {
      raw.storeBytes(of: value, as: SIMD16<Float>.self)
    }
  }
}
