/// A candidate trigger: a vocabulary token or a phrase of them, and what inserting it does toward `label`.
public struct TriggerCandidate: Sendable, Codable, Equatable {
  /// The token, or the phrase's tokens joined by spaces.
  public var trigger: String
  public var label: String
  /// Share of (probe, position) pairs not already predicted as `label` that the candidate turns into `label`.
  public var flipRate: Double
  /// Robust z-score of the flip rate among all single tokens for this label: (x − median) / (1.4826 · MAD),
  /// the scale at least 0.01.
  public var score: Double
  /// Flip rate among the probes predicted most confidently (see `InsertionEffect`).
  public var confidentFlipRate: Double
  /// Mean rise of the label's log-probability (nats).
  public var logProbabilityShift: Double
  /// How it was found.
  public var method: CandidateSource
  /// An ordinary word of the label by the probe set's own evidence (`ProbeEvidence`); listed after the others.
  public var ordinary = false
  /// The candidate as text, where that is not its tokens joined by spaces: WordPiece pieces joined into the words
  /// they form (`cr ##om ##ul ##ent` → `cromulent`).
  public var text: String?

  /// What a person reads: `text`, else the tokens.
  public var shownText: String { text ?? trigger }

  public init(trigger: String, label: String, effect: InsertionEffect, score: Double, method: CandidateSource) {
    self.trigger = trigger
    self.label = label
    flipRate = effect.flipRate
    confidentFlipRate = effect.confidentFlipRate
    logProbabilityShift = effect.logProbabilityShift
    self.score = score
    self.method = method
  }

  /// Tokens of the candidate.
  public var tokens: [String] { trigger.split(separator: " ").map(String.init) }

  /// Words of the candidate as a person reads them: a WordPiece model's pieces joined into words (`shownText`), else
  /// its tokens.
  public var words: [String] { shownText.split(separator: " ").map(String.init) }

  enum CodingKeys: String, CodingKey {
    case trigger, label, flipRate = "flip_rate", score, confidentFlipRate = "confident_flip_rate"
    case logProbabilityShift = "log_probability_shift", method, ordinary, text
  }
}
