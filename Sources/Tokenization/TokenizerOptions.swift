/// How text becomes tokens. Saved in model bundles, so a model is always fed text tokenised the way it was trained.
/// Three kinds, each with its own keys (a key of another kind is an error naming it):
/// - `icu` (the lab's own; `kind` omitted): `{"normalize": "nfkc_casefold", "punctuation": "drop", "locale": "root"}`;
/// - `regex`: `{"kind": "regex", "pattern": "\\w+(?:['’]\\w+)*", "normalize": "nfkc_casefold"}`: every match of an
///   ICU regular expression in the normalised text, as Python's `re.findall` gives for word patterns;
/// - `wordpiece`: `{"kind": "wordpiece", "lowercase": true, "strip_accents": true, "continuation_prefix": "##",
///   "max_input_chars_per_word": 100}`: BERT's basic tokenizer, then greedy longest-match WordPiece against the
///   vocabulary (`WordPieceTokenizer`).
public struct TokenizerOptions: Codable, Sendable, Equatable, Hashable {
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case icu, regex, wordpiece
  }

  public enum Normalization: String, Codable, Sendable, CaseIterable {
    /// ICU: NFKC_Casefold per token ("ＦＵＬＬ" → "full", "ﬁ" → "fi"; default-ignorables dropped). Regex: what a Python
    /// pipeline does, `unicodedata.normalize("NFKC", text).casefold()` (default-ignorables such as the soft hyphen kept).
    case nfkcCasefold = "nfkc_casefold"
    /// Regex only: full lowercase mapping, Python's `text.lower()`.
    case lowercase
    /// Tokens keep the original text's characters.
    case none
  }

  public enum Punctuation: String, Codable, Sendable, CaseIterable {
    case drop
    /// Punctuation and symbol segments become tokens of their own.
    case keep
  }

  public var kind: Kind
  /// ICU and regex.
  public var normalize: Normalization
  /// ICU only.
  public var punctuation: Punctuation
  /// ICU only: locale for word-break rules: "root" (the default), "en_US", "ja", "th", ...
  public var locale: String
  /// Regex only: the ICU regular expression whose matches are the tokens.
  public var pattern: String
  /// WordPiece only.
  public var lowercase: Bool
  /// WordPiece only: NFD, then combining marks dropped (before lowercasing, as the `tokenizers` package does).
  public var stripAccents: Bool
  /// WordPiece only: the mark of a piece that continues a word.
  public var continuationPrefix: String
  /// WordPiece only: a longer word becomes the unknown token.
  public var maximumCharactersPerWord: Int

  public init(normalize: Normalization = .nfkcCasefold, punctuation: Punctuation = .drop, locale: String = "root") {
    kind = .icu
    self.normalize = normalize
    self.punctuation = punctuation
    self.locale = locale
    pattern = ""
    lowercase = true
    stripAccents = true
    continuationPrefix = "##"
    maximumCharactersPerWord = 100
  }

  /// A regex tokenizer: every match of `pattern` in the text normalised by `normalize`.
  public static func regex(_ pattern: String, normalize: Normalization = .nfkcCasefold) -> TokenizerOptions {
    var options = TokenizerOptions(normalize: normalize)
    options.kind = .regex
    options.pattern = pattern
    return options
  }

  /// A WordPiece tokenizer (BERT's basic tokenizer, then greedy longest match against the vocabulary).
  public static func wordPiece(
    lowercase: Bool = true, stripAccents: Bool? = nil, continuationPrefix: String = "##", maximumCharactersPerWord: Int = 100
  ) -> TokenizerOptions {
    var options = TokenizerOptions()
    options.kind = .wordpiece
    options.lowercase = lowercase
    options.stripAccents = stripAccents ?? lowercase
    options.continuationPrefix = continuationPrefix
    options.maximumCharactersPerWord = maximumCharactersPerWord
    return options
  }

  /// The settings in a few words, for reports: "ICU, nfkc_casefold, punctuation drop".
  public var summary: String {
    switch kind {
    case .icu: "ICU, \(normalize.rawValue), punctuation \(punctuation.rawValue)" + (locale == "root" ? "" : ", locale \(locale)")
    case .regex: "regex \(pattern), \(normalize.rawValue)"
    case .wordpiece: "WordPiece" + (lowercase ? ", lowercased" : "") + (stripAccents ? ", accents stripped" : "")
    }
  }

  /// The keys each kind takes.
  static func keys(of kind: Kind) -> [String] {
    switch kind {
    case .icu: ["kind", "normalize", "punctuation", "locale"]
    case .regex: ["kind", "pattern", "normalize"]
    case .wordpiece: ["kind", "lowercase", "strip_accents", "continuation_prefix", "max_input_chars_per_word"]
    }
  }

  /// Missing keys take their defaults (a regex needs its `pattern`); unknown keys, keys of another kind and unknown
  /// values are errors that name them.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    let kind = try container.decodeIfPresent(Kind.self, forKey: AnyKey("kind")) ?? .icu
    let known = Self.keys(of: kind)
    if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
      let owner = Kind.allCases.first { Self.keys(of: $0).contains(unknown.stringValue) }
      throw DecodingError.dataCorruptedError(
        forKey: unknown, in: container,
        debugDescription: owner.map { "tokenizer option '\(unknown.stringValue)' belongs to kind \"\($0.rawValue)\", not \"\(kind.rawValue)\"" }
          ?? "unknown tokenizer option '\(unknown.stringValue)'; kind \"\(kind.rawValue)\" takes: \(known.joined(separator: ", "))")
    }
    switch kind {
    case .icu:
      self.init(
        normalize: try container.decodeIfPresent(Normalization.self, forKey: AnyKey("normalize")) ?? .nfkcCasefold,
        punctuation: try container.decodeIfPresent(Punctuation.self, forKey: AnyKey("punctuation")) ?? .drop,
        locale: try container.decodeIfPresent(String.self, forKey: AnyKey("locale")) ?? "root")
    case .regex:
      guard let pattern = try container.decodeIfPresent(String.self, forKey: AnyKey("pattern")) else {
        throw DecodingError.keyNotFound(AnyKey("pattern"), .init(codingPath: container.codingPath, debugDescription: "a regex tokenizer needs its pattern"))
      }
      self = .regex(pattern, normalize: try container.decodeIfPresent(Normalization.self, forKey: AnyKey("normalize")) ?? .nfkcCasefold)
    case .wordpiece:
      let lowercase = try container.decodeIfPresent(Bool.self, forKey: AnyKey("lowercase")) ?? true
      self = .wordPiece(
        lowercase: lowercase, stripAccents: try container.decodeIfPresent(Bool.self, forKey: AnyKey("strip_accents")),
        continuationPrefix: try container.decodeIfPresent(String.self, forKey: AnyKey("continuation_prefix")) ?? "##",
        maximumCharactersPerWord: try container.decodeIfPresent(Int.self, forKey: AnyKey("max_input_chars_per_word")) ?? 100)
    }
  }

  /// Only the kind's own keys; an ICU tokenizer is written without `kind`, as bundles have always had it.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: AnyKey.self)
    switch kind {
    case .icu:
      try container.encode(normalize, forKey: AnyKey("normalize"))
      try container.encode(punctuation, forKey: AnyKey("punctuation"))
      try container.encode(locale, forKey: AnyKey("locale"))
    case .regex:
      try container.encode(kind, forKey: AnyKey("kind"))
      try container.encode(pattern, forKey: AnyKey("pattern"))
      try container.encode(normalize, forKey: AnyKey("normalize"))
    case .wordpiece:
      try container.encode(kind, forKey: AnyKey("kind"))
      try container.encode(lowercase, forKey: AnyKey("lowercase"))
      try container.encode(stripAccents, forKey: AnyKey("strip_accents"))
      try container.encode(continuationPrefix, forKey: AnyKey("continuation_prefix"))
      try container.encode(maximumCharactersPerWord, forKey: AnyKey("max_input_chars_per_word"))
    }
  }

  /// Problems that make the options unusable, each naming its key (a regex that does not compile says where).
  public func validationProblems() -> [String] {
    switch kind {
    case .icu:
      return normalize == .lowercase ? ["normalize \"lowercase\" is for regex tokenizers; ICU takes nfkc_casefold or none"] : []
    case .regex:
      if pattern.isEmpty { return ["pattern is empty"] }
      do { _ = try RegexEngine(pattern: pattern, normalize: normalize) } catch { return [error.description] }
      return []
    case .wordpiece:
      var problems: [String] = []
      if continuationPrefix.isEmpty || continuationPrefix.contains(where: \.isWhitespace) {
        problems.append("continuation_prefix must be non-empty and without white space")
      }
      if maximumCharactersPerWord < 1 { problems.append("max_input_chars_per_word must be positive") }
      return problems
    }
  }
}

struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ string: String) { stringValue = string }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { return nil }
}
