import Foundation
import Tensors

/// The low-frequency coefficients of a matrix's orthonormal 2-D DCT-II (scipy's `dctn(x, type=2, norm="ortho")`):
/// Y[u][v] = α_u α_v Σ_p Σ_q X[p][q] cos(π(2p+1)u / 2P) cos(π(2q+1)v / 2Q), α_0 = √(1/N), α_k = √(2/N) (N = P or Q),
/// kept where u + v ≤ ⌊max(P, Q) / 2⌋ — FreqFed's low-frequency region — row by row.
///
/// The transform is two matrix products, Y = C_P · X · C_Qᵀ, with only the rows of C_P and C_Q the region reaches;
/// each basis is built a block of rows at a time (at most 256 rows and 2²² scalars), so a 10,000 × 64 embedding or a
/// 40,000-word output bias never holds its whole basis. Several matrices of one shape are transformed together (side
/// by side in one product). Each cosine comes from a table of cos(πm / 2N), m = (2p+1)u mod 4N, so no angle is
/// computed from a large product. The cost is that of the products, O(P² Q + P Q²) for the whole region: meant for
/// a model's tensors, not for one vector of millions of scalars.
public struct LowFrequencySpectrum: Sendable, Equatable {
  public var rows: Int
  public var columns: Int

  public init(rows: Int, columns: Int) {
    precondition(rows >= 1 && columns >= 1, "a matrix has at least one row and one column")
    self.rows = rows
    self.columns = columns
  }

  /// The region's bound on u + v.
  public var cutoff: Int { max(rows, columns) / 2 }

  /// How many coefficients the region holds.
  public var count: Int { (0...min(cutoff, rows - 1)).reduce(0) { $0 + min(cutoff - $1, columns - 1) + 1 } }

  /// Rows of an N-point basis built at a time.
  static func basisBlock(size n: Int) -> Int { max(1, min(256, (1 << 22) / n)) }

  /// The region's coefficients of each matrix; `matrices[i]` holds `rows × columns` scalars, row-major.
  public func coefficients(of matrices: [ArraySlice<Float>]) -> [[Float]] {
    let k = matrices.count
    guard k > 0 else { return [] }
    for matrix in matrices { precondition(matrix.count == rows * columns, "a matrix of \(matrix.count) scalars is not \(rows) × \(columns)") }
    let usedRows = min(cutoff, rows - 1) + 1, usedColumns = min(cutoff, columns - 1) + 1
    let width = k * columns
    // X: the matrices side by side, rows × (k · columns).
    var stacked = [Float](repeating: 0, count: rows * width)
    stacked.withUnsafeMutableBufferPointer { x in
      for (i, slice) in matrices.enumerated() {
        slice.withUnsafeBufferPointer { matrix in
          for p in 0..<rows {
            (x.baseAddress! + p * width + i * columns).update(from: matrix.baseAddress! + p * columns, count: columns)
          }
        }
      }
    }
    // Z = C_P[0..<usedRows] · X, usedRows × (k · columns).
    var left = [Float](repeating: 0, count: usedRows * width)
    let rowCosines = Self.cosineTable(size: rows)
    var start = 0
    while start < usedRows {
      let count = min(Self.basisBlock(size: rows), usedRows - start)
      let basis = Self.basis(size: rows, frequencies: start..<(start + count), table: rowCosines)
      basis.withUnsafeBufferPointer { c in
        stacked.withUnsafeBufferPointer { x in
          left.withUnsafeMutableBufferPointer { z in
            GEMM.multiply(
              m: count, n: width, k: rows, a: c.baseAddress!, lda: rows, transposeA: false, b: x.baseAddress!, ldb: width, transposeB: false,
              c: z.baseAddress! + start * width, ldc: width, accumulate: false)
          }
        }
      }
      start += count
    }
    // Y_i = Z_i · C_Q[0..<usedColumns]ᵀ, a block of column frequencies at a time, then the region row by row.
    let columnCosines = Self.cosineTable(size: columns)
    var products = [[Float]](repeating: [Float](repeating: 0, count: usedRows * usedColumns), count: k)
    start = 0
    while start < usedColumns {
      let count = min(Self.basisBlock(size: columns), usedColumns - start)
      let basis = Self.basis(size: columns, frequencies: start..<(start + count), table: columnCosines)
      for i in 0..<k {
        left.withUnsafeBufferPointer { z in
          basis.withUnsafeBufferPointer { c in
            products[i].withUnsafeMutableBufferPointer { y in
              GEMM.multiply(
                m: usedRows, n: count, k: columns, a: z.baseAddress! + i * columns, lda: width, transposeA: false, b: c.baseAddress!,
                ldb: columns, transposeB: true, c: y.baseAddress! + start, ldc: usedColumns, accumulate: false)
            }
          }
        }
      }
      start += count
    }
    return products.map { product in
      var region: [Float] = []
      region.reserveCapacity(self.count)
      for u in 0..<usedRows {
        let last = min(cutoff - u, usedColumns - 1)
        region.append(contentsOf: product[(u * usedColumns)...(u * usedColumns + last)])
      }
      return region
    }
  }

  /// cos(πm / 2N) for m in 0..<4N.
  static func cosineTable(size n: Int) -> [Double] {
    (0..<(4 * n)).map { cos(Double.pi * Double($0) / Double(2 * n)) }
  }

  /// Rows `frequencies` of the N-point orthonormal DCT-II matrix, row-major (frequencies.count × N).
  static func basis(size n: Int, frequencies: Range<Int>, table: [Double]) -> [Float] {
    var basis = [Float](repeating: 0, count: frequencies.count * n)
    let period = 4 * n
    for (row, u) in frequencies.enumerated() {
      let scale = (u == 0 ? 1.0 / Double(n) : 2.0 / Double(n)).squareRoot()
      let step = (2 * u) % period
      var m = u % period  // (2p + 1) · u mod 4N at p = 0
      for p in 0..<n {
        basis[row * n + p] = Float(scale * table[m])
        m += step
        if m >= period { m -= period }
      }
    }
    return basis
  }
}
