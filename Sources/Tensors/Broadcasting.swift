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

/// A function of one scalar applied element by element, as a type: the chunked loops are specialised for it and
/// call it inline (a closure captured by a region of the compute pool costs an indirect call per scalar).
protocol ElementFunction: Sendable {
  func callAsFunction(_ x: Float) -> Float
}

/// A function of two scalars combined element by element (see `ElementFunction`). The eight-lane form must give, lane
/// by lane, what the scalar form gives (the arithmetic ops do: IEEE results do not depend on the vector width).
protocol ElementCombination: Sendable {
  func callAsFunction(_ x: Float, _ y: Float) -> Float
  func callAsFunction(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float>
}

extension ElementCombination {
  @inline(__always) func callAsFunction(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
    var result = SIMD8<Float>()
    for lane in 0..<8 { result[lane] = self(x[lane], y[lane]) }
    return result
  }

  /// o[i] = self(x[i], y[i]) for i in 0..<count, eight at a time (the pointers may alias only exactly).
  @inline(__always) func combine(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into o: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i &+ 8 <= count {
      let result = self(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self), UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self))
      UnsafeMutableRawPointer(o + i).storeBytes(of: result, as: SIMD8<Float>.self)
      i &+= 8
    }
    while i < count {
      o[i] = self(x[i], y[i])
      i &+= 1
    }
  }
}

/// Any closure, for the ops that are not hot enough to deserve a type.
struct ClosureFunction: ElementFunction {
  let body: @Sendable (Float) -> Float
  @inline(__always) func callAsFunction(_ x: Float) -> Float { body(x) }
}

struct ClosureCombination: ElementCombination {
  let body: @Sendable (Float, Float) -> Float
  @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { body(x, y) }
}

struct Adding: ElementCombination {
  @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x + y }
  @inline(__always) func callAsFunction(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x + y }
}
struct Subtracting: ElementCombination {
  @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x - y }
  @inline(__always) func callAsFunction(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x - y }
}
struct Multiplying: ElementCombination {
  @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x * y }
  @inline(__always) func callAsFunction(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x * y }
}
struct Dividing: ElementCombination {
  @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x / y }
  @inline(__always) func callAsFunction(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x / y }
}

/// Element counts from which elementwise ops split across the compute threads (below it, waking them costs
/// more than the work).
let elementwiseParallelMinimum = 1 << 16

/// Whether `operand` holds one value per row of `shape`: the same leading dimensions (after right-aligning)
/// and a last dimension of 1 where `shape`'s is larger.
func isOneValuePerRow(_ operand: [Int], of shape: [Int]) -> Bool {
  guard let last = shape.last, last > 1, operand.last == 1, operand.count <= shape.count else { return false }
  let padded = Array(repeating: 1, count: shape.count - operand.count) + operand
  return Array(padded.dropLast()) == Array(shape.dropLast())
}

extension Tensor {
  /// Combines two tensors element by element with broadcasting. Fast paths for equal shapes, a scalar
  /// operand, a trailing-shape operand (a bias over rows) and an operand with one value per row (a
  /// trailing dimension of 1: a mask over positions), split across the compute threads when large (each
  /// element is computed the same way by whichever thread); a general strided walk otherwise.
  static func broadcasting(_ a: Tensor, _ b: Tensor, _ operation: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
    broadcasting(a, b, ClosureCombination(body: operation))
  }

  /// `broadcasting` specialised for one combination type, so that its loops call it directly (inlined).
  @inline(__always)
  static func broadcasting<Combination: ElementCombination>(_ a: Tensor, _ b: Tensor, _ operation: Combination) -> Tensor {
    a.requireDense("elementwise op")
    b.requireDense("elementwise op")
    let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape)
    let count = shape.reduce(1, *)
    let aCount = a.scalars.count, bCount = b.scalars.count
    let inner = shape.last ?? 1
    // Every path below writes each output element once.
    var out = [Float](unsetCount: count)
    guard count > 0 else { return Tensor(shape: shape, scalars: out) }
    a.scalars.withUnsafeBufferPointer { x in
      b.scalars.withUnsafeBufferPointer { y in
        out.withUnsafeMutableBufferPointer { o in
          let (xAddress, yAddress, oAddress) = (Int(bitPattern: x.baseAddress), Int(bitPattern: y.baseAddress), Int(bitPattern: o.baseAddress))
          // `body` gets the three buffers and a range of items (blocks, repeats or rows).
          func perChunk(of items: Int, _ body: @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) {
            forEachChunk(of: items, parts: chunkCount(of: items, scalars: count)) { _, range in
              body(UnsafePointer(bitPattern: xAddress)!, UnsafePointer(bitPattern: yAddress)!, UnsafeMutablePointer(bitPattern: oAddress)!, range)
            }
          }
          if aCount == count && bCount == count {
            // Equal shapes: chunks of 64 elements.
            perChunk(of: (count + 63) / 64) { x, y, o, blocks in
              let start = blocks.lowerBound * 64
              operation.combine(x + start, y + start, into: o + start, count: Swift.min(count, blocks.upperBound * 64) - start)
            }
          } else if aCount == count, bCount == 1 || shape.suffix(b.rank) == b.shape[...] {
            // b repeats every bCount scalars: loop over the repeats, no modulo.
            perChunk(of: count / bCount) { x, y, o, repeats in
              for start in stride(from: repeats.lowerBound * bCount, to: repeats.upperBound * bCount, by: bCount) {
                if bCount == 1 {
                  o[start] = operation(x[start], y[0])
                } else {
                  operation.combine(x + start, y, into: o + start, count: bCount)
                }
              }
            }
          } else if bCount == count, aCount == 1 || shape.suffix(a.rank) == a.shape[...] {
            perChunk(of: count / aCount) { x, y, o, repeats in
              for start in stride(from: repeats.lowerBound * aCount, to: repeats.upperBound * aCount, by: aCount) {
                if aCount == 1 {
                  o[start] = operation(x[0], y[start])
                } else {
                  operation.combine(x, y + start, into: o + start, count: aCount)
                }
              }
            }
          } else if aCount == count, isOneValuePerRow(b.shape, of: shape) {
            perChunk(of: count / inner) { x, y, o, rows in
              for row in rows {
                let (start, value) = (row * inner, y[row])
                for j in 0..<inner { o[start + j] = operation(x[start + j], value) }
              }
            }
          } else if bCount == count, isOneValuePerRow(a.shape, of: shape) {
            perChunk(of: count / inner) { x, y, o, rows in
              for row in rows {
                let (start, value) = (row * inner, x[row])
                for j in 0..<inner { o[start + j] = operation(value, y[start + j]) }
              }
            }
          } else {
            let aStrides = broadcastStrides(of: a.shape, to: shape)
            let bStrides = broadcastStrides(of: b.shape, to: shape)
            let last = shape.count - 1
            let aInner = aStrides[last], bInner = bStrides[last]
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
