import Foundation

extension Tensor {
  /// Normalises a possibly negative axis.
  func axisIndex(_ axis: Int) -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    precondition(resolved >= 0 && resolved < rank, "axis \(axis) out of range for shape \(shape)")
    return resolved
  }

  /// Sum of all scalars (a rank-0 tensor).
  public func sum() -> Tensor {
    requireDense("sum")
    let total = scalars.withUnsafeBufferPointer { x in x.reduce(Float(0), +) }
    let inputShape = shape
    return Tensor(shape: [], scalars: [total]).recorded(from: [self]) { g in [Tensor.filled(inputShape, with: g.scalar)] }
  }

  public func mean() -> Tensor { sum() / Float(Swift.max(scalarCount, 1)) }

  /// Sum along `axes` (negative counts from the end).
  public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let resolved = Set(axes.map(axisIndex)).sorted(by: >)
    var result = detached
    for axis in resolved { result = result.sumAxis(axis, keepingDimension: true) }
    let keptShape = result.shape
    if !keepingDimensions { result = Tensor(shape: keptShape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element), scalars: result.scalars) }
    let inputShape = shape
    return result.recorded(from: [self]) { g in
      [Tensor.broadcasting(Tensor(shape: keptShape, scalars: g.scalars), Tensor.zeros(inputShape), +)]
    }
  }

  public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let count = Set(axes.map(axisIndex)).reduce(1) { $0 * shape[$1] }
    return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Float(Swift.max(count, 1))
  }

  /// Maximum along one axis; the gradient goes to the first maximal element.
  public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
    requireDense("max")
    let axis = axisIndex(axis)
    let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
    precondition(length > 0, "max over an empty axis")
    var out = [Float](repeating: -.infinity, count: outer * inner)
    var winners = [Int](repeating: 0, count: outer * inner)
    scalars.withUnsafeBufferPointer { x in
      for i in 0..<outer {
        for j in 0..<inner {
          var best = -Float.infinity, bestIndex = i * length * inner + j
          for k in 0..<length {
            let index = (i * length + k) * inner + j
            if x[index] > best || k == 0 { best = x[index]; bestIndex = index }
          }
          out[i * inner + j] = best
          winners[i * inner + j] = bestIndex
        }
      }
    }
    var newShape = shape
    if keepingDimension { newShape[axis] = 1 } else { newShape.remove(at: axis) }
    let inputShape = shape
    return Tensor(shape: newShape, scalars: out).recorded(from: [self]) { g in
      var grad = [Float](repeating: 0, count: inputShape.reduce(1, *))
      for (slot, index) in winners.enumerated() { grad[index] += g.scalars[slot] }
      return [Tensor(shape: inputShape, scalars: grad)]
    }
  }

  /// Softmax along `axis` (default: the last), computed stably.
  public func softmax(alongAxis axis: Int = -1) -> Tensor {
    let axis = axisIndex(axis)
    let output = softmaxValues(axis: axis, logarithm: false)
    return output.recorded(from: [self]) { g in
      // dx = y ⊙ (g − Σ g⊙y)
      [output.alongAxis(axis, combining: g) { y, g, length, stride in
        var dot: Float = 0
        for k in 0..<length { dot += y[k * stride] * g[k * stride] }
        return { k in y[k * stride] * (g[k * stride] - dot) }
      }]
    }
  }

  /// log(softmax) along `axis` (default: the last), computed stably.
  public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
    let axis = axisIndex(axis)
    let output = softmaxValues(axis: axis, logarithm: true)
    return output.recorded(from: [self]) { g in
      // dx = g − softmax ⊙ Σ g
      [output.alongAxis(axis, combining: g) { y, g, length, stride in
        var total: Float = 0
        for k in 0..<length { total += g[k * stride] }
        return { k in g[k * stride] - Foundation.exp(y[k * stride]) * total }
      }]
    }
  }

  func softmaxValues(axis: Int, logarithm: Bool) -> Tensor {
    requireDense("softmax")
    let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
    if inner == 1 { return Tensor(shape: shape, scalars: FastMath.softmaxRows(scalars, rows: outer, width: length, logarithm: logarithm)) }
    var out = scalars
    out.withUnsafeMutableBufferPointer { x in
      for i in 0..<outer {
        for j in 0..<inner {
          let base = i * length * inner + j
          var largest = -Float.infinity
          for k in 0..<length { largest = Swift.max(largest, x[base + k * inner]) }
          if largest == -.infinity { largest = 0 }  // a fully masked row: keep it finite
          var total: Float = 0
          for k in 0..<length {
            let e = Foundation.exp(x[base + k * inner] - largest)
            total += e
            if !logarithm { x[base + k * inner] = e }
          }
          if logarithm {
            let logTotal = Foundation.log(total) + largest
            for k in 0..<length { x[base + k * inner] -= logTotal }
          } else {
            let scale = total > 0 ? 1 / total : 0
            for k in 0..<length { x[base + k * inner] *= scale }
          }
        }
      }
    }
    return Tensor(shape: shape, scalars: out)
  }

  /// Walks the 1-D fibres along `axis` of `self` and `other` together, producing a tensor of `self`'s
  /// shape: `make(selfFibre, otherFibre, length, stride)` returns the value for position k of the fibre.
  func alongAxis(
    _ axis: Int, combining other: Tensor,
    _ make: (UnsafePointer<Float>, UnsafePointer<Float>, Int, Int) -> (Int) -> Float
  ) -> Tensor {
    let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
    var out = [Float](repeating: 0, count: scalars.count)
    scalars.withUnsafeBufferPointer { x in
      other.scalars.withUnsafeBufferPointer { y in
        for i in 0..<outer {
          for j in 0..<inner {
            let base = i * length * inner + j
            let value = make(x.baseAddress! + base, y.baseAddress! + base, length, inner)
            for k in 0..<length { out[base + k * inner] = value(k) }
          }
        }
      }
    }
    return Tensor(shape: shape, scalars: out)
  }
}
