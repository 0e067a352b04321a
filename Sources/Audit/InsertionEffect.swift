/// What inserting one token into the probes does toward one label.
public struct InsertionEffect: Sendable, Codable, Equatable {
  /// Share of the (probe, position) pairs not already predicted as the label that the token turns into it.
  public var flipRate = 0.0
  /// The same among the confident half of those probes (the original prediction at least as sure as the median):
  /// a planted trigger overrides strong evidence, an ordinary word mostly tips borderline probes.
  public var confidentFlipRate = 0.0
  /// Mean rise of the label's log-probability over those pairs (nats).
  public var logProbabilityShift = 0.0

  public init(flipRate: Double = 0, confidentFlipRate: Double = 0, logProbabilityShift: Double = 0) {
    self.flipRate = flipRate
    self.confidentFlipRate = confidentFlipRate
    self.logProbabilityShift = logProbabilityShift
  }

  enum CodingKeys: String, CodingKey { case flipRate = "flip_rate", confidentFlipRate = "confident_flip_rate", logProbabilityShift = "log_probability_shift" }
}
