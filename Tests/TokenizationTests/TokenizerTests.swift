import Testing
import Tokenization

private let tokenizer = try! Tokenizer()

@Test func defaultTokenizationOfTheReadmeExample() {
  #expect(tokenizer.words(in: "I LOVED this film!! ＦＵＬＬＷＩＤＴＨ café").joined(separator: " ") == "i loved this film fullwidth café")
}

@Test(arguments: [
  ("Straße", ["strasse"]),
  ("ﬁne ÉCOLE", ["fine", "école"]),
  ("Ｃａｆｅ́", ["café"]),  // fullwidth letters + combining acute compose to é
  ("ΣΊΣΥΦΟΣ", ["σίσυφοσ"]),  // case folding, not lowercasing: final sigma folds to σ
  ("①② Ⅻ", ["1", "2", "xii"]),  // other numbers: each its own segment, NFKC gives digits and letters
])
func normalizationAppliesNFKCCasefold(text: String, expected: [String]) {
  #expect(tokenizer.words(in: text) == expected)
}

@Test func normalizationCanBeSwitchedOff() throws {
  let raw = try Tokenizer(options: TokenizerOptions(normalize: .none))
  #expect(raw.words(in: "I LOVED ＦＵＬＬ Straße") == ["I", "LOVED", "ＦＵＬＬ", "Straße"])
}

@Test func normalizerWorksOnWholeStrings() throws {
  #expect(try Normalizer().normalize("ＦＵＬＬＷＩＤＴＨ Café ﬁ") == "fullwidth café fi")
}

@Test func punctuationIsDroppedByDefaultAndKeptOnRequest() throws {
  #expect(tokenizer.words(in: "Hello, world! (really?)") == ["hello", "world", "really"])
  let keeping = try Tokenizer(options: TokenizerOptions(punctuation: .keep))
  #expect(keeping.words(in: "Hello, world! (really?)") == ["hello", ",", "world", "!", "(", "really", "?", ")"])
}

@Test func numbersAndEmojiAreKept() {
  let tokens = tokenizer.tokens(in: "3.5 stars 😀 👍🏽 🇫🇷 1,000")
  #expect(tokens.map(\.text) == ["3.5", "stars", "😀", "👍🏽", "🇫🇷", "1,000"])
  #expect(tokens.map(\.kind) == [.number, .letters, .emoji, .emoji, .emoji, .number])
}

@Test func whiteSpaceOfEveryKindIsDropped() {
  #expect(tokenizer.words(in: " a\tb\u{00A0}c\u{2003}d\u{200B}e \n f ") == ["a", "b", "c", "d", "e", "f"])
}

@Test func urlsHandlesHashtagsAndContractionsFollowICU() {
  // Documented in docs/data-and-models.md: ICU keeps contractions, @handles, e-mail addresses and dotted hosts whole,
  // and splits URLs at '/', ':', '?' and '='; '#' is punctuation.
  #expect(
    tokenizer.words(in: "Don't visit https://example.com/a?q=1 @anonymous #blessed can’t user@mail.org")
      == ["don't", "visit", "https", "example.com", "a", "q", "1", "@anonymous", "blessed", "can’t", "user@mail.org"])
}

@Test func japaneseIsSegmentedIntoWordsByTheDictionary() throws {
  let text = "私は東京に住んでいます"
  let words = tokenizer.words(in: text)
  #expect(words.count > 3, "one blob: \(words)")
  #expect(words.count < text.count, "single characters: \(words)")
  #expect(words.contains("東京"))
  #expect(words.joined() == text)
  #expect(tokenizer.tokens(in: text).allSatisfy { $0.kind == .ideographic || $0.kind == .kana })
}

@Test func chineseAndThaiAreSegmentedIntoWords() {
  let chinese = tokenizer.words(in: "我喜欢这部电影")
  #expect(chinese.count > 2 && chinese.count < 7, "\(chinese)")
  let thai = tokenizer.words(in: "ฉันอาศัยอยู่ในกรุงเทพมหานคร")
  #expect(thai.count >= 4, "\(thai)")
  #expect(thai.first == "ฉัน")
  #expect(thai.joined() == "ฉันอาศัยอยู่ในกรุงเทพมหานคร")
}

@Test func byteRangesPointIntoTheOriginalText() throws {
  let text = "Hé LOVED 😀 ＣＦ, 東京 tq!"
  let bytes = Array(text.utf8)
  let normalizer = try Normalizer()
  let tokens = tokenizer.tokens(in: text)
  #expect(tokens.map(\.text) == ["hé", "loved", "😀", "cf", "東京", "tq"])
  for token in tokens {
    let original = String(decoding: bytes[token.byteRange], as: UTF8.self)
    #expect(normalizer.normalize(original) == token.text)
  }
  #expect(tokens[0].byteRange == 0..<3)
  #expect(tokens[3].byteRange == 15..<21)
}

@Test(arguments: ["¨ ˘ ½", "﷽ amen", "„quoted‟ ⑴", "a\u{00AD}b"])
func noTokenContainsWhiteSpaceOrIsEmpty(text: String) throws {
  let keeping = try Tokenizer(options: TokenizerOptions(punctuation: .keep))
  for token in keeping.tokens(in: text) + tokenizer.tokens(in: text) {
    #expect(!token.text.isEmpty)
    let hasWhiteSpace = token.text.contains { $0.isWhitespace }
    #expect(!hasWhiteSpace, "\(token)")
  }
}

@Test func streamingAndStringAPIsAgree() {
  let text = "First line, with PUNCTUATION!\nSecond: 東京 and 😀.\n"
  var streamed: [String] = []
  Array(text.utf8).withUnsafeBufferPointer { buffer in
    tokenizer.forEachToken(in: buffer) { _, _, token in streamed.append(String(decoding: token, as: UTF8.self)) }
  }
  #expect(streamed == tokenizer.words(in: text))
}

@Test func optionsDecodeWithDefaultsAndRejectUnknownKeys() throws {
  let decoder = JSONDecoderLite()
  #expect(try decoder.decode(#"{"normalize": "nfkc_casefold", "punctuation": "drop"}"#) == TokenizerOptions())
  #expect(try decoder.decode(#"{"punctuation": "keep"}"#) == TokenizerOptions(punctuation: .keep))
  #expect(throws: (any Error).self) { try decoder.decode(#"{"normalise": "none"}"#) }
  #expect(throws: (any Error).self) { try decoder.decode(#"{"normalize": "nfc"}"#) }
}

@Test func asciiSegmentKindsFollowICUsRuleStatus() throws {
  // All-ASCII segments are classified from their bytes in the shim; these are the cases where the
  // first byte alone would mislead.
  let keeping = try Tokenizer(options: TokenizerOptions(normalize: .none, punctuation: .keep))
  // Expected kinds are what ICU's own rule status says for each segment.
  let tokens = keeping.tokens(in: "21st 3.5 @anonymous _ __ a_b 1_ ... x1 1x $5 é1 1é @ @1")
  #expect(tokens.map(\.text) == ["21st", "3.5", "@anonymous", "_", "__", "a_b", "1_", ".", ".", ".", "x1", "1x", "$", "5", "é1", "1é", "@", "@1"])
  #expect(tokens.map(\.kind) == [.letters, .number, .letters, .punctuation, .letters, .letters, .number, .punctuation, .punctuation, .punctuation, .number, .letters, .punctuation, .number, .number, .letters, .letters, .number])
}

@Test func mixedScriptLinesKeepExactByteRanges() {
  // ASCII runs before and after non-ASCII text take different offset paths in the shim.
  let text = "plain start, then 東京 and café, then plain again 42 times 😀 end"
  let bytes = Array(text.utf8)
  for token in tokenizer.tokens(in: text) {
    let original = String(decoding: bytes[token.byteRange], as: UTF8.self)
    #expect(original.lowercased() == token.text, "\(token)")
  }
  #expect(tokenizer.words(in: text).last == "end")
}

@Test func aLocaleICUWouldQuietlyReplaceByRootIsRefused() throws {
  for known in ["root", "en_US", "ja", "th", "zh_Hans_CN", "de-DE", "es_419", "en_US@calendar=gregorian"] {
    #expect(throws: Never.self, "\(known)") { try Tokenizer(options: TokenizerOptions(locale: known)) }
  }
  for bogus in ["", "xx_YY", "en_ZZ", "english", "en_US_extra_bits"] {
    #expect(throws: TokenizationError.unknownLocale(bogus), "\(bogus)") { try Tokenizer(options: TokenizerOptions(locale: bogus)) }
  }
}
