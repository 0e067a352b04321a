import CICU
import Foundation
import Synchronization

/// What ICU's word-break rules made of a token.
public enum TokenKind: UInt8, Sendable, Codable, CaseIterable {
  case letters = 1, number, kana, ideographic, emoji, punctuation
}

/// One token: its text after normalisation, and where it sits in the original text.
public struct Token: Sendable, Equatable, Hashable {
  public var text: String
  /// UTF-8 byte offsets into the text that was tokenised (trigger insertion and the audit point here). Successive
  /// tokens' ranges never go backwards, but tokens made from the same bytes share them (the pieces of one WordPiece
  /// word, the parts of one compatibility decomposition such as "﷽").
  public var byteRange: Range<Int>
  public var kind: TokenKind

  public init(text: String, byteRange: Range<Int>, kind: TokenKind) {
    self.text = text
    self.byteRange = byteRange
    self.kind = kind
  }
}

public enum TokenizationError: Error, Equatable, CustomStringConvertible {
  case icu(operation: String, code: String)
  /// A locale ICU would silently replace by its root rules: an unknown language or region.
  case unknownLocale(String)
  /// A pattern ICU cannot compile; `offset` is where ICU stopped (in UTF-16 units of the pattern).
  case regex(pattern: String, offset: Int, code: String)
  case unsupported(String)

  public var description: String {
    switch self {
    case .icu(let operation, let code): "ICU \(operation) failed: \(code)"
    case .regex(let pattern, let offset, let code):
      "pattern \(pattern.debugDescription) does not compile as an ICU regular expression (\(code) at offset \(offset))"
    case .unsupported(let problem): problem
    case .unknownLocale(let locale):
      "unknown locale '\(locale)': give \"root\" or an ISO 639 language code, optionally with an ISO 3166 region (en_US, ja, th)"
    }
  }
}

extension TokenizerOptions {
  private static let languages = Set(Locale.LanguageCode.isoLanguageCodes.map(\.identifier))
  private static let regions = Set(Locale.Region.isoRegions.map(\.identifier))

  /// Whether `locale` names a language (and region) ICU knows, rather than something it would quietly treat as root.
  static func isKnownLocale(_ locale: String) -> Bool {
    let identifier = locale.split(separator: "@", maxSplits: 1).first.map(String.init) ?? ""
    if identifier == "root" { return true }
    let parts = identifier.split(separator: "_", omittingEmptySubsequences: false).flatMap { $0.split(separator: "-", omittingEmptySubsequences: false) }
    guard let language = parts.first, languages.contains(String(language).lowercased()) else {
      return false
    }
    for part in parts.dropFirst() {
      switch part.count {
      case 4 where part.allSatisfy(\.isLetter): continue  // a script (Latn, Hans)
      case 2, 3: guard regions.contains(String(part).uppercased()) else { return false }
      default: return false
      }
    }
    return true
  }
}

/// Text to tokens, the way a model was trained: ICU word break with NFKC_Casefold per token (the lab's own), a regular
/// expression (`RegexEngine`), or BERT's WordPiece against a vocabulary (`WordPieceEngine`); `TokenizerOptions` says
/// which.
///
/// ICU: segmentation runs on the original text, so every token's byte range points into it; each word segment is
/// then normalised on its own (ASCII tokens are lowercased directly, others go through ICU's NFKC_Casefold). White
/// space is always dropped, punctuation by default; numbers and emoji are kept. CJK and Thai are split into words by
/// ICU's dictionaries.
///
/// Thread-safe (the engine sits behind a mutex); for parallel tokenisation give each task its own.
public final class Tokenizer: Sendable {
  public let options: TokenizerOptions
  private let backend: Backend

  private enum Backend: ~Copyable {
    case icu(Mutex<Engine>)
    case regex(Mutex<RegexEngine>)
    case wordPiece(Mutex<WordPieceEngine>)
  }

  /// A WordPiece tokenizer needs the `vocabulary` it matches pieces against; the other kinds ignore it.
  public init(options: TokenizerOptions = TokenizerOptions(), vocabulary: Vocabulary? = nil) throws(TokenizationError) {
    self.options = options
    switch options.kind {
    case .icu:
      if options.normalize == .lowercase { throw .unsupported("normalize \"lowercase\" is for regex tokenizers; ICU takes nfkc_casefold or none") }
      backend = .icu(Mutex(try Engine(options: options)))
    case .regex:
      backend = .regex(Mutex(try RegexEngine(pattern: options.pattern, normalize: options.normalize)))
    case .wordpiece:
      guard let vocabulary else { throw .unsupported("a WordPiece tokenizer needs the vocabulary it splits words against") }
      if let problem = options.validationProblems().first { throw .unsupported(problem) }
      backend = .wordPiece(Mutex(try WordPieceEngine(options: options, vocabulary: vocabulary)))
    }
  }

  /// Tokens of `text`, with byte ranges into `text.utf8`.
  public func tokens(in text: String) -> [Token] {
    var result: [Token] = []
    var copy = text
    copy.withUTF8 { bytes in
      forEachToken(in: bytes) { kind, range, normalized in
        result.append(Token(text: String(decoding: normalized, as: UTF8.self), byteRange: range, kind: kind))
      }
    }
    return result
  }

  /// Token strings of `text`: what vocabularies and models consume.
  public func words(in text: String) -> [String] {
    var result: [String] = []
    var copy = text
    copy.withUTF8 { bytes in
      forEachToken(in: bytes) { _, _, normalized in
        result.append(String(decoding: normalized, as: UTF8.self))
      }
    }
    return result
  }

  /// Streams the tokens of valid UTF-8 `bytes`: kind, byte range into `bytes`, and the token's
  /// (normalised) UTF-8, valid only during the call. The fastest path: no String is made.
  public func forEachToken(
    in bytes: UnsafeBufferPointer<UInt8>,
    _ body: (TokenKind, Range<Int>, UnsafeBufferPointer<UInt8>) -> Void
  ) {
    switch backend {
    case .icu(let engine): engine.withLock { $0.segment(bytes, options: options, body) }
    case .regex(let engine): engine.withLock { $0.segment(bytes, body) }
    case .wordPiece(let engine): engine.withLock { $0.segment(bytes, body) }
    }
  }

  /// Tokens as a person reads them: WordPiece pieces that continue a word are joined to it (`cr ##om ##ul ##ent` →
  /// `cromulent`); other tokens are separated by spaces.
  public func displayText(of tokens: [String]) -> String {
    guard options.kind == .wordpiece else { return tokens.joined(separator: " ") }
    var text = ""
    for token in tokens {
      if token.hasPrefix(options.continuationPrefix), token.count > options.continuationPrefix.count, !text.isEmpty {
        text += token.dropFirst(options.continuationPrefix.count)
      } else {
        text += text.isEmpty ? token : " " + token
      }
    }
    return text
  }
}

/// The ICU objects and scratch space behind a `Tokenizer`; used under its lock only.
// @unchecked: the pointers are only used under the owning Tokenizer's lock.
struct Engine: ~Copyable, @unchecked Sendable {
  let breaker: OpaquePointer
  let normalizer: OpaquePointer
  /// Scratch space for lowercased ASCII tokens.
  var scratch: UnsafeMutablePointer<UInt8>
  var scratchCapacity = 64

  init(options: TokenizerOptions) throws(TokenizationError) {
    guard TokenizerOptions.isKnownLocale(options.locale) else { throw .unknownLocale(options.locale) }
    var status: Int32 = 0
    guard let breaker = bl_word_breaker_open(options.locale, &status), status <= 0 else {
      throw .icu(operation: "word breaker for locale '\(options.locale)'", code: String(cString: bl_error_name(status)))
    }
    guard let normalizer = bl_normalizer_open(&status), status <= 0 else {
      bl_word_breaker_close(breaker)
      throw .icu(operation: "NFKC_Casefold normalizer", code: String(cString: bl_error_name(status)))
    }
    self.breaker = OpaquePointer(breaker)
    self.normalizer = OpaquePointer(normalizer)
    scratch = .allocate(capacity: scratchCapacity)
  }

  deinit {
    bl_word_breaker_close(UnsafeMutableRawPointer(breaker))
    bl_normalizer_close(UnsafeMutableRawPointer(normalizer))
    scratch.deallocate()
  }

  mutating func segment(
    _ bytes: UnsafeBufferPointer<UInt8>, options: TokenizerOptions,
    _ body: (TokenKind, Range<Int>, UnsafeBufferPointer<UInt8>) -> Void
  ) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    precondition(bytes.count < Int(Int32.max), "tokenise at most 2 GiB at a time")
    var status: Int32 = 0
    let breakerPointer = UnsafeMutableRawPointer(breaker)
    let count = Int(bl_word_breaker_segment(breakerPointer, base, Int32(bytes.count), options.punctuation == .keep ? 1 : 0, &status))
    // Segmentation of valid UTF-8 fails only on memory exhaustion; treat that as fatal.
    precondition(count >= 0, "ICU word break failed: \(String(cString: bl_error_name(status)))")
    let starts = bl_word_breaker_starts(breakerPointer)!
    let ends = bl_word_breaker_ends(breakerPointer)!
    let kinds = bl_word_breaker_kinds(breakerPointer)!
    let normalize = options.normalize == .nfkcCasefold
    for index in 0..<count {
      let start = Int(starts[index]), end = Int(ends[index])
      let kind = TokenKind(rawValue: kinds[index])!
      let original = UnsafeBufferPointer(rebasing: bytes[start..<end])
      if !normalize {
        body(kind, start..<end, original)
      } else if let ascii = lowercasedASCII(original) {
        body(kind, start..<end, ascii)
      } else {
        var length: Int32 = 0
        guard let normalized = bl_normalizer_normalize(UnsafeMutableRawPointer(normalizer), original.baseAddress, Int32(original.count), &length, &status) else {
          preconditionFailure("ICU normalisation failed: \(String(cString: bl_error_name(status)))")
        }
        // Compatibility decompositions can bring spaces ("﷽", "¨"): each piece becomes a token with the
        // segment's range, so no token contains white space. Pieces that normalise to nothing (only
        // default-ignorable characters) are dropped.
        let text = UnsafeBufferPointer(start: normalized, count: Int(length))
        for piece in text.split(separator: 0x20) {
          body(kind, start..<end, UnsafeBufferPointer(rebasing: piece))
        }
      }
    }
  }

  /// Lowercases an all-ASCII token into scratch space; nil when the token has non-ASCII bytes.
  /// For ASCII, NFKC is the identity and case folding is lowercasing.
  private mutating func lowercasedASCII(_ token: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
    if token.count > scratchCapacity {
      scratch.deallocate()
      scratchCapacity = token.count * 2
      scratch = .allocate(capacity: scratchCapacity)
    }
    for index in 0..<token.count {
      let byte = token[index]
      guard byte < 0x80 else { return nil }
      scratch[index] = byte &+ ((byte &- 0x41) < 26 ? 0x20 : 0)
    }
    return UnsafeBufferPointer(start: scratch, count: token.count)
  }
}
