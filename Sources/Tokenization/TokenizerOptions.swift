/// How text becomes tokens. Saved in model bundles (`"tokenizer": {"normalize": "nfkc_casefold",
/// "punctuation": "drop"}`), so a model is always fed text tokenised the way it was trained.
public struct TokenizerOptions: Codable, Sendable, Equatable, Hashable {
  public enum Normalization: String, Codable, Sendable, CaseIterable {
    /// Unicode NFKC followed by full case folding (ICU's NFKC_Casefold): "ＦＵＬＬ" → "full", "ﬁ" → "fi".
    case nfkcCasefold = "nfkc_casefold"
    /// Tokens keep the original text's characters.
    case none
  }

  public enum Punctuation: String, Codable, Sendable, CaseIterable {
    case drop
    /// Punctuation and symbol segments become tokens of their own.
    case keep
  }

  public var normalize: Normalization
  public var punctuation: Punctuation
  /// ICU locale for word-break rules: "root" (the default), "en_US", "ja", "th", ...
  public var locale: String

  public init(normalize: Normalization = .nfkcCasefold, punctuation: Punctuation = .drop, locale: String = "root") {
    self.normalize = normalize
    self.punctuation = punctuation
    self.locale = locale
  }

  enum CodingKeys: String, CodingKey, CaseIterable { case normalize, punctuation, locale }

  /// Missing keys take their defaults; unknown keys and unknown values are errors that name them.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    let known = Set(CodingKeys.allCases.map(\.rawValue))
    if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
      throw DecodingError.dataCorruptedError(
        forKey: unknown, in: container,
        debugDescription: "unknown tokenizer option '\(unknown.stringValue)'; known: \(known.sorted().joined(separator: ", "))")
    }
    let defaults = TokenizerOptions()
    normalize = try container.decodeIfPresent(Normalization.self, forKey: AnyKey("normalize")) ?? defaults.normalize
    punctuation = try container.decodeIfPresent(Punctuation.self, forKey: AnyKey("punctuation")) ?? defaults.punctuation
    locale = try container.decodeIfPresent(String.self, forKey: AnyKey("locale")) ?? defaults.locale
  }
}

struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ string: String) { stringValue = string }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { return nil }
}
