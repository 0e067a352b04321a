/// What an audit concludes about a model.
public enum Verdict: String, Sendable, Codable, Equatable {
  /// The suspected target's verdict score reached the threshold.
  case backdoored
  case clean

  public init(score: Double, threshold: Double) { self = score >= threshold ? .backdoored : .clean }
}
