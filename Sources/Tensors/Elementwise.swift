import Foundation

// Elementwise arithmetic with broadcasting, and the pointwise nonlinearities. Each op's pullback is
// written beside its forward.

extension Tensor {
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    let result = Tensor.broadcasting(lhs, rhs, Adding())
    let (lShape, rShape) = (lhs.shape, rhs.shape)
    return result.recorded(from: [lhs, rhs]) { g in [g.summed(toShape: lShape), g.summed(toShape: rShape)] }
  }

  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    let result = Tensor.broadcasting(lhs, rhs, Subtracting())
    let (lShape, rShape) = (lhs.shape, rhs.shape)
    return result.recorded(from: [lhs, rhs]) { g in [g.summed(toShape: lShape), g.negatedValue().summed(toShape: rShape)] }
  }

  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    let result = Tensor.broadcasting(lhs, rhs, Multiplying())
    let (l, r) = (lhs.detached, rhs.detached)
    let (needsLeft, needsRight) = (lhs.isTracked, rhs.isTracked)
    return result.recorded(from: [lhs, rhs]) { g in
      [needsLeft ? Tensor.broadcasting(g, r, Multiplying()).summed(toShape: l.shape) : nil,
       needsRight ? Tensor.broadcasting(g, l, Multiplying()).summed(toShape: r.shape) : nil]
    }
  }

  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    let result = Tensor.broadcasting(lhs, rhs, Dividing())
    let (l, r) = (lhs.detached, rhs.detached)
    let (needsLeft, needsRight) = (lhs.isTracked, rhs.isTracked)
    return result.recorded(from: [lhs, rhs]) { g in
      [needsLeft ? Tensor.broadcasting(g, r, Dividing()).summed(toShape: l.shape) : nil,
       needsRight ? Tensor.broadcasting(g, Tensor.broadcasting(l, Tensor.broadcasting(r, r, Multiplying()), Dividing()), Multiplying()).negatedValue().summed(toShape: r.shape) : nil]
    }
  }

  public static prefix func - (value: Tensor) -> Tensor {
    value.negatedValue().recorded(from: [value]) { g in [g.negatedValue()] }
  }

  public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapped(Shifting(amount: rhs)).recorded(from: [lhs]) { g in [g] } }
  public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }
  public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }
  public static func - (lhs: Float, rhs: Tensor) -> Tensor { -rhs + lhs }
  public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapped(Scaling(factor: rhs)).recorded(from: [lhs]) { g in [g.mapped(Scaling(factor: rhs))] } }
  public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
  public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }

  func negatedValue() -> Tensor { mapped(Negating()) }

  /// Applies `transform` to every scalar, untracked. Works on row-sparse tensors too (zero maps to zero
  /// for the transforms used on them: scaling).
  func mapped(_ transform: @escaping @Sendable (Float) -> Float) -> Tensor { mapped(ClosureFunction(body: transform)) }

  /// `mapped` specialised for one function type (its loop calls it inline).
  @inline(__always)
  func mapped<Function: ElementFunction>(_ transform: Function) -> Tensor {
    var result = self.detached
    let count = scalars.count
    // Read the input, write a fresh array (no copy-then-modify); large ones in chunks across the threads.
    result.scalars = [Float](unsafeUninitializedCapacity: count) { o, initialized in
      initialized = count
      scalars.withUnsafeBufferPointer { x in
        let (xAddress, oAddress) = (Int(bitPattern: x.baseAddress), Int(bitPattern: o.baseAddress))
        let blocks = (count + 63) / 64
        forEachChunk(of: blocks, parts: chunkCount(of: blocks, scalars: count)) { _, range in
          let (x, o) = (UnsafePointer<Float>(bitPattern: xAddress)!, UnsafeMutablePointer<Float>(bitPattern: oAddress)!)
          for i in (range.lowerBound * 64)..<Swift.min(count, range.upperBound * 64) { o[i] = transform(x[i]) }
        }
      }
    }
    return result
  }

  /// Pointwise op whose derivative is a function of its output (tanh, sigmoid, exp, relu).
  @inline(__always)
  func pointwise<Forward: ElementFunction, Derivative: ElementFunction>(_ forward: Forward, derivativeFromOutput: Derivative) -> Tensor {
    requireDense("pointwise op")
    let output = mapped(forward)
    return output.recorded(from: [self]) { g in [Tensor.broadcasting(g, output, ChainRule(derivativeFromOutput: derivativeFromOutput))] }
  }

  public func tanh() -> Tensor {
    pointwise(ClosureFunction { Foundation.tanh($0) }, derivativeFromOutput: ClosureFunction { 1 - $0 * $0 })
  }
  public func sigmoid() -> Tensor { pointwise(ClosureFunction(body: stableSigmoid), derivativeFromOutput: ClosureFunction { $0 * (1 - $0) }) }
  public func relu() -> Tensor { pointwise(Rectifying(), derivativeFromOutput: RectifierSlope()) }
  public func exp() -> Tensor { pointwise(ClosureFunction { Foundation.exp($0) }, derivativeFromOutput: ClosureFunction { $0 }) }

  public func log() -> Tensor {
    requireDense("log")
    let input = detached
    return mapped(Foundation.log).recorded(from: [self]) { g in [Tensor.broadcasting(g, input, /)] }
  }

  public func squareRoot() -> Tensor {
    requireDense("squareRoot")
    let output = mapped { $0.squareRoot() }
    return output.recorded(from: [self]) { g in [Tensor.broadcasting(g, output, { $0 * 0.5 / $1 })] }
  }

  public func squared() -> Tensor {
    requireDense("squared")
    let input = detached
    return mapped { $0 * $0 }.recorded(from: [self]) { g in [Tensor.broadcasting(g, input, { 2 * $0 * $1 })] }
  }

  /// GELU with the exact erf form (PyTorch's default): x·Φ(x).
  public func gelu() -> Tensor {
    requireDense("gelu")
    let input = detached
    let output = mapped { x in 0.5 * x * (1 + erff(x * 0.707_106_77)) }
    return output.recorded(from: [self]) { g in
      [Tensor.broadcasting(g, input) { g, x in
        let cdf = 0.5 * (1 + erff(x * 0.707_106_77))
        let pdf = Foundation.exp(-0.5 * x * x) * 0.398_942_28
        return g * (cdf + x * pdf)
      }]
    }
  }

  /// Keeps scalars where `mask` is non-zero and puts `value` elsewhere; `mask` broadcasts to `self`.
  /// The gradient flows only through kept positions.
  public func masked(by mask: Tensor, fill value: Float) -> Tensor {
    let keep = Tensor.broadcasting(mask, Tensor.zeros(shape), { m, _ in m != 0 ? 1 : 0 })
    let output = Tensor.broadcasting(self, keep) { x, k in k != 0 ? x : value }
    return output.recorded(from: [self]) { g in [Tensor.broadcasting(g, keep, *)] }
  }
}

@inline(__always) func stableSigmoid(_ x: Float) -> Float {
  x >= 0 ? 1 / (1 + Foundation.exp(-x)) : { let e = Foundation.exp(x); return e / (1 + e) }()
}

private struct Shifting: ElementFunction {
  let amount: Float
  @inline(__always) func callAsFunction(_ x: Float) -> Float { x + amount }
}

struct Scaling: ElementFunction {
  let factor: Float
  @inline(__always) func callAsFunction(_ x: Float) -> Float { x * factor }
}

private struct Negating: ElementFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { -x } }
private struct Rectifying: ElementFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.max(x, 0) } }
private struct RectifierSlope: ElementFunction { @inline(__always) func callAsFunction(_ y: Float) -> Float { y > 0 ? 1 : 0 } }

/// g · f′ with f′ given by the op's output y: the pullback of a pointwise op.
private struct ChainRule<Derivative: ElementFunction>: ElementCombination {
  let derivativeFromOutput: Derivative
  @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { g * derivativeFromOutput(y) }
}
