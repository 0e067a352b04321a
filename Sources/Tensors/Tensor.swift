import Foundation
import Randomness

/// An n-dimensional array of `Float`, row-major and contiguous, with value semantics (copy-on-write
/// through its `[Float]` storage).
///
/// A tensor produced by an op on the tape of `valueWithGradient` remembers its node there, so later ops
/// record their pullbacks; tensors made outside it carry nothing and ops on them record nothing.
///
/// A *row-sparse* tensor (`sparseRows != nil`) is how embedding gradients stay small: `scalars` holds
/// only the listed rows of the full `shape` (duplicates add up). Only gradient arithmetic, optimizers and
/// `densified()` accept it; every other op requires a dense tensor.
public struct Tensor: Sendable {
  public internal(set) var shape: [Int]
  public var scalars: [Float]
  /// Rows of dimension 0 present in `scalars`, for a row-sparse tensor; nil for a dense one.
  public private(set) var sparseRows: [Int]?
  /// The tape node that produced this value, when it is being differentiated.
  var tracking: Tracking?

  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    precondition(scalars.count == shape.reduce(1, *), "shape \(shape) holds \(shape.reduce(1, *)) scalars; got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  /// A row-sparse tensor: `rows.count` rows of `shape`'s trailing size, each landing in row `rows[i]`.
  public init(shape: [Int], sparseRows rows: [Int], scalars: [Float]) {
    precondition(shape.count >= 1, "a row-sparse tensor needs at least one dimension")
    let rowWidth = shape.dropFirst().reduce(1, *)
    precondition(scalars.count == rows.count * rowWidth, "\(rows.count) rows of width \(rowWidth) need \(rows.count * rowWidth) scalars; got \(scalars.count)")
    precondition(rows.allSatisfy { $0 >= 0 && $0 < shape[0] }, "row index out of 0..<\(shape[0])")
    self.shape = shape
    self.scalars = scalars
    self.sparseRows = rows
  }

  public init(_ scalar: Float) { self.init(shape: [], scalars: [scalar]) }

  /// A rank-1 tensor.
  public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

  /// A rank-2 tensor from rows of equal length.
  public init(_ rows: [[Float]]) {
    let width = rows.first?.count ?? 0
    precondition(rows.allSatisfy { $0.count == width }, "rows of different lengths")
    self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
  }

  public var rank: Int { shape.count }
  public var scalarCount: Int { shape.reduce(1, *) }
  public var isSparse: Bool { sparseRows != nil }

  /// The only scalar of a tensor with one element.
  public var scalar: Float {
    precondition(sparseRows == nil && scalars.count == 1, "scalar of a tensor with shape \(shape)")
    return scalars[0]
  }

  /// The value without its tape connection: gradients stop here.
  public var detached: Tensor {
    var copy = self
    copy.tracking = nil
    return copy
  }

  func requireDense(_ operation: String) {
    precondition(sparseRows == nil, "\(operation) needs a dense tensor; call densified() on a row-sparse one")
  }
}

// MARK: - Creation

extension Tensor {
  public static func zeros(_ shape: [Int]) -> Tensor { filled(shape, with: 0) }
  public static func ones(_ shape: [Int]) -> Tensor { filled(shape, with: 1) }

  public static func filled(_ shape: [Int], with value: Float) -> Tensor {
    Tensor(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
  }

  /// Uniform in [low, high).
  public static func uniform<G: RandomNumberGenerator>(_ shape: [Int], in range: ClosedRange<Float> = 0...1, using generator: inout G) -> Tensor {
    let width = range.upperBound - range.lowerBound
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in range.lowerBound + width * generator.nextUnitFloat() })
  }

  public static func normal<G: RandomNumberGenerator>(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using generator: inout G) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in mean + standardDeviation * Float(generator.nextStandardNormal()) })
  }

  /// Glorot/Xavier uniform (Glorot & Bengio 2010): U(±√(6 / (fanIn + fanOut))), fans from a
  /// [fanOut, fanIn, …] weight as PyTorch computes them.
  public static func xavierUniform<G: RandomNumberGenerator>(_ shape: [Int], using generator: inout G) -> Tensor {
    let (fanIn, fanOut) = fans(of: shape)
    let bound = (6 / Float(fanIn + fanOut)).squareRoot()
    return uniform(shape, in: -bound...bound, using: &generator)
  }

  /// Kaiming/He uniform for ReLU (He et al. 2015): U(±√(6 / fanIn)).
  public static func kaimingUniform<G: RandomNumberGenerator>(_ shape: [Int], using generator: inout G) -> Tensor {
    let bound = (6 / Float(fans(of: shape).in)).squareRoot()
    return uniform(shape, in: -bound...bound, using: &generator)
  }

  static func fans(of shape: [Int]) -> (in: Int, out: Int) {
    precondition(shape.count >= 1, "fans of a scalar")
    if shape.count == 1 { return (shape[0], shape[0]) }
    let receptive = shape.dropFirst(2).reduce(1, *)
    return (shape[1] * receptive, shape[0] * receptive)
  }
}

// MARK: - Inspection

extension Tensor: Equatable {
  /// Same shape, layout and scalars; the tape connection does not count.
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    lhs.shape == rhs.shape && lhs.sparseRows == rhs.sparseRows && lhs.scalars == rhs.scalars
  }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let head = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
    let sparse = sparseRows.map { " rows \($0.prefix(8))" } ?? ""
    return "Tensor(\(shape)\(sparse): [\(head)\(scalars.count > 8 ? ", …" : "")])"
  }
}

extension Tensor {
  /// Whether every scalar is within `tolerance` of `other`'s (same shape).
  public func isApproximatelyEqual(to other: Tensor, tolerance: Float = 1e-5) -> Bool {
    shape == other.shape && zip(densified().scalars, other.densified().scalars).allSatisfy { abs($0 - $1) <= tolerance }
  }

  /// Whether any scalar is NaN or infinite.
  public var hasNonFiniteScalars: Bool { scalars.contains { !$0.isFinite } }
}
