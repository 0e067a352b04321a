import Federated

/// The L-BFGS approximation B of a Hessian from m recent pairs (s_j = w_j − w_(j−1), y_j = g_j − g_(j−1)), in the
/// compact form of Byrd, Nocedal & Schnabel (1994) that FLDetector's Algorithm 1 uses:
///   B·v = σv − [σS  Y] · M⁻¹ · [σSᵀv ; Yᵀv],   M = [[σSᵀS, L], [Lᵀ, −D]],
/// with S and Y the pairs as columns (oldest first), L the strictly lower triangle of SᵀY, D its diagonal, and
/// σ = y_mᵀs_m / s_mᵀs_m from the newest pair. Inner products in Double; M is solved, not inverted.
struct LBFGSHessian {
  let s: [[Float]], y: [[Float]]
  let sigma: Double
  /// M, 2m × 2m, row-major.
  let system: [Double]

  /// nil when the pairs give no usable approximation (σ zero or not finite, M singular).
  init?(s: [[Float]], y: [[Float]]) {
    let m = s.count
    precondition(m >= 1 && y.count == m, "L-BFGS needs as many s as y columns, at least one")
    let sy = (0..<m).map { i in (0..<m).map { j in ParameterVector.dot(s[i], y[j]) } }
    let ss = (0..<m).map { i in (0..<m).map { j in ParameterVector.dot(s[i], s[j]) } }
    let sigma = sy[m - 1][m - 1] / ss[m - 1][m - 1]
    guard sigma.isFinite, sigma != 0 else { return nil }
    var system = [Double](repeating: 0, count: 4 * m * m)
    let width = 2 * m
    for i in 0..<m {
      for j in 0..<m {
        system[i * width + j] = sigma * ss[i][j]
        let lower = i > j ? sy[i][j] : 0  // L[i][j] = (SᵀY)[i][j] below the diagonal
        system[i * width + m + j] = lower
        system[(m + j) * width + i] = lower  // Lᵀ
      }
      system[(m + i) * width + m + i] = -sy[i][i]
    }
    guard Self.solve(system, [Double](repeating: 1, count: width)) != nil else { return nil }
    self.s = s
    self.y = y
    self.sigma = sigma
    self.system = system
  }

  /// B·v written as a combination of v and the pairs: B·v = σv + Σ_j sCoefficients[j]·s_j + Σ_j yCoefficients[j]·y_j.
  func coefficients(for v: [Float]) -> (sCoefficients: [Double], yCoefficients: [Double])? {
    let m = s.count
    let right = s.map { sigma * ParameterVector.dot($0, v) } + y.map { ParameterVector.dot($0, v) }
    guard let q = Self.solve(system, right) else { return nil }
    return ((0..<m).map { -sigma * q[$0] }, (0..<m).map { -q[m + $0] })
  }

  /// The solution of the n × n system `matrix`·x = `right` by Gaussian elimination with partial pivoting; nil when
  /// a pivot vanishes (relative to the matrix's largest entry) or the solution is not finite.
  static func solve(_ matrix: [Double], _ right: [Double]) -> [Double]? {
    let n = right.count
    var a = matrix, b = right
    let scale = a.map(abs).max() ?? 0
    guard scale > 0, scale.isFinite else { return nil }
    for column in 0..<n {
      var pivot = column
      for row in (column + 1)..<max(n, column + 1) where abs(a[row * n + column]) > abs(a[pivot * n + column]) { pivot = row }
      guard abs(a[pivot * n + column]) > 1e-12 * scale else { return nil }
      if pivot != column {
        for j in 0..<n { a.swapAt(column * n + j, pivot * n + j) }
        b.swapAt(column, pivot)
      }
      for row in (column + 1)..<max(n, column + 1) {
        let factor = a[row * n + column] / a[column * n + column]
        guard factor != 0 else { continue }
        for j in column..<n { a[row * n + j] -= factor * a[column * n + j] }
        b[row] -= factor * b[column]
      }
    }
    var x = [Double](repeating: 0, count: n)
    for row in stride(from: n - 1, through: 0, by: -1) {
      var sum = b[row]
      for j in (row + 1)..<max(n, row + 1) { sum -= a[row * n + j] * x[j] }
      x[row] = sum / a[row * n + row]
    }
    return x.allSatisfy(\.isFinite) ? x : nil
  }
}
