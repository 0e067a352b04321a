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
  let logProbabilities = logits.softmaxValues(axis: logits.rank - 1, logarithm: true)
  var total: Double = 0
  var counted = 0
  logProbabilities.scalars.withUnsafeBufferPointer { lp in
    for (row, label) in labels.enumerated() where label != ignoreIndex {
      precondition(label >= 0 && label < classes, "label \(label) out of 0..<\(classes)")
      let base = row * classes
      var loss = -Double(lp[base + label]) * Double(1 - labelSmoothing)
      if labelSmoothing > 0 {
        var sum: Double = 0
        for c in 0..<classes { sum += Double(lp[base + c]) }
        loss -= Double(labelSmoothing) * sum / Double(classes)
      }
      total += loss
      counted += 1
    }
  }
  let mean = counted > 0 ? Float(total / Double(counted)) : 0
  let logitsShape = logits.shape
  return Tensor(shape: [], scalars: [mean]).recorded(from: [logits]) { g in
    // d loss / d logits = (softmax − target) / counted for each counted row.
    var grad = [Float](repeating: 0, count: rows * classes)
    guard counted > 0 else { return [Tensor(shape: logitsShape, scalars: grad)] }
    let scale = g.scalar / Float(counted)
    let smooth = labelSmoothing / Float(classes)
    logProbabilities.scalars.withUnsafeBufferPointer { lp in
      grad.withUnsafeMutableBufferPointer { gradient in
        for (row, label) in labels.enumerated() where label != ignoreIndex {
          let base = row * classes
          FastMath.scaledExpMinus(lp.baseAddress! + base, count: classes, minus: smooth, scale: scale, into: gradient.baseAddress! + base)
          gradient[base + label] -= (1 - labelSmoothing) * scale
        }
      }
    }
    return [Tensor(shape: logitsShape, scalars: grad)]
  }
}

/// Per-row negative log-likelihoods and predicted classes without a tape, for evaluation.
public func logProbabilities(_ logits: Tensor) -> Tensor { logits.detached.softmaxValues(axis: logits.rank - 1, logarithm: true) }
