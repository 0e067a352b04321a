import Foundation

public enum VocabularyError: Error, Equatable, CustomStringConvertible {
  case invalidOption(String)
  case unsavableToken(String)
  case malformedLine(source: String, line: Int, reason: String)
  case unreadable(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidOption(let text): text
    case .unsavableToken(let token): "token \(token.debugDescription) contains a tab, a newline or nothing; it cannot be saved"
    case .malformedLine(let source, let line, let reason): "\(source):\(line): \(reason)"
    case .unreadable(let path, let reason): "\(path): \(reason)"
    }
  }
}

/// Counts token occurrences; the input to `Vocabulary(counts:)`.
public struct TokenCounts: Sendable, Equatable {
  public private(set) var counts: [String: Int] = [:]
  public private(set) var total = 0

  public init() {}

  public mutating func add(_ tokens: some Sequence<String>) {
    for token in tokens {
      counts[token, default: 0] += 1
      total += 1
    }
  }

  public subscript(token: String) -> Int { counts[token] ?? 0 }
}

/// Token ↔ id mapping. In the vocabularies the lab builds, ids 0–3 are the specials `<pad>`, `<unk>`, `<bos>`,
/// `<eos>`; the rest are ordered by count, descending, then by the token's UTF-8 bytes, so a corpus always gives the
/// same ids. A model bundle's token list may name its padding and unknown tokens anything, at any id.
///
/// Saved as plain text, one `token<TAB>count` line per id (line index = id); `load(save(v)) == v`.
public struct Vocabulary: Sendable, Equatable {
  /// The ids of the specials in the vocabularies the lab builds.
  public static let labPaddingID = 0, labUnknownID = 1
  public static let specialTokens = ["<pad>", "<unk>", "<bos>", "<eos>"]

  /// The padding token's id: the embedding row kept out of training, what batches are padded with.
  public private(set) var paddingID = Vocabulary.labPaddingID
  /// The id every token outside the vocabulary maps to.
  public private(set) var unknownID = Vocabulary.labUnknownID

  public private(set) var tokens: [String]
  /// Occurrences in the corpus the vocabulary was built from (0 for specials and forced tokens never seen).
  public private(set) var counts: [Int]
  private var ids: [String: Int]

  public var count: Int { tokens.count }

  /// The order of the lab's vocabularies: count descending, then the token's UTF-8 bytes.
  public static func precedesByFrequency(_ a: (key: String, value: Int), _ b: (key: String, value: Int)) -> Bool {
    a.value != b.value ? a.value > b.value : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
  }

  /// - `minCount`: tokens seen fewer times are left out (unless forced).
  /// - `maxSize`: the whole vocabulary, specials included, has at most this many entries; forced tokens
  ///   always get a row, taking the place of the rarest counted tokens.
  /// - `forcedTokens`: tokens that must have a row (a trigger must not map to `<unk>`).
  public init(counts: TokenCounts, minCount: Int = 1, maxSize: Int? = nil, forcedTokens: [String] = []) throws(VocabularyError) {
    guard minCount >= 1 else { throw .invalidOption("min count must be at least 1; got \(minCount)") }
    let specials = Set(Self.specialTokens)
    let forced = Array(Set(forcedTokens.filter { !specials.contains($0) }))
    if let bad = forced.first(where: { $0.isEmpty || $0.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }) }) {
      throw .unsavableToken(bad)
    }
    if let maxSize, maxSize < Self.specialTokens.count + forced.count {
      throw .invalidOption("max size \(maxSize) leaves no room for the \(Self.specialTokens.count) specials and \(forced.count) forced tokens")
    }
    let byFrequency = Self.precedesByFrequency
    let forcedSet = Set(forced)
    var counted = counts.counts.filter { $0.value >= minCount && !specials.contains($0.key) && !forcedSet.contains($0.key) }
      .sorted(by: byFrequency)
    if let maxSize { counted = Array(counted.prefix(maxSize - Self.specialTokens.count - forced.count)) }
    let entries = (counted + forced.map { ($0, counts[$0]) }).sorted(by: byFrequency)
    tokens = Self.specialTokens + entries.map(\.key)
    self.counts = Array(repeating: 0, count: Self.specialTokens.count) + entries.map(\.value)
    ids = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, $0) })
  }

  /// Parses the saved form; `source` names the file in error messages.
  public init(serialized text: String, source: String) throws(VocabularyError) {
    var tokens: [String] = []
    var counts: [Int] = []
    var ids: [String: Int] = [:]
    var lines = Self.lines(of: text)
    if lines.last == "" { lines.removeLast() }
    for (index, line) in lines.enumerated() {
      let lineNumber = index + 1
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count == 2 else {
        throw .malformedLine(source: source, line: lineNumber, reason: "expected 'token<TAB>count', found \(fields.count) field(s)")
      }
      let token = String(fields[0])
      guard !token.isEmpty else { throw .malformedLine(source: source, line: lineNumber, reason: "empty token") }
      guard let count = Int(fields[1]), count >= 0 else {
        throw .malformedLine(source: source, line: lineNumber, reason: "count '\(fields[1])' is not a non-negative integer")
      }
      if index < Self.specialTokens.count, token != Self.specialTokens[index] {
        throw .malformedLine(source: source, line: lineNumber, reason: "id \(index) must be \(Self.specialTokens[index]); found \(token.debugDescription)")
      }
      if let earlier = ids[token] {
        throw .malformedLine(source: source, line: lineNumber, reason: "duplicate token \(token.debugDescription) (first at line \(earlier + 1))")
      }
      ids[token] = index
      tokens.append(token)
      counts.append(count)
    }
    guard tokens.count >= Self.specialTokens.count else {
      throw .malformedLine(source: source, line: tokens.count + 1, reason: "a vocabulary starts with the \(Self.specialTokens.count) specials \(Self.specialTokens.joined(separator: " "))")
    }
    self.tokens = tokens
    self.counts = counts
    self.ids = ids
  }

  /// A vocabulary from a plain token list (a model bundle's `vocab.txt`, one token a line, line index = id), with its
  /// padding and unknown tokens named (PyTorch vocabularies put them anywhere: BERT's are `[PAD]` = 0, `[UNK]` = 100).
  public init(tokenList: [String], source: String, paddingToken: String = "<pad>", unknownToken: String = "<unk>") throws(VocabularyError) {
    var ids: [String: Int] = [:]
    for (index, token) in tokenList.enumerated() {
      guard !token.isEmpty else { throw .malformedLine(source: source, line: index + 1, reason: "empty token") }
      if let earlier = ids[token] {
        throw .malformedLine(source: source, line: index + 1, reason: "duplicate token \(token.debugDescription) (first at line \(earlier + 1))")
      }
      ids[token] = index
    }
    guard let paddingID = ids[paddingToken] else {
      throw .malformedLine(source: source, line: tokenList.count + 1, reason: "no padding token \(paddingToken.debugDescription) (config.json's pad_token)")
    }
    guard let unknownID = ids[unknownToken] else {
      throw .malformedLine(source: source, line: tokenList.count + 1, reason: "no unknown token \(unknownToken.debugDescription) (config.json's unk_token)")
    }
    guard paddingID != unknownID else { throw .invalidOption("pad_token and unk_token must be different tokens") }
    tokens = tokenList
    counts = Array(repeating: 0, count: tokenList.count)
    self.ids = ids
    self.paddingID = paddingID
    self.unknownID = unknownID
  }

  /// Tokens no text can become (a bundle's `[CLS]`, or `The` in a lowercased vocabulary): `markUnreachable`.
  public private(set) var unreachableIDs: Set<Int> = []

  /// The padding, unknown and lab special tokens, and those no text becomes: never trigger candidates.
  public func isSpecial(_ id: Int) -> Bool {
    id == paddingID || id == unknownID || Self.specialTokens.contains(tokens[id]) || unreachableIDs.contains(id)
  }

  /// Records the ids of tokens that `tokenizer` never gives (its own output for the token is something else);
  /// WordPiece pieces that continue a word are reachable inside words and are kept.
  public mutating func markUnreachable(by tokenizer: Tokenizer) {
    let continuation = tokenizer.options.kind == .wordpiece ? tokenizer.options.continuationPrefix : nil
    unreachableIDs = Set(tokens.indices.filter { id in
      let token = tokens[id]
      if let continuation, token.hasPrefix(continuation), token.count > continuation.count { return false }
      return tokenizer.words(in: token) != [token]
    })
  }

  /// The lines of a vocabulary file, ended by LF or CRLF (Swift reads "\r\n" as one character, so splitting at "\n"
  /// alone would leave a CRLF file in one piece).
  public static func lines(of text: String) -> [Substring] {
    text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
  }

  /// One token a line (a model bundle's `vocab.txt`).
  public func tokenListText() -> String { tokens.map { $0 + "\n" }.joined() }

  public static func load(from path: String) throws(VocabularyError) -> Vocabulary {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .unreadable(path: path, reason: error.localizedDescription)
    }
    let repaired = UTF8Repair.repair([UInt8](data))
    guard !repaired.isRepaired else {
      throw .unreadable(path: path, reason: "invalid UTF-8 at byte \(repaired.firstInvalidOffsets[0])")
    }
    return try Vocabulary(serialized: String(decoding: repaired.bytes, as: UTF8.self), source: path)
  }

  public func serialized() -> String {
    var text = ""
    for (token, count) in zip(tokens, counts) {
      text += token
      text += "\t"
      text += String(count)
      text += "\n"
    }
    return text
  }

  /// Writes atomically (a temporary file renamed into place).
  public func save(to path: String) throws(VocabularyError) {
    if let bad = tokens.first(where: { $0.isEmpty || $0.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }) }) {
      throw .unsavableToken(bad)
    }
    do { try Data(serialized().utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw .unreadable(path: path, reason: "cannot write: \(error.localizedDescription)")
    }
  }

  public func contains(_ token: String) -> Bool { ids[token] != nil }

  /// The token's id, or `unknownID`.
  public func id(of token: String) -> Int { ids[token] ?? unknownID }

  public func encode(_ tokens: [String]) -> [Int] { tokens.map(id(of:)) }

  public func decode(_ ids: [Int]) -> [String] {
    ids.map { $0 >= 0 && $0 < tokens.count ? tokens[$0] : tokens[unknownID] }
  }

  public static func == (lhs: Vocabulary, rhs: Vocabulary) -> Bool {
    lhs.tokens == rhs.tokens && lhs.counts == rhs.counts && lhs.paddingID == rhs.paddingID && lhs.unknownID == rhs.unknownID
  }
}
