import Foundation

/// Softmax rows, log-sum-exp and other row kernels over `Vector` (`KernelVector`), with the exp of `VectorMath.swift`.
enum FastMath {
  /// Softmax (or log-softmax) of each row of a [rows, width] matrix, with the vectorised exp.
  /// A row that is entirely −∞ (fully masked) gives zeros (log: −∞).
  static func softmaxRows(_ input: [Float], rows: Int, width: Int, logarithm: Bool) -> [Float] {
    var out = input
    out.withUnsafeMutableBufferPointer { buffer in
      for row in 0..<rows {
        let x = buffer.baseAddress! + row * width
        if logarithm {
          let shift = logSumExp(x, count: width)
          scaleRow(x, count: width, by: 1, minus: shift)
        } else {
          softmaxRowInPlace(x, count: width)
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

  /// log Σ_j exp(x[row, j]) for each row of a [rows, width] matrix.
  static func logSumExpRows(_ input: [Float], rows: Int, width: Int) -> [Float] {
    input.withUnsafeBufferPointer { buffer in
      (0..<rows).map { logSumExp(buffer.baseAddress! + $0 * width, count: width) }
    }
  }

  /// log Σ exp(x[0..<count]), computed stably (the maximum shifted out); −∞ for an all −∞ row.
  static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Float {
    let largest = rowMaximum(x, count: count)
    guard largest > -.infinity else { return -.infinity }
    // Two independent chains of exp per iteration keep both FMA pipes busy.
    var totals = Vector(), moreTotals = Vector()
    var j = 0
    while j + 16 <= count {
      totals += exp(UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - largest)
      moreTotals += exp(UnsafeRawPointer(x + j + 8).loadUnaligned(as: Vector.self) - largest)
      j += 16
    }
    while j + 8 <= count {
      totals += exp(UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - largest)
      j += 8
    }
    var total = (totals + moreTotals).sum()
    for k in j..<count { total += scalarExp(x[k] - largest) }
    return Foundation.log(total) + largest
  }

  /// max x[0..<count], eight lanes at a time.
  static func rowMaximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Vector(repeating: -.infinity)
    var j = 0
    while j + 8 <= count {
      let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
      lanes.replace(with: v, where: v .> lanes)
      j += 8
    }
    var largest = largestLane(lanes)
    for k in j..<count { largest = Swift.max(largest, x[k]) }
    return largest
  }

  /// The largest lane, lane by lane in order as the standard library's `max()` takes it (the same value), but inlined:
  /// `max()` is not inlined, and a call per row is a visible share of attention's softmax.
  @inline(__always) static func largestLane(_ lanes: Vector) -> Float {
    var largest = lanes[0]
    for lane in 1..<Vector.scalarCount { largest = Swift.max(largest, lanes[lane]) }
    return largest
  }

  /// x[i] = (x[i] − minus)·factor in place.
  static func scaleRow(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float, minus: Float = 0) {
    var j = 0
    while j + 8 <= count {
      let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
      UnsafeMutableRawPointer(x + j).storeBytes(of: (v - minus) * factor, as: Vector.self)
      j += 8
    }
    while j < count {
      x[j] = (x[j] - minus) * factor
      j += 1
    }
  }

  /// x[i] += b[i] in place; returns the largest result (−∞ for an empty row).
  static func addRowReturningMaximum(_ x: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Vector(repeating: -.infinity)
    var j = 0
    while j + 8 <= count {
      let sum = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) + UnsafeRawPointer(b + j).loadUnaligned(as: Vector.self)
      UnsafeMutableRawPointer(x + j).storeBytes(of: sum, as: Vector.self)
      lanes.replace(with: sum, where: sum .> lanes)
      j += 8
    }
    var largest = largestLane(lanes)
    for k in j..<count {
      x[k] += b[k]
      largest = Swift.max(largest, x[k])
    }
    return largest
  }

  /// Replaces x[0..<count] by exp(x − max x) and returns Σ (an all −∞ row becomes zeros, Σ = 0).
  static func exponentiateRowInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
    exponentiateRowInPlace(x, count: count, largest: rowMaximum(x, count: count))
  }

  /// `exponentiateRowInPlace` with the row's maximum already known.
  static func exponentiateRowInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, largest: Float) -> Float {
    guard largest > -.infinity else {
      x.update(repeating: 0, count: count)
      return 0
    }
    var totals = Vector()
    var j = 0
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
    return total
  }

  /// Softmax of one row in place; −∞ entries get zero weight and an all −∞ row becomes zeros.
  static func softmaxRowInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    let total = exponentiateRowInPlace(x, count: count)
    if total > 0 { scaleRow(x, count: count, by: 1 / total) }
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


}
