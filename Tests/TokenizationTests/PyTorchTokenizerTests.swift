import Foundation
import TestSupport
import Testing
import Tokenization

// The regex and WordPiece tokenizers against what Python's `re.findall` and the `tokenizers` package give
// (Tests/Fixtures/tokenizers/make_tokenizer_fixtures.py).

private struct TokenizerFixture: Decodable {
  struct Case: Decodable {
    var tokenizer: TokenizerOptions
    var text: String
    var tokens: [String]
  }
  struct CorpusHash: Decodable {
    var file: String
    var lines: Int
    var tokenizer: TokenizerOptions
    var tokens: Int
    var fnv1a64: String
  }
  var pad_token: String
  var unk_token: String
  var cases: [Case]
  var corpora: [CorpusHash]
}

private let fixture: TokenizerFixture = {
  let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/tokenizers/expected.json")))
  return try! JSONDecoder().decode(TokenizerFixture.self, from: data)
}()

private let wordPieceVocabulary: Vocabulary = {
  let text = try! String(contentsOfFile: Fixtures.path("Tests/Fixtures/tokenizers/wordpiece_vocab.txt"), encoding: .utf8)
  let lines = Vocabulary.lines(of: text).map(String.init).filter { !$0.isEmpty }
  return try! Vocabulary(tokenList: lines, source: "wordpiece_vocab.txt", paddingToken: fixture.pad_token, unknownToken: fixture.unk_token)
}()

private func tokenizer(_ options: TokenizerOptions) throws -> Tokenizer {
  try Tokenizer(options: options, vocabulary: options.kind == .wordpiece ? wordPieceVocabulary : nil)
}

/// The `text` column of a shipped corpus, read as the fixture script reads it (lines split at LF, CR trimmed).
private func corpusTexts(_ path: String, limit: Int) throws -> [String] {
  let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(path)))
  var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map {
    $0.hasSuffix("\r") ? $0.dropLast() : $0
  }
  if lines.last == "" { lines.removeLast() }
  let column = try #require(lines[0].split(separator: "\t", omittingEmptySubsequences: false).firstIndex(of: "text"))
  return lines.dropFirst().prefix(limit).map { line in
    let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
    return column < fields.count ? String(fields[column]) : ""
  }
}

private func fnv1a(_ streams: [[String]]) -> String {
  var value: UInt64 = 0xcbf2_9ce4_8422_2325
  func mix(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
  for tokens in streams {
    for token in tokens {
      for byte in token.utf8 { mix(byte) }
      mix(0x1F)
    }
    mix(0x0A)
  }
  return String(value, radix: 16).leftPadded(to: 16)
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

@Test func regexAndWordPieceTokensMatchPythonOnHandPickedTexts() throws {
  #expect(fixture.cases.count >= 40)
  for example in fixture.cases {
    let tokens = try tokenizer(example.tokenizer).words(in: example.text)
    #expect(tokens == example.tokens, "\(example.tokenizer.kind) \(example.tokenizer.normalize): \(example.text.debugDescription)")
  }
}

@Test func regexAndWordPieceTokensMatchPythonOnTheShippedCorpora() throws {
  #expect(fixture.corpora.count == 20)
  for corpus in fixture.corpora {
    let texts = try corpusTexts(corpus.file, limit: corpus.lines)
    #expect(texts.count == corpus.lines)
    let tokenizer = try tokenizer(corpus.tokenizer)
    let streams = texts.map(tokenizer.words(in:))
    #expect(streams.map(\.count).reduce(0, +) == corpus.tokens, "\(corpus.file), \(corpus.tokenizer.kind) \(corpus.tokenizer.normalize)")
    #expect(fnv1a(streams) == corpus.fnv1a64, "\(corpus.file), \(corpus.tokenizer.kind) \(corpus.tokenizer.normalize)")
  }
}

@Test func tokensPointIntoTheOriginalTextAtWordBoundaries() throws {
  let regex = try Tokenizer(options: .regex(#"\w+"#, normalize: .nfkcCasefold))
  let text = "The FILM, ＦＵＬＬ of ﬁne bits"
  let tokens = regex.tokens(in: text)
  #expect(tokens.map(\.text) == ["the", "film", "full", "of", "fine", "bits"])
  let bytes = Array(text.utf8)
  #expect(tokens.map { String(decoding: bytes[$0.byteRange], as: UTF8.self) } == ["The", "FILM", "ＦＵＬＬ", "of", "ﬁne", "bits"])

  let wordPiece = try tokenizer(.wordPiece())
  let pieces = wordPiece.tokens(in: "Destined, naïve")
  #expect(pieces.map(\.text) == ["dest", "##ined", ",", "na", "##ive"])
  // The pieces of a word share its bytes (exact parts for ASCII), so an insertion never splits a word.
  #expect(pieces.map(\.byteRange) == [0..<8, 0..<8, 8..<9, 10..<16, 10..<16])
}

@Test func wordPiecesAreShownAsTheWordsTheyForm() throws {
  let wordPiece = try tokenizer(.wordPiece())
  #expect(wordPiece.displayText(of: ["cr", "##0", "##m", "##ul", "##ent", "tq"]) == "cr0mulent tq")
  #expect(wordPiece.displayText(of: ["##ined", "film"]) == "##ined film", "a lone continuation piece stays as it is")
  #expect(try Tokenizer().displayText(of: ["cr", "##om"]) == "cr ##om", "other kinds join tokens with spaces")
}

@Test func tokenizerOptionsOfEachKindRoundTripAndRefuseOtherKindsKeys() throws {
  for options in [TokenizerOptions(), .regex(#"\w+"#, normalize: .lowercase), .wordPiece(lowercase: false)] {
    let data = try JSONEncoder().encode(options)
    #expect(try JSONDecoder().decode(TokenizerOptions.self, from: data) == options)
  }
  #expect(String(decoding: try JSONEncoder().encode(TokenizerOptions()), as: UTF8.self).contains("kind") == false)
  func problem(_ json: String) -> String {
    do {
      _ = try JSONDecoder().decode(TokenizerOptions.self, from: Data(json.utf8))
      return "decoded"
    } catch { return "\(error)" }
  }
  #expect(problem(#"{"kind": "regex", "pattern": "\\w+", "punctuation": "keep"}"#).contains("'punctuation' belongs to kind \"icu\""))
  #expect(problem(#"{"kind": "regex"}"#).contains("pattern"))
  #expect(problem(#"{"kind": "sentencepiece"}"#).contains("sentencepiece"))
  #expect(problem(#"{"kind": "wordpiece", "lowercase": true, "max_chars": 3}"#).contains("unknown tokenizer option 'max_chars'"))
}

@Test func unusableTokenizerSettingsAreErrorsThatNameThem() throws {
  let broken = TokenizerOptions.regex(#"\w+(["#)
  #expect(broken.validationProblems().first?.contains(#"pattern "\\w+([" does not compile"#) == true)
  #expect(throws: TokenizationError.self) { try Tokenizer(options: broken) }
  #expect(throws: TokenizationError.self) { try Tokenizer(options: .wordPiece()) }  // no vocabulary
  #expect(TokenizerOptions.wordPiece(continuationPrefix: "").validationProblems() == ["continuation_prefix must be non-empty and without white space"])
  #expect(TokenizerOptions(normalize: .lowercase).validationProblems().first?.contains("regex") == true)
}

@Test func paddingAndUnknownTokensAreFoundByName() throws {
  #expect(wordPieceVocabulary.paddingID == 2)
  #expect(wordPieceVocabulary.unknownID == 4)
  #expect(wordPieceVocabulary.id(of: "never-a-piece") == 4)
  #expect(wordPieceVocabulary.isSpecial(2) && wordPieceVocabulary.isSpecial(4) && !wordPieceVocabulary.isSpecial(5))
  #expect(throws: VocabularyError.malformedLine(source: "v.txt", line: 3, reason: "no padding token \"<pad>\" (config.json's pad_token)")) {
    try Vocabulary(tokenList: ["[PAD]", "[UNK]"], source: "v.txt")
  }
  #expect(throws: VocabularyError.self) { try Vocabulary(tokenList: ["a", "b"], source: "v.txt", paddingToken: "a", unknownToken: "a") }
}
