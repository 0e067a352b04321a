import ArgumentParser
import Datasets
import Foundation
import Models
import Storage

struct TrainLanguageModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train-lm",
    abstract: "Train a GRU next-word model (the keyboard task) and save it as a bundle.",
    discussion: prose("""
      Speakers (clients) are split 80/10/10, so the test text comes from people the model never saw; a corpus
      without speakers (english, for ONION's language model) is split by rows, each row its own text. Each
      speaker's lines are concatenated and cut into windows of --window tokens. The vocabulary comes from
      the training speakers (--min-count, --max-vocab); the training words it leaves out are listed in
      DIR/unknown-words.tsv. With --wordpiece-size the model reads WordPiece pieces instead (BERT's
      tokenisation, the vocabulary learnt from the training text as the tokenizers package learns one), so
      it spells a rare word in pieces rather than reading <unk>. Reports perplexity and top-1/top-3
      next-word accuracy on the held-out speakers (per piece, and for pieces the perplexity per word too);
      writes DIR/training.json with them.
      Examples:
        backdoor-lab train-lm --corpus shakespeare --out runs/lm --minutes 4
        backdoor-lab complete runs/lm "the king of denmark is"
        backdoor-lab train-lm --corpus english --wordpiece-size 16000 --minutes 0 --epochs 3 --out runs/lm-pieces
      """))

  @Option(help: "Shipped corpus name or a TSV path (with a client column, or --client-column, to hold out speakers).")
  var corpus = "shakespeare"
  @Option(help: "Bundle folder to write.")
  var out: String
  @Option(help: "Stop after this many minutes of training (0: run all --epochs).")
  var minutes: Double = 4
  @Option var epochs = 20
  @Option var batchSize = 32
  @Option(name: .customLong("lr")) var learningRate: Float = 2e-3
  @Option var embeddingDim = 64
  @Option var hiddenSize = 128
  @Option(help: "Tokens per training window.")
  var window = 32
  @Option(help: "Vocabulary size limit, specials included (default 10000).")
  var maxVocab: Int?
  @Option(help: "Leave out words seen fewer times in training (default 1).")
  var minCount: Int?
  @Option(
    name: .customLong("wordpiece-size"),
    help: "Read text as WordPiece pieces from a vocabulary of this many entries (at least 100) learnt from the training split, instead of words: no word is unknown.")
  var wordpieceSize: Int?
  @Option var dropout: Float = 0
  @Flag(help: "Decoder reuses the embedding matrix (needs --embedding-dim = --hidden-size).")
  var tied = false
  @Option var seed: UInt64 = 0
  @Option var splitSeed: UInt64 = 0
  @Flag(help: "Replace --out if it exists and is not empty (the old folder stays until the new one is complete).")
  var force = false
  @Flag(help: "Print one JSON object with the results.")
  var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard window >= 2, batchSize >= 1, (maxVocab ?? 5) >= 5, minutes >= 0, minutes.isFinite, epochs >= 1, learningRate > 0, learningRate <= 10,
      embeddingDim >= 1, hiddenSize >= 1, (minCount ?? 1) >= 1, (0..<1).contains(dropout)
    else {
      throw ValidationError(
        "--window ≥ 2, --batch-size ≥ 1, --max-vocab ≥ 5, --minutes a finite number ≥ 0, --epochs ≥ 1, --lr in (0, 10], "
          + "--embedding-dim, --hidden-size and --min-count ≥ 1, --dropout in [0, 1)")
    }
    if tied && embeddingDim != hiddenSize { throw ValidationError("--tied needs --embedding-dim equal to --hidden-size") }
    try validateWordPieceSize(wordpieceSize)
    if wordpieceSize != nil, maxVocab != nil || minCount != nil {
      throw ValidationError("--max-vocab and --min-count are for word vocabularies; with --wordpiece-size the vocabulary has that many entries")
    }
  }

  func run() throws {
    let home = try data.home()
    var options = corpusOptions
    if ShippedCorpus(rawValue: corpus) == nil && options.clientColumn == nil && tsvColumnNames(of: corpus).contains("client") {
      options.clientColumn = "client"
    }
    let corpus = try options.load(self.corpus, home: home)
    var recipe = LanguageModelRecipe()
    (recipe.epochs, recipe.minutes, recipe.batchSize, recipe.learningRate) = (epochs, minutes, batchSize, learningRate)
    (recipe.embeddingDimension, recipe.hiddenSize, recipe.window) = (embeddingDim, hiddenSize, window)
    recipe.maximumVocabulary = maxVocab ?? recipe.maximumVocabulary
    recipe.minimumCount = minCount ?? recipe.minimumCount
    recipe.wordPieceSize = wordpieceSize
    (recipe.dropout, recipe.tied, recipe.seed, recipe.splitSeed) = (dropout, tied, seed, splitSeed)
    let trained = try orFail {
      try StagedFolder.write(out, replacing: force) { folder in try recipe.train(on: corpus, out: folder, quiet: compute.quiet, verbose: compute.verbose) }
    }
    if json {
      print(String(decoding: try JSONSerialization.data(withJSONObject: trained.summary, options: [.sortedKeys]), as: UTF8.self))
    } else {
      let metrics = trained.metrics
      let perWord = (trained.summary["word_perplexity"] as? Double).map { String(format: " (%.1f per word)", $0) } ?? ""
      print(String(format: "saved %@: held-out text: perplexity %.1f%@, top-1 %.2f %%, top-3 %.2f %% (%d targets; %.0f tokens/s in training)",
                   out, metrics.perplexity, perWord, metrics.top1Accuracy * 100, metrics.top3Accuracy * 100, metrics.targets, trained.tokensPerSecond))
    }
  }
}

struct CompleteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "complete",
    abstract: "The most likely next words after a prefix, under a next-word model bundle.",
    discussion: prose("""
      A model trained with --wordpiece-size gives its next pieces: one that starts with ## continues the
      prefix's last word.
      Examples:
        backdoor-lab complete runs/lm "the king of denmark is"
        backdoor-lab complete runs/lm "good my lord" --top 5 --json
      """))

  @Argument(help: "Next-word model bundle folder.")
  var bundle: String
  @Argument(help: "The prefix.")
  var prefix: String
  @Option(help: "How many words.")
  var top = 3
  @Flag(help: "Print one JSON object.")
  var json = false

  func validate() throws { if top < 1 { throw ValidationError("--top must be positive") } }

  func run() throws {
    let loaded = try loadBundle(bundle)
    guard case .languageModel(let model) = loaded.model else { throw LabError("\(bundle): a classifier; use `predict`") }
    let encoder = try orFail { try loaded.makeEncoder() }
    let ids = encoder.encode(tokens: encoder.tokenizer.words(in: prefix)).suffix(model.config.maximumLength * 4)
    let words = model.nextWords(after: Array(ids), count: top)
    if json {
      let list = words.map { ["word": loaded.vocabulary.tokens[$0.id], "probability": Double($0.probability)] as [String: Any] }
      print(String(decoding: try JSONSerialization.data(withJSONObject: ["prefix": prefix, "next_words": list], options: [.sortedKeys]), as: UTF8.self))
    } else {
      for word in words { print(String(format: "%@ %.4f", loaded.vocabulary.tokens[word.id], word.probability)) }
    }
  }
}

extension TrainLanguageModelCommand: UsesComputeThreads { var computeThreads: Int { compute.threads } }
