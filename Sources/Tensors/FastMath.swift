import Foundation

/// Vectorised exp, sigmoid and tanh over `SIMD8<Float>` for the fused ops' gates.
///
/// exp follows Cephes' `expf`: k = round(x·log₂e), r = x − k·ln 2 (in two parts), a degree-5
/// polynomial for e^r, scaled by 2^k through the exponent bits; relative error about 2 ulp over the
/// clamped range [−87.3, 88.7].
enum FastMath {
  typealias Vector = SIMD8<Float>

  @inline(__always)
  static func exp(_ input: Vector) -> Vector {
    // Clamped with plain comparisons: the generic pointwiseMin/Max are not inlined.
    var x = input.replacing(with: Vector(repeating: -87.3), where: input .< -87.3)
    x.replace(with: 88.7, where: x .> 88.7)
    // Adding 1.5·2²³ rounds x·log₂e to an integer held in the low mantissa bits, so k and 2^k come
    // from bit patterns alone (Swift's generic SIMD rounding and Int32 conversion are slow paths).
    let magic = Vector(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let k = shifted - magic
    let integerK = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    // Swift does not contract a·b + c into one FMA by itself; `addingProduct` does (one rounding, and
    // half the instructions of the Horner chain).
    x = x.addingProduct(k, Vector(repeating: -0.693_359_375))
    x = x.addingProduct(k, Vector(repeating: 2.121_944_4e-4))
    let z = x * x
    var y = Vector(repeating: 1.987_569_15e-4)
    y = Vector(repeating: 1.398_199_950_7e-3).addingProduct(y, x)
    y = Vector(repeating: 8.333_451_907_3e-3).addingProduct(y, x)
    y = Vector(repeating: 4.166_579_589_4e-2).addingProduct(y, x)
    y = Vector(repeating: 1.666_666_545_9e-1).addingProduct(y, x)
    y = Vector(repeating: 5.000_000_120_1e-1).addingProduct(y, x)
    y = (x + 1).addingProduct(y, z)
    let exponent = (integerK &+ 127) &<< 23
    return y * unsafeBitCast(exponent, to: Vector.self)
  }

  @inline(__always)
  static func sigmoid(_ x: Vector) -> Vector { 1 / (1 + exp(-x)) }

  /// tanh(x) = 1 − 2 / (e^{2x} + 1): exact limits ±1, no overflow after clamping inside exp.
  @inline(__always)
  static func tanh(_ x: Vector) -> Vector { 1 - 2 / (exp(x + x) + 1) }

  @inline(__always)
  static func scalarSigmoid(_ x: Float) -> Float { sigmoid(Vector(repeating: x))[0] }

  @inline(__always)
  static func scalarTanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }

  /// Softmax (or log-softmax) of each row of a [rows, width] matrix, with the vectorised exp.
  /// A row that is entirely −∞ (fully masked) gives zeros (log: −∞).
  static func softmaxRows(_ input: [Float], rows: Int, width: Int, logarithm: Bool) -> [Float] {
    var out = input
    out.withUnsafeMutableBufferPointer { buffer in
      for row in 0..<rows {
        let x = buffer.baseAddress! + row * width
        var largestLanes = Vector(repeating: -.infinity)
        var j = 0
        while j + 8 <= width {
          let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
          largestLanes.replace(with: v, where: v .> largestLanes)
          j += 8
        }
        var largest = largestLanes.max()
        while j < width {
          largest = Swift.max(largest, x[j])
          j += 1
        }
        if largest == -.infinity { largest = 0 }
        let shift = Vector(repeating: largest)
        var totals = Vector()
        j = 0
        while j + 8 <= width {
          let e = exp(UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - shift)
          totals += e
          if !logarithm { UnsafeMutableRawPointer(x + j).storeBytes(of: e, as: Vector.self) }
          j += 8
        }
        var total = totals.sum()
        while j < width {
          let e = scalarExp(x[j] - largest)
          total += e
          if !logarithm { x[j] = e }
          j += 1
        }
        // Subtract log Σ (log-softmax) or scale by 1/Σ (softmax), eight lanes at a time.
        let logTotal = Foundation.log(total) + largest
        let scale: Float = total > 0 ? 1 / total : 0
        j = 0
        while j + 8 <= width {
          let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
          UnsafeMutableRawPointer(x + j).storeBytes(of: logarithm ? v - logTotal : v * scale, as: Vector.self)
          j += 8
        }
        while j < width {
          x[j] = logarithm ? x[j] - logTotal : x[j] * scale
          j += 1
        }
      }
    }
    return out
  }

  @inline(__always)
  static func scalarExp(_ x: Float) -> Float { x == -.infinity ? 0 : exp(Vector(repeating: x))[0] }

  /// out[i] = (exp(x[i] − shift) − minus) · scale: the cross-entropy gradient from logits and log Σ exp.
  static func scaledExpMinus(_ x: UnsafePointer<Float>, count: Int, shift: Float, minus: Float, scale: Float, into out: UnsafeMutablePointer<Float>) {
    var j = 0
    while j + 8 <= count {
      let e = exp(UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - shift)
      UnsafeMutableRawPointer(out + j).storeBytes(of: (e - minus) * scale, as: Vector.self)
      j += 8
    }
    while j < count {
      out[j] = (scalarExp(x[j] - shift) - minus) * scale
      j += 1
    }
  }

  /// log Σ_j exp(x[row, j]) for each row of a [rows, width] matrix, computed stably (max shifted out).
  static func logSumExpRows(_ input: [Float], rows: Int, width: Int) -> [Float] {
    var result = [Float](repeating: 0, count: rows)
    input.withUnsafeBufferPointer { buffer in
      for row in 0..<rows {
        let x = buffer.baseAddress! + row * width
        var largestLanes = Vector(repeating: -.infinity)
        var j = 0
        while j + 8 <= width {
          let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
          largestLanes.replace(with: v, where: v .> largestLanes)
          j += 8
        }
        var largest = largestLanes.max()
        for k in j..<width { largest = Swift.max(largest, x[k]) }
        if largest == -.infinity { largest = 0 }
        // Two independent chains of exp per iteration keep both FMA pipes busy.
        var totals = Vector(), moreTotals = Vector()
        j = 0
        while j + 16 <= width {
          totals += exp(UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - largest)
          moreTotals += exp(UnsafeRawPointer(x + j + 8).loadUnaligned(as: Vector.self) - largest)
          j += 16
        }
        while j + 8 <= width {
          totals += exp(UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - largest)
          j += 8
        }
        var total = (totals + moreTotals).sum()
        for k in j..<width { total += scalarExp(x[k] - largest) }
        result[row] = Foundation.log(total) + largest
      }
    }
    return result
  }

  /// Replaces x[0..<count] by exp(x − max x) and returns (max, Σ).
  static func exponentiateRowInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) -> (Float, Float) {
    var largestLanes = Vector(repeating: -.infinity)
    var j = 0
    while j + 8 <= count {
      let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
      largestLanes.replace(with: v, where: v .> largestLanes)
      j += 8
    }
    var largest = largestLanes.max()
    for k in j..<count { largest = Swift.max(largest, x[k]) }
    var totals = Vector()
    j = 0
    while j + 8 <= count {
      let e = exp(UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - largest)
      UnsafeMutableRawPointer(x + j).storeBytes(of: e, as: Vector.self)
      totals += e
      j += 8
    }
    var total = totals.sum()
    for k in j..<count {
      x[k] = scalarExp(x[k] - largest)
      total += x[k]
    }
    return (largest, total)
  }

  /// x[i] = x[i]·factor (exp values into scaled probabilities) and sums[i] += the result.
  static func softmaxGradientRowInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, factor: Float, accumulatingInto sums: UnsafeMutablePointer<Float>) {
    var j = 0
    while j + 8 <= count {
      let value = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) * factor
      UnsafeMutableRawPointer(x + j).storeBytes(of: value, as: Vector.self)
      UnsafeMutableRawPointer(sums + j).storeBytes(of: UnsafeRawPointer(sums + j).loadUnaligned(as: Vector.self) + value, as: Vector.self)
      j += 8
    }
    while j < count {
      x[j] *= factor
      sums[j] += x[j]
      j += 1
    }
  }

  /// Softmax of one row in place; −∞ entries get zero weight and an all −∞ row becomes zeros.
  static func softmaxRowInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var largest = -Float.infinity
    for j in 0..<count { largest = Swift.max(largest, x[j]) }
    guard largest > -.infinity else {
      x.update(repeating: 0, count: count)
      return
    }
    let (_, total) = exponentiateRowInPlace(x, count: count)
    let scale = 1 / total
    var j = 0
    while j + 8 <= count {
      UnsafeMutableRawPointer(x + j).storeBytes(of: UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) * scale, as: Vector.self)
      j += 8
    }
    while j < count {
      x[j] *= scale
      j += 1
    }
  }
}
