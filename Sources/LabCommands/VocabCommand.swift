import ArgumentParser
import Datasets
import Foundation
import Tokenization

struct VocabCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vocab",
    abstract: "Build vocabularies.",
    subcommands: [Build.self, WordPiece.self])

  struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Build a vocabulary (token<TAB>count per line, line index = id) from a corpus.",
      discussion: prose("""
        Counts the tokens of the corpus's training split (80/10/10, --split-seed; by held-out client when
        the corpus has a client column) unless --all-rows;
        ids 0-3 are <pad> <unk> <bos> <eos>, the rest ordered by count (descending), then by bytes.
        Example:
          backdoor-lab vocab build --corpus sentiment --out Vocab/sentiment.tsv --min-count 2
          backdoor-lab vocab build --corpus sentiment --out /tmp/v.tsv --force cf --force mn
        """))

    @OptionGroup var source: CountedRows
    @Option(help: "Where to write the vocabulary.")
    var out: String
    @Option(help: "Leave out tokens seen fewer times than this.")
    var minCount = 2
    @Option(help: "At most this many entries, specials included.")
    var maxSize: Int?
    @Option(name: .customLong("force"), help: "A token that must get a row (repeatable), e.g. a trigger word.")
    var forcedTokens: [String] = []
    @Flag(help: "Keep punctuation and symbols as tokens.")
    var keepPunctuation = false
    @Flag(help: "Do not apply NFKC_Casefold normalisation.")
    var noNormalize = false

    func validate() throws {
      if minCount < 1 { throw ValidationError("--min-count must be at least 1") }
      if let maxSize, maxSize < 5 { throw ValidationError("--max-size must leave room beyond the 4 specials") }
    }

    func run() throws {
      let (corpus, rows) = try source.load()
      let tokenizer = try orFail {
        try Tokenizer(options: TokenizerOptions(normalize: noNormalize ? .none : .nfkcCasefold, punctuation: keepPunctuation ? .keep : .drop))
      }
      // Forced tokens are given as text: tokenise them the same way, so "CF" forces "cf".
      let forced = forcedTokens.flatMap { tokenizer.words(in: $0) }
      let vocabulary = try orFail {
        try Vocabulary.build(from: corpus, rows: rows, tokenizer: tokenizer, minCount: minCount, maxSize: maxSize, forcedTokens: forced)
      }
      try orFail { try vocabulary.save(to: out) }
      print("\(out): \(vocabulary.count) entries from \(rows.count) rows of \(corpus.description.name)")
    }
  }

  struct WordPiece: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "wordpiece",
      abstract: "Learn a WordPiece vocabulary (vocab.txt: one token a line, line index = id) from a corpus.",
      discussion: prose("""
        The words of the corpus's training split (80/10/10, --split-seed) unless --all-rows, as BERT's basic
        tokenizer cuts them (lowercased, accents stripped, punctuation split off), then byte-pair merges over their
        characters, pieces after a word's first marked ##, as the tokenizers package's WordPieceTrainer learns them:
        ids 0-3 are <pad> <unk> <bos> <eos>, then the alphabet (each character alone, then each continuing one
        with ##, by code point), then the merged pieces in the order made, until --size entries or no pair occurs
        --min-pair-count times. `train --wordpiece-size N` learns
        the same from its training split.
        Example:
          backdoor-lab vocab wordpiece --corpus sentiment --size 8000 --out runs/sentiment-wordpiece.txt
        """))

    @OptionGroup var source: CountedRows
    @Option(help: "Where to write vocab.txt.")
    var out: String
    @Option(help: "Entries in all, the 4 special tokens included.")
    var size: Int
    @Option(help: "Pairs seen fewer times than this are not merged.")
    var minPairCount = 2
    @Flag(help: "Replace --out if it exists.")
    var force = false

    func validate() throws {
      if size < 5 { throw ValidationError("--size must leave room beyond the 4 special tokens; got \(size)") }
      if minPairCount < 1 { throw ValidationError("--min-pair-count must be at least 1") }
    }

    func run() throws {
      if !force, FileManager.default.fileExists(atPath: out) { throw LabError("\(out): exists; give another --out, or --force to replace it") }
      let (corpus, rows) = try source.load()
      var trainer = WordPieceTrainer(size: size)
      trainer.minimumPairCount = minPairCount
      let words = try orFail { try trainer.countWords(in: rows.lazy.map { corpus.examples[$0].text }) }
      let vocabulary = try orFail { try trainer.vocabulary(from: words) }
      try writeAtomically(Data(vocabulary.tokenListText().utf8), to: out)
      print("\(out): \(vocabulary.count) entries from \(words.counts.count) distinct words in \(rows.count) rows of \(corpus.description.name)")
    }
  }
}

/// The corpus a vocabulary is counted on, and which of its rows: the training split's, or every row.
struct CountedRows: ParsableArguments {
  @Option(help: "Shipped corpus name (sentiment, tweets, trec, spam, shakespeare, english) or a TSV path.")
  var corpus: String
  @Flag(help: "Count every row instead of the training split.")
  var allRows = false
  @Option(help: "Seed of the train/dev/test split whose training part is counted.")
  var splitSeed: UInt64 = 0
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func load() throws -> (corpus: Corpus, rows: [Int]) {
    let corpus = try corpusOptions.load(self.corpus, home: try data.home())
    return (corpus, allRows ? Array(corpus.examples.indices) : try orFail { try corpus.standardSplit(seed: splitSeed).train })
  }
}
