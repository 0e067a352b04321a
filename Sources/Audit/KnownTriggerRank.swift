/// Where a planted trigger (known to whoever planted it) ranks in a scan: how the audit is scored.
public struct KnownTriggerRank: Sendable, Codable, Equatable {
  /// The trigger's tokens, as the model's tokeniser produces them.
  public var tokens: [String]
  /// The best-ranked of them.
  public var token: String
  public var label: String
  /// 1-based rank among `of` scanned tokens by flip rate to `label`.
  public var rank: Int
  public var flipRate: Double
  public var of: Int

  enum CodingKeys: String, CodingKey { case tokens, token, label, rank, flipRate = "flip_rate", of }
}
