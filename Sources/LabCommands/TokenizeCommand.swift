import ArgumentParser
import Datasets
import Models
import Tokenization

struct TokenizeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tokenize",
    abstract: "Print the tokens (or ids) of each input line, separated by single spaces.",
    discussion: prose("""
      One output line per input line. Defaults: NFKC_Casefold normalisation, punctuation dropped,
      ICU root locale. Invalid UTF-8 is replaced with U+FFFD and reported on standard error.
      Examples:
        echo "I LOVED this film!! ＦＵＬＬＷＩＤＴＨ café" | backdoor-lab tokenize
        backdoor-lab tokenize reviews.txt --ids --vocab Vocab/sentiment.tsv
        backdoor-lab tokenize reviews.txt --bundle my-bert-gru     (a bundle's own tokenizer: ICU, regex or WordPiece)
        echo "私は東京に住んでいます" | backdoor-lab tokenize --locale ja
      """))

  @Argument(help: "Text file to tokenise; '-' or nothing reads standard input.")
  var file: String?
  @Flag(help: "Print vocabulary ids instead of tokens (needs --vocab).")
  var ids = false
  @Option(help: "Vocabulary file (token<TAB>count per line) for --ids.")
  var vocab: String?
  @Option(help: "ICU locale for word-break rules.")
  var locale = "root"
  @Flag(help: "Keep punctuation and symbols as tokens.")
  var keepPunctuation = false
  @Flag(help: "Do not apply NFKC_Casefold normalisation.")
  var noNormalize = false
  @Option(help: "Model bundle folder: tokenise as its config.json says, with its vocab.txt for --ids and WordPiece.")
  var bundle: String?

  func validate() throws {
    if bundle != nil {
      if vocab != nil || locale != "root" || keepPunctuation || noNormalize {
        throw ValidationError("--bundle brings the tokenizer settings and vocabulary; leave out --vocab, --locale, --keep-punctuation and --no-normalize")
      }
    } else {
      if ids && vocab == nil { throw ValidationError("--ids needs --vocab PATH or --bundle DIR") }
      if vocab != nil && !ids { throw ValidationError("--vocab is only used with --ids") }
    }
  }

  func run() throws {
    let tokenizer: Tokenizer
    var vocabulary: Vocabulary?
    if let bundle {
      let loaded = try orFail { try ModelBundle.load(from: bundle) }
      tokenizer = try orFail { try loaded.makeEncoder().tokenizer }
      vocabulary = ids ? loaded.vocabulary : nil
    } else {
      let options = TokenizerOptions(normalize: noNormalize ? .none : .nfkcCasefold, punctuation: keepPunctuation ? .keep : .drop, locale: locale)
      tokenizer = try orFail { try Tokenizer(options: options) }
      vocabulary = try vocab.map { (path: String) throws(LabError) in try orFail { try Vocabulary.load(from: path) } }
    }
    var reader = try orFail { try TextChunkReader(path: file) }
    defer { reader.closeFile() }
    var output = OutputBuffer()
    while let chunk = try orFail({ try reader.nextChunk() }) {
      chunk.withUnsafeBufferPointer { bytes in
        TokenizeCommand.render(bytes, tokenizer: tokenizer, vocabulary: vocabulary, into: &output)
      }
      if !reader.isRegularFileForOutput { output.flush() }
    }
    output.flush()
    if let warning = reader.replacementWarning { writeToStandardError("warning: \(warning)\n") }
  }

  /// Writes one line per input line: its tokens (or ids) separated by single spaces.
  static func render(_ bytes: UnsafeBufferPointer<UInt8>, tokenizer: Tokenizer, vocabulary: Vocabulary?, into output: inout OutputBuffer) {
    var position = 0  // bytes before `position` are accounted for in the output
    var firstOnLine = true
    func endLines(before offset: Int) {
      while let newline = bytes[position..<offset].firstIndex(of: 0x0A) {
        output.append(0x0A)
        position = newline + 1
        firstOnLine = true
      }
    }
    // Tokens that share bytes (the pieces of one word, the parts of one compatibility decomposition) share a range.
    tokenizer.forEachToken(in: bytes) { _, range, text in
      endLines(before: max(range.lowerBound, position))
      position = max(range.upperBound, position)
      if !firstOnLine { output.append(0x20) }
      firstOnLine = false
      if let vocabulary {
        output.append(String(vocabulary.id(of: String(decoding: text, as: UTF8.self))))
      } else {
        output.append(text)
      }
    }
    endLines(before: bytes.count)
    // A last line without a newline still ends its output line.
    if let last = bytes.last, last != 0x0A { output.append(0x0A) }
  }
}

extension TextChunkReader {
  /// Output to a terminal or pipe is flushed per chunk so interactive use answers line by line.
  var isRegularFileForOutput: Bool { name != "<stdin>" }
}
