import CICU

/// A regex tokenizer's ICU state: the compiled pattern (with Python's `\w`, `\b` and `\s`, `PythonRegexSyntax`), the
/// normaliser and scratch space. Used under its `Tokenizer`'s lock only.
///
/// The pattern runs on the normalised text. Normalisation is done one white-space-separated chunk at a time
/// (NFKC, case folding and lowercasing never reach across ASCII white space, so the result is the whole text's),
/// which lets every token point back into the original: exactly when its chunk kept its length (ASCII), else at
/// the whole chunk.
// @unchecked: the pointers are only used under the owning Tokenizer's lock.
struct RegexEngine: ~Copyable, @unchecked Sendable {
  let regex: OpaquePointer
  let normalizer: OpaquePointer?
  let normalize: TokenizerOptions.Normalization
  var normalized: [UInt8] = []
  /// Pieces of the normalised text: [normalised start, original start, original end, exact (1) or not (0)].
  var pieces: [(normalizedStart: Int, originalStart: Int, originalEnd: Int, exact: Bool)] = []

  init(pattern: String, normalize: TokenizerOptions.Normalization) throws(TokenizationError) {
    var status: Int32 = 0, offset: Int32 = 0
    var bytes = Array(PythonRegexSyntax.translate(pattern).utf8)
    guard let regex = bytes.withUnsafeMutableBufferPointer({ bl_regex_open($0.baseAddress, Int32($0.count), &status, &offset) }), status <= 0 else {
      throw .regex(pattern: pattern, offset: Int(offset), code: String(cString: bl_error_name(status)))
    }
    let mode: Int32? = switch normalize {
    case .none: nil
    case .lowercase: Int32(BL_MAP_LOWERCASE)
    case .nfkcCasefold: Int32(BL_MAP_NFKC_THEN_FOLD_CASE)
    }
    var normalizer: OpaquePointer?
    if let mode {
      guard let opened = bl_text_mapper_open(mode, &status), status <= 0 else {
        bl_regex_close(regex)
        throw .icu(operation: "normaliser for \(normalize.rawValue)", code: String(cString: bl_error_name(status)))
      }
      normalizer = OpaquePointer(opened)
    }
    self.regex = OpaquePointer(regex)
    self.normalizer = normalizer
    self.normalize = normalize
  }

  deinit {
    bl_regex_close(UnsafeMutableRawPointer(regex))
    if let normalizer { bl_normalizer_close(UnsafeMutableRawPointer(normalizer)) }
  }

  mutating func segment(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (TokenKind, Range<Int>, UnsafeBufferPointer<UInt8>) -> Void) {
    guard !bytes.isEmpty else { return }
    precondition(bytes.count < Int(Int32.max) / 4, "tokenise at most 512 MiB at a time")
    if normalizer == nil {
      forEachMatch(in: bytes) { range in body(TokenKind(classifying: bytes, range), range, UnsafeBufferPointer(rebasing: bytes[range])) }
      return
    }
    normalizeByChunks(bytes)
    let text = normalized
    let pieces = self.pieces
    text.withUnsafeBufferPointer { text in
      forEachMatch(in: text) { range in
        body(TokenKind(classifying: text, range), Self.original(of: range, pieces: pieces, normalizedCount: text.count), UnsafeBufferPointer(rebasing: text[range]))
      }
    }
  }

  private mutating func forEachMatch(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
    var status: Int32 = 0
    let pointer = UnsafeMutableRawPointer(regex)
    let count = Int(bl_regex_find_all(pointer, text.baseAddress, Int32(text.count), &status))
    // Matching valid UTF-8 fails only on memory exhaustion, ICU's stack limit or a pattern that backtracks past the time
    // limit (about 30 s on one text): fatal, with the reason, rather than a hang.
    precondition(count >= 0, "the regex tokenizer's pattern failed on a text of \(text.count) bytes: \(String(cString: bl_error_name(status))) (a pattern that backtracks without end?)")
    let starts = bl_regex_starts(pointer), ends = bl_regex_ends(pointer)
    for index in 0..<count {
      let range = Int(starts![index])..<Int(ends![index])
      if !range.isEmpty { body(range) }  // empty matches make no token
    }
  }

  /// Fills `normalized` and `pieces`: ASCII white space is copied as is, every chunk between normalised on its own.
  private mutating func normalizeByChunks(_ bytes: UnsafeBufferPointer<UInt8>) {
    normalized.removeAll(keepingCapacity: true)
    pieces.removeAll(keepingCapacity: true)
    var index = 0
    while index < bytes.count {
      var end = index
      let isSpace = Self.isASCIISpace(bytes[index])
      while end < bytes.count, Self.isASCIISpace(bytes[end]) == isSpace { end += 1 }
      let chunk = UnsafeBufferPointer(rebasing: bytes[index..<end])
      let start = normalized.count
      if isSpace || chunk.allSatisfy({ $0 < 0x80 }) {
        // ASCII: NFKC is the identity, case folding and lowercasing map A–Z to a–z.
        for byte in chunk { normalized.append(isSpace ? byte : byte &+ ((byte &- 0x41) < 26 ? 0x20 : 0)) }
        pieces.append((start, index, end, true))
      } else {
        var length: Int32 = 0, status: Int32 = 0
        guard let output = bl_normalizer_normalize(UnsafeMutableRawPointer(normalizer!), chunk.baseAddress, Int32(chunk.count), &length, &status) else {
          preconditionFailure("ICU normalisation failed: \(String(cString: bl_error_name(status)))")
        }
        normalized.append(contentsOf: UnsafeBufferPointer(start: output, count: Int(length)))
        // Even a chunk that kept its length may have moved bytes (two changes can balance): it maps as a whole.
        pieces.append((start, index, end, false))
      }
      index = end
    }
  }

  private static func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

  /// The original bytes behind normalised `range`: exact inside ASCII chunks, whole chunks elsewhere.
  static func original(
    of range: Range<Int>, pieces: [(normalizedStart: Int, originalStart: Int, originalEnd: Int, exact: Bool)], normalizedCount: Int
  ) -> Range<Int> {
    func piece(containing offset: Int) -> Int {
      var low = 0, high = pieces.count - 1
      while low < high {
        let middle = (low + high + 1) / 2
        if pieces[middle].normalizedStart <= offset { low = middle } else { high = middle - 1 }
      }
      return low
    }
    let first = pieces[piece(containing: range.lowerBound)], last = pieces[piece(containing: range.upperBound - 1)]
    let lower = first.exact ? first.originalStart + (range.lowerBound - first.normalizedStart) : first.originalStart
    let upper = last.exact ? last.originalStart + (range.upperBound - last.normalizedStart) : last.originalEnd
    return lower..<upper
  }
}

extension TokenKind {
  /// What a regex or WordPiece token holds: letters (the default), a number (digits only) or punctuation (neither
  /// letters nor digits).
  init(classifying text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
    let scalars = String(decoding: text[range], as: UTF8.self).unicodeScalars
    self.init(classifying: scalars)
  }

  init(classifying scalars: some Sequence<Unicode.Scalar>) {
    var letters = false, digits = false
    for scalar in scalars {
      if scalar.properties.isAlphabetic { letters = true } else if scalar.properties.numericType != nil { digits = true }
    }
    self = letters ? .letters : digits ? .number : .punctuation
  }
}
