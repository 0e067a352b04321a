import Tensors

/// How a sequence of vectors becomes one vector, counting only real (non-padding) positions.
public enum Pooling: String, Codable, Sendable, CaseIterable {
  case mean, max, last

  /// [batch, time, features] with mask [batch, time] → [batch, features]. For `last`, sequences are
  /// right-padded and a recurrent encoder carries its state through padding, so position T − 1 holds the
  /// last real state; with `reverseHalf` (a bidirectional GRU) the second half of the features comes
  /// from position 0, where the reverse direction ends.
  public func callAsFunction(_ h: Tensor, mask: Tensor, reverseHalf: Bool = false) -> Tensor {
    let (batch, time, features) = (h.shape[0], h.shape[1], h.shape[2])
    precondition(mask.shape == [batch, time], "pooling mask must be [\(batch), \(time)]; got \(mask.shape)")
    switch self {
    case .mean:
      let counts = (0..<batch).map { b in Swift.max(1, (0..<time).reduce(Float(0)) { $0 + mask.scalars[b * time + $1] }) }
      guard h.isTracked || mask.isTracked else { return maskedMean(h, mask: mask, counts: counts) }
      let weights = mask.reshaped(to: [batch, time, 1])
      return (h * weights).sum(alongAxes: [1]) / Tensor(shape: [batch, 1], scalars: counts)
    case .max:
      return h.masked(by: mask.reshaped(to: [batch, time, 1]), fill: -1e30).max(alongAxis: 1)
    case .last:
      let last = h.slice(alongAxis: 1, (time - 1)..<time).reshaped(to: [batch, features])
      guard reverseHalf else { return last }
      let half = features / 2
      let first = h.slice(alongAxis: 1, 0..<1).reshaped(to: [batch, features])
      return Tensor.concatenating([last.slice(alongAxis: 1, 0..<half), first.slice(alongAxis: 1, half..<features)], alongAxis: 1)
    }
  }

  /// The mean without the tape, in one pass and the same arithmetic as the recorded ops: position by position, each
  /// state times its mask added to the running sum, then divided by the count.
  private func maskedMean(_ h: Tensor, mask: Tensor, counts: [Float]) -> Tensor {
    let (batch, time, features) = (h.shape[0], h.shape[1], h.shape[2])
    var sums = [Float](repeating: 0, count: batch * features)
    h.scalars.withUnsafeBufferPointer { states in
      mask.scalars.withUnsafeBufferPointer { mask in
        for b in 0..<batch {
          for t in 0..<time {
            let weight = mask[b * time + t], row = states.baseAddress! + (b * time + t) * features
            for f in 0..<features { sums[b * features + f] += row[f] * weight }
          }
          for f in 0..<features { sums[b * features + f] /= counts[b] }
        }
      }
    }
    return Tensor(shape: [batch, features], scalars: sums)
  }
}
