/// Arithmetic on flattened parameter vectors (a model's `flattenedParameters`, or an update).
/// Sums run in Double where they reduce, so results do not depend on vector length tricks.
public enum ParameterVector {
  public static func difference(_ a: [Float], _ b: [Float]) -> [Float] {
    precondition(a.count == b.count, "vectors of \(a.count) and \(b.count) scalars")
    return [Float](unsafeUninitializedCapacity: a.count) { out, count in
      a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in for i in 0..<a.count { out[i] = a[i] - b[i] } } }
      count = a.count
    }
  }

  /// `target += scale * x`.
  public static func add(_ x: [Float], scaledBy scale: Float = 1, to target: inout [Float]) {
    precondition(x.count == target.count, "vectors of \(x.count) and \(target.count) scalars")
    x.withUnsafeBufferPointer { x in target.withUnsafeMutableBufferPointer { t in for i in 0..<t.count { t[i] += scale * x[i] } } }
  }

  public static func scaled(_ x: [Float], by scale: Float) -> [Float] { x.map { $0 * scale } }

  /// Σ aᵢbᵢ: SIMD partial sums over blocks of 4096 in Float, accumulated in Double (a fixed order, so
  /// the same inputs give the same bits). Where a Float partial sum overflows (finite scalars beyond about 1e19),
  /// the sum is taken again wholly in Double, so finite vectors always give a finite result.
  public static func dot(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "vectors of \(a.count) and \(b.count) scalars")
    let total = floatBlockDot(a, b)
    guard !total.isFinite else { return total }
    var wide = 0.0
    a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in for i in 0..<a.count { wide += Double(a[i]) * Double(b[i]) } } }
    return wide
  }

  private static func floatBlockDot(_ a: [Float], _ b: [Float]) -> Double {
    var total = 0.0
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        let count = a.count
        var start = 0
        while start < count {
          let end = min(start + 4096, count)
          var lanes = SIMD16<Float>()
          var i = start
          while i + 16 <= end {
            let x = UnsafeRawPointer(a.baseAddress! + i).loadUnaligned(as: SIMD16<Float>.self)
            let y = UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: SIMD16<Float>.self)
            lanes.addProduct(x, y)
            i += 16
          }
          var partial = lanes.sum()
          while i < end {
            partial += a[i] * b[i]
            i += 1
          }
          total += Double(partial)
          start = end
        }
      }
    }
    return total
  }

  public static func norm(_ x: [Float]) -> Double { dot(x, x).squareRoot() }

  /// Whether every scalar is finite (no NaN, no ±Inf).
  public static func isFinite(_ x: [Float]) -> Bool {
    x.withUnsafeBufferPointer { x in
      var bad = false
      for value in x where !value.isFinite { bad = true; break }
      return !bad
    }
  }

  /// Scales `x` down onto the ball of radius `radius` if it lies outside; returns the norm before.
  @discardableResult
  public static func project(_ x: inout [Float], ontoBallOfRadius radius: Double) -> Double {
    let length = norm(x)
    if length > radius && length > 0 {
      let factor = Float(radius / length)
      x.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] *= factor } }
    }
    return length
  }

  /// Weighted mean of `vectors` (weights need not sum to 1; they are normalised).
  public static func weightedMean(_ vectors: [[Float]], weights: [Double]) -> [Float] {
    precondition(!vectors.isEmpty && vectors.count == weights.count, "one weight per vector")
    let total = weights.reduce(0, +)
    precondition(total > 0, "weights must sum to a positive number")
    var result = [Float](repeating: 0, count: vectors[0].count)
    for (vector, weight) in zip(vectors, weights) { add(vector, scaledBy: Float(weight / total), to: &result) }
    return result
  }
}
