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
      let weights = mask.reshaped(to: [batch, time, 1])
      let counts = Tensor(shape: [batch, 1], scalars: (0..<batch).map { b in
        Swift.max(1, (0..<time).reduce(Float(0)) { $0 + mask.scalars[b * time + $1] })
      })
      return (h * weights).sum(alongAxes: [1]) / counts
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
}
