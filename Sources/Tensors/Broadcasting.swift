/// NumPy/PyTorch broadcasting: shapes are aligned at their last dimension; a dimension of 1 (or a
/// missing leading one) stretches to the other's size.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
  let rank = max(a.count, b.count)
  let paddedA = Array(repeating: 1, count: rank - a.count) + a
  let paddedB = Array(repeating: 1, count: rank - b.count) + b
  return zip(paddedA, paddedB).map { x, y in
    precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast")
    return x == 1 ? y : x
  }
}

/// Row-major strides of `shape` as seen from a broadcast `target` shape (0 where it stretches).
func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
  let padded = Array(repeating: 1, count: target.count - shape.count) + shape
  var strides = Array(repeating: 0, count: target.count)
  var step = 1
  for axis in stride(from: target.count - 1, through: 0, by: -1) {
    strides[axis] = padded[axis] == 1 && target[axis] != 1 ? 0 : step
    step *= padded[axis]
  }
  return strides
}

extension Tensor {
  /// Combines two tensors element by element with broadcasting. Fast paths for equal shapes, a scalar
  /// operand, and a trailing-shape operand (a bias over rows); a general strided walk otherwise.
  @inline(__always)
  static func broadcasting(_ a: Tensor, _ b: Tensor, _ operation: (Float, Float) -> Float) -> Tensor {
    a.requireDense("elementwise op")
    b.requireDense("elementwise op")
    if a.shape == b.shape {
      var out = [Float](repeating: 0, count: a.scalars.count)
      a.scalars.withUnsafeBufferPointer { x in
        b.scalars.withUnsafeBufferPointer { y in
          out.withUnsafeMutableBufferPointer { o in
            for i in 0..<o.count { o[i] = operation(x[i], y[i]) }
          }
        }
      }
      return Tensor(shape: a.shape, scalars: out)
    }
    let shape = broadcastShape(a.shape, b.shape)
    let count = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count)
    let aCount = a.scalars.count, bCount = b.scalars.count
    a.scalars.withUnsafeBufferPointer { x in
      b.scalars.withUnsafeBufferPointer { y in
        out.withUnsafeMutableBufferPointer { o in
          // A trailing-shape operand repeats every `period` scalars: loop over the repeats, no modulo.
          if aCount == count, bCount == 1 || shape.suffix(b.rank) == b.shape[...] {
            for start in stride(from: 0, to: count, by: bCount) {
              for j in 0..<bCount { o[start + j] = operation(x[start + j], y[j]) }
            }
          } else if bCount == count, aCount == 1 || shape.suffix(a.rank) == a.shape[...] {
            for start in stride(from: 0, to: count, by: aCount) {
              for j in 0..<aCount { o[start + j] = operation(x[j], y[start + j]) }
            }
          } else {
            let aStrides = broadcastStrides(of: a.shape, to: shape)
            let bStrides = broadcastStrides(of: b.shape, to: shape)
            let last = shape.count - 1
            let inner = shape[last], aInner = aStrides[last], bInner = bStrides[last]
            var index = Array(repeating: 0, count: shape.count)
            var outOffset = 0
            while outOffset < count {
              var aOffset = 0, bOffset = 0
              for axis in 0..<last {
                aOffset += index[axis] * aStrides[axis]
                bOffset += index[axis] * bStrides[axis]
              }
              for j in 0..<inner { o[outOffset + j] = operation(x[aOffset + j * aInner], y[bOffset + j * bInner]) }
              outOffset += inner
              var axis = last - 1
              while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
              }
            }
          }
        }
      }
    }
    return Tensor(shape: shape, scalars: out)
  }

  /// Sums a broadcast gradient back down to `target` (the shape an operand had before broadcasting).
  public func summed(toShape target: [Int]) -> Tensor {
    if shape == target { return self }
    var result = self.detached
    let extra = rank - target.count
    precondition(extra >= 0, "cannot sum shape \(shape) to the larger \(target)")
    for _ in 0..<extra { result = result.sumAxis(0, keepingDimension: false) }
    for axis in 0..<target.count where target[axis] == 1 && result.shape[axis] != 1 {
      result = result.sumAxis(axis, keepingDimension: true)
    }
    precondition(result.shape == target, "cannot sum shape \(shape) to \(target)")
    return result
  }

  /// Sum over one axis, untracked (the building block of reductions and of broadcast gradients).
  func sumAxis(_ axis: Int, keepingDimension: Bool) -> Tensor {
    requireDense("sum")
    let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
    var out = [Float](repeating: 0, count: outer * inner)
    scalars.withUnsafeBufferPointer { x in
      out.withUnsafeMutableBufferPointer { o in
        for i in 0..<outer {
          let target = o.baseAddress! + i * inner
          for k in 0..<length {
            let source = x.baseAddress! + (i * length + k) * inner
            // SIMD8 explicitly: the compiler cannot prove `target` and `source` do not alias.
            var j = 0
            while j + 8 <= inner {
              let sum = UnsafeRawPointer(target + j).loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(source + j).loadUnaligned(as: SIMD8<Float>.self)
              UnsafeMutableRawPointer(target + j).storeBytes(of: sum, as: SIMD8<Float>.self)
              j += 8
            }
            while j < inner {
              target[j] += source[j]
              j += 1
            }
          }
        }
      }
    }
    var newShape = shape
    if keepingDimension { newShape[axis] = 1 } else { newShape.remove(at: axis) }
    return Tensor(shape: newShape, scalars: out)
  }
}
