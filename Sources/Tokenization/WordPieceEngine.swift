import CICU

/// BERT's tokenisation as the `tokenizers` package runs it (`BertNormalizer`, `BertPreTokenizer`, `WordPiece`), against
/// a vocabulary. Used under its `Tokenizer`'s lock only (the NFD normaliser keeps scratch space).
///
/// 1. Clean: NUL, U+FFFD and every character of category C* other than tab, newline and carriage return are
///    dropped (they join what is around them); white space (tab, newline, carriage return, `White_Space`) separates
///    words; each CJK ideograph is a word of its own.
/// 2. Per word, when asked: NFD and drop non-spacing marks (Mn), then lowercase each character (full mapping).
/// 3. Split at punctuation (Unicode P* and ASCII `!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`), each punctuation character alone.
/// 4. WordPiece: greedy longest match from the left, pieces after the first carrying the continuation prefix; a word
///    longer than the limit, or with no full cover, becomes the unknown token.
///
/// Every piece of a word points at the word's bytes in the original text (exactly at its part when the word is
/// ASCII), so inserting before or after a token always lands at a word boundary.
// @unchecked: the pointer is only used under the owning Tokenizer's lock.
struct WordPieceEngine: ~Copyable, @unchecked Sendable {
  let options: TokenizerOptions
  let vocabulary: Set<String>
  let unknownToken: String
  let decomposer: OpaquePointer?
  /// False: each word (after steps 1–3) is handed on whole, as `WordPieceTrainer` counts them.
  let splitsWords: Bool

  init(options: TokenizerOptions, vocabulary: Vocabulary, splitsWords: Bool = true) throws(TokenizationError) {
    self.options = options
    self.splitsWords = splitsWords
    self.vocabulary = Set(vocabulary.tokens)
    unknownToken = vocabulary.tokens[vocabulary.unknownID]
    var decomposer: OpaquePointer?
    if options.stripAccents {
      var status: Int32 = 0
      guard let opened = bl_text_mapper_open(Int32(BL_MAP_NFD), &status), status <= 0 else {
        throw .icu(operation: "NFD normaliser", code: String(cString: bl_error_name(status)))
      }
      decomposer = OpaquePointer(opened)
    }
    self.decomposer = decomposer
  }

  deinit {
    if let decomposer { bl_normalizer_close(UnsafeMutableRawPointer(decomposer)) }
  }

  mutating func segment(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (TokenKind, Range<Int>, UnsafeBufferPointer<UInt8>) -> Void) {
    var word: [Unicode.Scalar] = []
    var wordStart = 0, wordEnd = 0, wordIsASCII = true
    func flush(_ engine: inout WordPieceEngine) {
      if !word.isEmpty { engine.emit(word, range: wordStart..<wordEnd, exact: wordIsASCII, body) }
      word.removeAll(keepingCapacity: true)
      wordIsASCII = true
    }
    var offset = 0
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    decoding: while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar):
        let width = UTF8.width(scalar)
        defer { offset += width }
        if Self.isSeparator(scalar) {
          flush(&self)
        } else if Self.isDropped(scalar) {
          wordIsASCII = false  // the word's bytes no longer line up with its characters
        } else if Self.isCJK(scalar) {
          flush(&self)
          word = [scalar]
          wordStart = offset
          wordEnd = offset + width
          wordIsASCII = false
          flush(&self)
        } else {
          if word.isEmpty { wordStart = offset }
          word.append(scalar)
          wordEnd = offset + width
          if scalar.value >= 0x80 { wordIsASCII = false }
        }
      case .emptyInput: break decoding
      case .error: preconditionFailure("the tokenizer takes valid UTF-8 (UTF8Repair makes it so)")
      }
    }
    flush(&self)
  }

  /// Normalises one word, splits it at punctuation and hands on its WordPiece pieces.
  private mutating func emit(
    _ word: [Unicode.Scalar], range: Range<Int>, exact: Bool, _ body: (TokenKind, Range<Int>, UnsafeBufferPointer<UInt8>) -> Void
  ) {
    var characters = word
    if options.stripAccents, !exact { characters = decomposed(characters).filter { $0.properties.generalCategory != .nonspacingMark } }
    if options.lowercase {
      characters = characters.flatMap { $0.value < 0x80 ? [Self.lowercasedASCII($0)] : Array($0.properties.lowercaseMapping.unicodeScalars) }
    }
    // ASCII words keep one byte a character, so each part knows its own bytes.
    var partStart = 0
    func part(_ slice: ArraySlice<Unicode.Scalar>) {
      let partRange = exact ? (range.lowerBound + slice.startIndex)..<(range.lowerBound + slice.endIndex) : range
      for piece in pieces(of: Array(slice)) {
        var text = piece
        text.withUTF8 { body(TokenKind(classifying: piece.unicodeScalars), partRange, $0) }
      }
    }
    for (index, scalar) in characters.enumerated() where Self.isPunctuation(scalar) {
      if partStart < index { part(characters[partStart..<index]) }
      part(characters[index..<(index + 1)])
      partStart = index + 1
    }
    if partStart < characters.count { part(characters[partStart...]) }
  }

  /// Greedy longest-match-first WordPiece; the unknown token when a piece cannot be found or the word is too long.
  func pieces(of word: [Unicode.Scalar]) -> [String] {
    guard word.count <= options.maximumCharactersPerWord else { return [unknownToken] }
    guard splitsWords else { return [String(String.UnicodeScalarView(word))] }
    var result: [String] = []
    var start = 0
    while start < word.count {
      var end = word.count
      var found: String?
      while start < end {
        var candidate = String(String.UnicodeScalarView(word[start..<end]))
        if start > 0 { candidate = options.continuationPrefix + candidate }
        if vocabulary.contains(candidate) {
          found = candidate
          break
        }
        end -= 1
      }
      guard let found else { return [unknownToken] }
      result.append(found)
      start = end
    }
    return result
  }

  private mutating func decomposed(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var utf8 = Array(String(String.UnicodeScalarView(scalars)).utf8)
    var length: Int32 = 0, status: Int32 = 0
    guard let output = utf8.withUnsafeMutableBufferPointer({
      bl_normalizer_normalize(UnsafeMutableRawPointer(decomposer!), $0.baseAddress, Int32($0.count), &length, &status)
    }) else { preconditionFailure("ICU NFD failed: \(String(cString: bl_error_name(status)))") }
    return Array(String(decoding: UnsafeBufferPointer(start: output, count: Int(length)), as: UTF8.self).unicodeScalars)
  }

  private static func lowercasedASCII(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
    (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 0x20)! : scalar
  }

  /// Tab, newline, carriage return, and `White_Space` characters that are not controls.
  static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09, 0x0A, 0x0D, 0x20: return true
    case 0..<0x80: return false
    default: return !isOther(scalar) && scalar.properties.isWhitespace
    }
  }

  /// NUL, U+FFFD and C* characters other than tab, newline and carriage return.
  static func isDropped(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09, 0x0A, 0x0D: return false
    case 0, 0xFFFD: return true
    default: return isOther(scalar)
    }
  }

  private static func isOther(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned: true
    default: false
    }
  }

  /// The CJK Unified Ideographs blocks BERT isolates (not Hangul, Hiragana or Katakana).
  static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F, 0x2B820...0x2CEAF,
      0xF900...0xFAFF, 0x2F800...0x2FA1F: true
    default: false
    }
  }

  /// BERT's punctuation: Unicode P* and every ASCII character that is neither a letter, a digit nor a space.
  static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 33...47, 58...64, 91...96, 123...126: return true
    default:
      switch scalar.properties.generalCategory {
      case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
        .finalPunctuation, .otherPunctuation: return true
      default: return false
      }
    }
  }
}
