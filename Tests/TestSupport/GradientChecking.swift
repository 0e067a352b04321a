import Tensors
import Testing

/// Compares `valueWithGradient` with central finite differences for every parameter scalar (or an
/// evenly spaced sample of `maximumChecksPerParameter` of them).
///
/// Tolerance: in Float32 a central difference with step h = 1e-2 on a function of size O(1) carries a
/// rounding error of about ε_mach·|f|/h ≈ 1e-5 and a truncation error of about h²·|f'''|/6 ≈ 1e-5 for the
/// smooth ops tested; 5e-3 relative (to max(1, |gradient|)) leaves a wide margin over both while still
/// catching any wrong term of a pullback, which is off by O(1).
public func expectGradientMatchesFiniteDifferences<P: Parameterized>(
  at parameters: P, step: Float = 1e-2, tolerance: Float = 5e-3, maximumChecksPerParameter: Int = 40,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ function: (P, Tape) -> Tensor
) {
  let (_, analytic) = valueWithGradient(at: parameters, in: function)
  for (name, path) in parameters.parameterPaths {
    let gradient = analytic[keyPath: path].densified()
    let count = parameters[keyPath: path].scalarCount
    let stride = max(1, count / maximumChecksPerParameter)
    for index in Swift.stride(from: 0, to: count, by: stride) {
      var plus = parameters, minus = parameters
      plus[keyPath: path].scalars[index] += step
      minus[keyPath: path].scalars[index] -= step
      let numeric = (function(plus, Tape()).scalar - function(minus, Tape()).scalar) / (2 * step)
      let exact = gradient.scalars[index]
      let scale = max(1, abs(exact), abs(numeric))
      #expect(abs(exact - numeric) <= tolerance * scale,
              "parameter '\(name)'[\(index)]: analytic \(exact), finite difference \(numeric)", sourceLocation: sourceLocation)
    }
  }
}

/// A handful of tensors as one `Parameterized` value, for gradient checks of ops with several inputs.
public struct TensorList: Parameterized, Sendable {
  public var tensors: [Tensor]
  public init(_ tensors: [Tensor]) { self.tensors = tensors }
  public subscript(index: Int) -> Tensor { tensors[index] }
  public var parameterPaths: [(name: String, path: WritableKeyPath<TensorList, Tensor>)] {
    tensors.indices.map { ("\($0)", \TensorList.tensors[$0]) }
  }
}
