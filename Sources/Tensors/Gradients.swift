// Gradient arithmetic that also understands row-sparse tensors (embedding gradients).

extension Tensor {
  /// The dense tensor a row-sparse one stands for (duplicate rows added); `self` when already dense.
  public func densified() -> Tensor {
    guard let rows = sparseRows else { return self }
    let rowWidth = shape.dropFirst().reduce(1, *)
    var out = [Float](repeating: 0, count: shape.reduce(1, *))
    scalars.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { target in
        for (position, row) in rows.enumerated() {
          let from = position * rowWidth, to = row * rowWidth
          for j in 0..<rowWidth { target[to + j] += source[from + j] }
        }
      }
    }
    return Tensor(shape: shape, scalars: out)
  }

  /// A row-sparse tensor with each row listed once, in ascending order (duplicates added).
  public func coalesced() -> Tensor {
    guard let rows = sparseRows else { return self }
    let rowWidth = shape.dropFirst().reduce(1, *)
    var slots: [Int: Int] = [:]
    var unique: [Int] = []
    for row in rows where slots[row] == nil {
      slots[row] = 0
      unique.append(row)
    }
    unique.sort()
    for (slot, row) in unique.enumerated() { slots[row] = slot }
    var out = [Float](repeating: 0, count: unique.count * rowWidth)
    for (position, row) in rows.enumerated() {
      let to = slots[row]! * rowWidth, from = position * rowWidth
      for j in 0..<rowWidth { out[to + j] += scalars[from + j] }
    }
    return Tensor(shape: shape, sparseRows: unique, scalars: out)
  }

  /// `self + other` for gradients: dense + dense adds, row-sparse + row-sparse concatenates rows,
  /// dense + row-sparse scatters the rows into the dense one.
  public func accumulating(_ other: Tensor) -> Tensor {
    precondition(shape == other.shape, "cannot accumulate gradients of shapes \(shape) and \(other.shape)")
    switch (sparseRows, other.sparseRows) {
    case (nil, nil):
      var result = detached
      result.scalars.withUnsafeMutableBufferPointer { x in
        other.scalars.withUnsafeBufferPointer { y in for i in 0..<x.count { x[i] += y[i] } }
      }
      return result
    case (let a?, let b?):
      return Tensor(shape: shape, sparseRows: a + b, scalars: scalars + other.scalars)
    case (nil, _?):
      return other.addingRows(into: self)
    case (_?, nil):
      return addingRows(into: other)
    }
  }

  /// Adds this row-sparse tensor's rows into `dense`.
  func addingRows(into dense: Tensor) -> Tensor {
    var result = dense.detached
    let rowWidth = shape.dropFirst().reduce(1, *)
    result.scalars.withUnsafeMutableBufferPointer { target in
      scalars.withUnsafeBufferPointer { source in
        for (position, row) in (sparseRows ?? []).enumerated() {
          for j in 0..<rowWidth { target[row * rowWidth + j] += source[position * rowWidth + j] }
        }
      }
    }
    return result
  }

  /// Σ x², counting duplicate rows of a row-sparse tensor once (as the dense tensor would).
  public var squaredNorm: Float {
    let values = isSparse ? coalesced().scalars : scalars
    return values.reduce(Float(0)) { $0 + $1 * $1 }
  }

  /// Every scalar multiplied by `factor` (keeps the layout).
  public func scaled(by factor: Float) -> Tensor { mapped(Scaling(factor: factor)) }
}
