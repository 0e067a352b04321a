import Foundation

/// Mean cross-entropy of `logits` [N, C] against class `labels` (N of them), fused with log-softmax.
///
/// Labels equal to `ignoreIndex` contribute nothing and do not count in the mean (PyTorch's
/// `ignore_index`). With label smoothing ε the target is (1 − ε) on the label plus ε/C on every class,
/// as in PyTorch's `label_smoothing`. Logits of higher rank are flattened to [N, C] first.
public func crossEntropy(_ logits: Tensor, _ labels: [Int], ignoreIndex: Int = -100, labelSmoothing: Float = 0) -> Tensor {
  logits.requireDense("crossEntropy")
  precondition(logits.rank >= 1, "crossEntropy needs [N, C] logits")
  let classes = logits.shape[logits.rank - 1]
  let rows = logits.scalarCount / Swift.max(classes, 1)
  precondition(labels.count == rows, "crossEntropy: \(rows) rows of logits but \(labels.count) labels")
  precondition((0...1).contains(labelSmoothing), "label smoothing must be in [0, 1]; got \(labelSmoothing)")
  // Only log Σ exp per row is kept (not the [N, C] log-probabilities): with a vocabulary-sized C that
  // saves writing and re-reading the largest array of a language model's step.
  let logSumExp = FastMath.logSumExpRows(logits.scalars, rows: rows, width: classes)
  var total: Double = 0
  var counted = 0
  logits.scalars.withUnsafeBufferPointer { x in
    for (row, label) in labels.enumerated() where label != ignoreIndex {
      precondition(label >= 0 && label < classes, "label \(label) out of 0..<\(classes)")
      let base = row * classes
      let lse = Double(logSumExp[row])
      var loss = (lse - Double(x[base + label])) * Double(1 - labelSmoothing)
      if labelSmoothing > 0 {
        var sum: Double = 0
        for c in 0..<classes { sum += Double(x[base + c]) }
        loss += Double(labelSmoothing) * (lse - sum / Double(classes))
      }
      total += loss
      counted += 1
    }
  }
  let mean = counted > 0 ? Float(total / Double(counted)) : 0
  let input = logits.detached
  return Tensor(shape: [], scalars: [mean]).recorded(from: [logits]) { g in
    // d loss / d logits = (softmax − target) / counted for each counted row.
    var grad = [Float](repeating: 0, count: rows * classes)
    guard counted > 0 else { return [Tensor(shape: input.shape, scalars: grad)] }
    let scale = g.scalar / Float(counted)
    let smooth = labelSmoothing / Float(classes)
    input.scalars.withUnsafeBufferPointer { x in
      grad.withUnsafeMutableBufferPointer { gradient in
        for (row, label) in labels.enumerated() where label != ignoreIndex {
          let base = row * classes
          FastMath.scaledExpMinus(x.baseAddress! + base, count: classes, shift: logSumExp[row], minus: smooth, scale: scale, into: gradient.baseAddress! + base)
          gradient[base + label] -= (1 - labelSmoothing) * scale
        }
      }
    }
    return [Tensor(shape: input.shape, scalars: grad)]
  }
}

/// Per-row negative log-likelihoods and predicted classes without a tape, for evaluation.
public func logProbabilities(_ logits: Tensor) -> Tensor { logits.detached.softmaxValues(axis: logits.rank - 1, logarithm: true) }

/// Mean cross-entropy of the logits x·Wᵀ + b against `labels`, as one op: a language model's decoder and
/// loss, where the logits are [positions, vocabulary] and the largest array of the step.
///
/// Same value and gradients as `crossEntropy(linear(x, weight: weight, bias: bias), labels, …)`, but the
/// logits live in one buffer for the whole op: the product writes x·Wᵀ into it a block of rows at a time, and each
/// block, while still in cache, gets the bias and becomes exp(logit − max) in place, keeping one sum per row (about
/// 7 % faster on one thread than a whole product then a pass over memory); the pullback turns that into
/// (softmax − target)·scale in place, summing the columns for the bias gradient on the way, then runs the two
/// products for x and W. No other array of that size is made.
///
/// Threads: the forward splits row blocks, the pullback's in-place pass splits columns (each column's bias
/// gradient is summed over the rows in order by one thread), and the loss is summed in row order, so the
/// bits do not depend on the thread count.
public func linearCrossEntropy(_ x: Tensor, weight: Tensor, bias: Tensor, labels: [Int], ignoreIndex: Int = -100) -> Tensor {
  x.requireDense("linearCrossEntropy")
  weight.requireDense("linearCrossEntropy")
  let (classes, inputs) = (weight.shape[0], weight.shape[1])
  precondition(weight.rank == 2 && bias.shape == [classes] && x.shape.last == inputs, "linearCrossEntropy: input \(x.shape), weight \(weight.shape), bias \(bias.shape)")
  let rows = x.scalarCount / Swift.max(inputs, 1)
  precondition(labels.count == rows, "linearCrossEntropy: \(rows) rows but \(labels.count) labels")
  for label in labels where label != ignoreIndex {
    precondition(label >= 0 && label < classes, "label \(label) out of 0..<\(classes)")
  }
  final class Buffer: @unchecked Sendable {
    var values: [Float]
    init(_ values: [Float]) { self.values = values }
  }
  // The logits, owned by the buffer alone (the softmax and then its gradient overwrite them in place). They are
  // made a block of rows at a time against Wᵀ packed once, and each block gets its bias, maximum and exponentials
  // while it is still in cache (the whole [rows, classes] array is far larger than the cache).
  let buffer = Buffer([Float](unsetCount: rows * classes))
  var sums = [Float](repeating: 0, count: rows)
  var rowLosses = [Double](repeating: 0, count: rows)
  if rows > 0 && classes > 0 {
    let packedWeight = weight.scalars.withUnsafeBufferPointer { w in
      GEMM.PackedMatrix(w.baseAddress!, rows: inputs, columns: classes, ldb: inputs, transposed: true)
    }
    let blockRows = 24  // 24 × a 10,000-word vocabulary: 960 KB, about one core's L2 (12 and 48 measured slower)
    buffer.values.withUnsafeMutableBufferPointer { z in
      x.scalars.withUnsafeBufferPointer { a in
        bias.scalars.withUnsafeBufferPointer { b in
          sums.withUnsafeMutableBufferPointer { sums in
            rowLosses.withUnsafeMutableBufferPointer { losses in
              let addresses = [z.baseAddress, sums.baseAddress].map { Int(bitPattern: $0) }
              let (inputAddress, biasAddress, lossAddress) = (Int(bitPattern: a.baseAddress), Int(bitPattern: b.baseAddress), Int(bitPattern: losses.baseAddress))
              forEachChunk(of: (rows + blockRows - 1) / blockRows) { blocks in
                let z = UnsafeMutablePointer<Float>(bitPattern: addresses[0])!, sums = UnsafeMutablePointer<Float>(bitPattern: addresses[1])!
                let b = UnsafePointer<Float>(bitPattern: biasAddress)!, losses = UnsafeMutablePointer<Double>(bitPattern: lossAddress)!
                let a = UnsafePointer<Float>(bitPattern: inputAddress)!  // rows > 0 means inputs > 0
                for block in blocks {
                  let first = block * blockRows, count = Swift.min(blockRows, rows - first)
                  GEMM.multiply(m: count, a: a + first * inputs, lda: inputs, transposeA: false, packed: packedWeight,
                                c: z + first * classes, ldc: classes, accumulate: false)
                  for row in first..<(first + count) {
                    let base = z + row * classes
                    let largest = FastMath.addRowReturningMaximum(base, b, count: classes)
                    let sum = FastMath.exponentiateRowInPlace(base, count: classes, largest: largest)
                    sums[row] = sum
                    let label = labels[row]
                    // −log softmax(label) = log Σ − (logit − max) = log Σ − log(exp(logit − max))
                    if label != ignoreIndex { losses[row] = Double(Foundation.log(sum)) - Double(Foundation.log(base[label])) }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  var total: Double = 0
  var counted = 0
  for row in 0..<rows where labels[row] != ignoreIndex {
    total += rowLosses[row]
    counted += 1
  }
  let mean = counted > 0 ? Float(total / Double(counted)) : 0
  let (input, weightValue) = (x.detached, weight.detached)
  let (needsInput, needsWeight, needsBias) = (x.isTracked, weight.isTracked, bias.isTracked)
  return Tensor(shape: [], scalars: [mean]).recorded(from: [x, weight, bias]) { g in
    let scale = counted > 0 ? g.scalar / Float(counted) : 0
    let factors = (0..<rows).map { labels[$0] != ignoreIndex ? scale / sums[$0] : 0 }
    var biasGradient = [Float](repeating: 0, count: classes)
    // Every element is written below when there are rows to sum over.
    var weightGradient = !needsWeight ? [] : rows > 0 ? [Float](unsetCount: classes * inputs) : [Float](repeating: 0, count: classes * inputs)
    // The [rows, classes] logit gradient G is far larger than the cache. Each thread takes slices of
    // `GEMM.depthBlock` classes and, while a slice is in cache, turns it into the softmax gradient and multiplies
    // dW[slice] = G[:, slice]ᵀ·x (made whole first, G would be packed for Gᵀ·x from memory, a slow strided read);
    // then dx = G·W reads G in place. dW's slices are the row blocks the whole product would make: the same sums.
    let slice = GEMM.depthBlock
    let packedInput = needsWeight && rows > 0 && inputs > 0
      ? input.scalars.withUnsafeBufferPointer { GEMM.PackedMatrix($0.baseAddress!, rows: rows, columns: inputs, ldb: inputs, transposed: false) } : nil
    buffer.values.withUnsafeMutableBufferPointer { z in
      biasGradient.withUnsafeMutableBufferPointer { db in
        weightGradient.withUnsafeMutableBufferPointer { dw in
          let (zAddress, dbAddress, dwAddress) = (Int(bitPattern: z.baseAddress), Int(bitPattern: db.baseAddress), Int(bitPattern: dw.baseAddress))
          forEachChunk(of: (classes + slice - 1) / slice) { slices in
            let z = UnsafeMutablePointer<Float>(bitPattern: zAddress)!, db = UnsafeMutablePointer<Float>(bitPattern: dbAddress)!
            for sliceIndex in slices {
              let columns = (sliceIndex * slice)..<Swift.min(classes, (sliceIndex + 1) * slice)
              for row in 0..<rows {
                let base = z + row * classes
                FastMath.softmaxGradientRowInPlace(base + columns.lowerBound, count: columns.count, factor: factors[row],
                                                   accumulatingInto: db + columns.lowerBound)
                let label = labels[row]
                if label != ignoreIndex && columns.contains(label) {
                  base[label] -= scale
                  db[label] -= scale
                }
              }
              if let packedInput {
                GEMM.multiply(m: columns.count, a: z + columns.lowerBound, lda: classes, transposeA: true, packed: packedInput,
                              c: UnsafeMutablePointer<Float>(bitPattern: dwAddress)! + columns.lowerBound * inputs, ldc: inputs, accumulate: false)
              }
            }
          }
        }
      }
    }
    let gradient = Tensor(shape: [rows, classes], scalars: buffer.values)
    buffer.values = []
    return [
      needsInput ? matmulValue(gradient, weightValue, transposeA: false, transposeB: false).reshapedValue(input.shape) : nil,
      needsWeight ? Tensor(shape: [classes, inputs], scalars: weightGradient) : nil,
      needsBias ? Tensor(biasGradient) : nil,
    ]
  }
}
