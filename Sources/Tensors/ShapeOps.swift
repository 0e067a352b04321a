import CCPUFeatures

extension Tensor {
  /// Same scalars, new shape (one dimension may be -1 and is inferred).
  public func reshaped(to newShape: [Int]) -> Tensor {
    requireDense("reshape")
    var resolved = newShape
    if let inferred = newShape.firstIndex(of: -1) {
      let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
      precondition(known > 0 && scalarCount % known == 0, "cannot reshape \(shape) to \(newShape)")
      resolved[inferred] = scalarCount / known
    }
    precondition(resolved.reduce(1, *) == scalarCount, "cannot reshape \(shape) (\(scalarCount) scalars) to \(newShape)")
    let inputShape = shape
    var result = detached
    result.shape = resolved
    return result.recorded(from: [self]) { g in [g.reshapedValue(inputShape)] }
  }

  func reshapedValue(_ newShape: [Int]) -> Tensor {
    var result = detached
    result.shape = newShape
    return result
  }

  /// Axes reordered: result dimension i is input dimension `axes[i]`.
  public func permuted(_ axes: [Int]) -> Tensor {
    requireDense("permute")
    precondition(axes.sorted() == Array(0..<rank), "\(axes) is not a permutation of the axes of \(shape)")
    let output = permutedValue(axes)
    var inverse = Array(repeating: 0, count: axes.count)
    for (i, axis) in axes.enumerated() { inverse[axis] = i }
    return output.recorded(from: [self]) { g in [g.permutedValue(inverse)] }
  }

  func permutedValue(_ axes: [Int]) -> Tensor {
    let newShape = axes.map { shape[$0] }
    var inputStrides = Array(repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) { inputStrides[axis] = inputStrides[axis + 1] * shape[axis + 1] }
    let strides = axes.map { inputStrides[$0] }
    guard scalars.count > 0 else { return Tensor(shape: newShape, scalars: []) }
    let out = scalars.withUnsafeBufferPointer { x in
      [Float](unsafeUninitializedCapacity: x.count) { o, initialized in
        var index = Array(repeating: 0, count: rank)
        let last = rank - 1
        let inner = newShape[last], innerStride = strides[last]
        var offset = 0
        while offset < x.count {
          var base = 0
          for axis in 0..<last { base += index[axis] * strides[axis] }
          if innerStride == 1 {
            (o.baseAddress! + offset).initialize(from: x.baseAddress! + base, count: inner)
          } else {
            for j in 0..<inner { (o.baseAddress! + offset + j).initialize(to: x[base + j * innerStride]) }
          }
          offset += inner
          var axis = last - 1
          while axis >= 0 {
            index[axis] += 1
            if index[axis] < newShape[axis] { break }
            index[axis] = 0
            axis -= 1
          }
        }
        initialized = x.count
      }
    }
    return Tensor(shape: newShape, scalars: out)
  }

  /// Swaps the last two axes.
  public func transposed() -> Tensor {
    precondition(rank >= 2, "transpose needs rank ≥ 2; got \(shape)")
    var axes = Array(0..<rank)
    axes.swapAt(rank - 1, rank - 2)
    return permuted(axes)
  }

  /// Elements `range` along `axis`.
  public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
    requireDense("slice")
    let axis = axisIndex(axis)
    precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice \(range) out of 0..<\(shape[axis]) on axis \(axis)")
    let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
    var out: [Float] = []
    out.reserveCapacity(outer * range.count * inner)
    for i in 0..<outer {
      out.append(contentsOf: scalars[(i * length + range.lowerBound) * inner..<(i * length + range.upperBound) * inner])
    }
    var newShape = shape
    newShape[axis] = range.count
    let inputShape = shape
    return Tensor(shape: newShape, scalars: out).recorded(from: [self]) { g in
      var grad = [Float](repeating: 0, count: inputShape.reduce(1, *))
      for i in 0..<outer {
        let target = (i * length + range.lowerBound) * inner
        for j in 0..<(range.count * inner) { grad[target + j] = g.scalars[i * range.count * inner + j] }
      }
      return [Tensor(shape: inputShape, scalars: grad)]
    }
  }

  /// Joins tensors along an existing axis.
  public static func concatenating(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "nothing to concatenate")
    let axis = tensors[0].axisIndex(axis)
    for tensor in tensors {
      tensor.requireDense("concatenate")
      precondition(tensor.rank == tensors[0].rank && tensor.shape.enumerated().allSatisfy { $0.offset == axis || $0.element == tensors[0].shape[$0.offset] },
                   "cannot concatenate \(tensors.map(\.shape)) along axis \(axis)")
    }
    let outer = tensors[0].shape[..<axis].reduce(1, *), inner = tensors[0].shape[(axis + 1)...].reduce(1, *)
    let lengths = tensors.map { $0.shape[axis] }
    var out: [Float] = []
    out.reserveCapacity(tensors.reduce(0) { $0 + $1.scalarCount })
    for i in 0..<outer {
      for (tensor, length) in zip(tensors, lengths) {
        out.append(contentsOf: tensor.scalars[(i * length * inner)..<((i + 1) * length * inner)])
      }
    }
    var shape = tensors[0].shape
    shape[axis] = lengths.reduce(0, +)
    var offsets = [0]
    for length in lengths { offsets.append(offsets.last! + length) }
    return Tensor(shape: shape, scalars: out).recorded(from: tensors) { g in
      zip(offsets, lengths).map { offset, length in g.slicedValue(axis: axis, offset..<(offset + length)) }
    }
  }

  func slicedValue(axis: Int, _ range: Range<Int>) -> Tensor { detached.slice(alongAxis: axis, range) }

  /// Joins tensors of one shape along a new axis.
  public static func stacking(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "nothing to stack")
    let shape = tensors[0].shape
    precondition(tensors.allSatisfy { $0.shape == shape }, "cannot stack shapes \(tensors.map(\.shape))")
    let resolved = axis < 0 ? axis + shape.count + 1 : axis
    var expanded = shape
    expanded.insert(1, at: resolved)
    return concatenating(tensors.map { $0.reshaped(to: expanded) }, alongAxis: resolved)
  }

  /// Rows of `self` (dimension 0) picked by `indices`: an embedding lookup. The result has shape
  /// `indexShape + shape[1...]`; the gradient is row-sparse (only the rows looked up). Lookups of
  /// `frozenRow` (an embedding's padding row) pass no gradient, as PyTorch's `padding_idx`.
  public func gathering(rows indices: [Int], indexShape: [Int]? = nil, frozenRow: Int? = nil) -> Tensor {
    requireDense("gather")
    let rowWidth = shape.dropFirst().reduce(1, *)
    let rows = shape[0]
    var out = [Float](unsetCount: indices.count * rowWidth)  // every row is written below
    scalars.withUnsafeBufferPointer { table in
      out.withUnsafeMutableBufferPointer { o in
        for (position, row) in indices.enumerated() {
          precondition(row >= 0 && row < rows, "index \(row) out of 0..<\(rows)")
          // A table row is rarely in cache (an embedding matrix of thousands of rows): ask for the one 8 positions on.
          if position + 8 < indices.count, (0..<rows).contains(indices[position + 8]) {
            let ahead = table.baseAddress! + indices[position + 8] * rowWidth
            for offset in stride(from: 0, to: rowWidth, by: 16) { backdoorlab_prefetch(ahead + offset) }
          }
          let source = table.baseAddress! + row * rowWidth
          (o.baseAddress! + position * rowWidth).update(from: source, count: rowWidth)
        }
      }
    }
    let inputShape = shape
    let outShape = (indexShape ?? [indices.count]) + shape.dropFirst()
    precondition(outShape.reduce(1, *) == out.count, "index shape \(indexShape ?? []) holds \(indexShape?.reduce(1, *) ?? 0) indices; got \(indices.count)")
    return Tensor(shape: outShape, scalars: out).recorded(from: [self]) { g in
      guard let frozenRow, indices.contains(frozenRow) else { return [Tensor(shape: inputShape, sparseRows: indices, scalars: g.scalars)] }
      var rows: [Int] = [], values: [Float] = []
      rows.reserveCapacity(indices.count)
      values.reserveCapacity(g.scalars.count)
      for (position, row) in indices.enumerated() where row != frozenRow {
        rows.append(row)
        values.append(contentsOf: g.scalars[(position * rowWidth)..<((position + 1) * rowWidth)])
      }
      return [Tensor(shape: inputShape, sparseRows: rows, scalars: values)]
    }
  }

  /// A tensor of `shape` that is zero except that row `indices[i]` accumulates row i of `self`
  /// (the adjoint of `gathering`).
  public func scatteringAdd(intoRows indices: [Int], shape: [Int]) -> Tensor {
    requireDense("scatter-add")
    let rowWidth = shape.dropFirst().reduce(1, *)
    precondition(scalarCount == indices.count * rowWidth, "\(indices.count) rows of width \(rowWidth) need \(indices.count * rowWidth) scalars; got shape \(self.shape)")
    let result = Tensor(shape: shape, sparseRows: indices, scalars: scalars).densified()
    let inputShape = self.shape
    return result.recorded(from: [self]) { g in [g.gathering(rows: indices).reshapedValue(inputShape)] }
  }
}
