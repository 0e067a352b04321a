import ArgumentParser
import Datasets
import Foundation
import Layers
import Models
import Randomness
import Tensors
import Tokenization

struct TrainLanguageModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train-lm",
    abstract: "Train a GRU next-word model (the keyboard task) and save it as a bundle.",
    discussion: prose("""
      Speakers (clients) are split 80/10/10, so the test text comes from people the model never saw; a corpus
      without speakers (sentiment, for ONION's language model) is split by rows, each row its own text. Each
      speaker's lines are concatenated and cut into windows of --window tokens. The vocabulary comes from
      the training speakers (--min-count, --max-vocab). Reports perplexity and top-1/top-3 next-word
      accuracy on the held-out speakers; writes DIR/training.json with them.
      Examples:
        backdoor-lab train-lm --corpus shakespeare --out runs/lm --minutes 4
        backdoor-lab complete runs/lm "the king of denmark is"
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
  @Option(help: "Vocabulary size limit, specials included.")
  var maxVocab = 10_000
  @Option var minCount = 1
  @Option var dropout: Float = 0
  @Flag(help: "Decoder reuses the embedding matrix (needs --embedding-dim = --hidden-size).")
  var tied = false
  @Option var seed: UInt64 = 0
  @Option var splitSeed: UInt64 = 0
  @Flag(help: "Print one JSON object with the results.")
  var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard window >= 2, batchSize >= 1, maxVocab >= 5, minutes >= 0, epochs >= 1 else {
      throw ValidationError("--window ≥ 2, --batch-size ≥ 1, --max-vocab ≥ 5, --minutes ≥ 0, --epochs ≥ 1")
    }
    if tied && embeddingDim != hiddenSize { throw ValidationError("--tied needs --embedding-dim equal to --hidden-size") }
  }

  func run() throws {
    let home = try data.home()
    var options = corpusOptions
    if ShippedCorpus(rawValue: corpus) == nil && options.clientColumn == nil && tsvColumnNames(of: corpus).contains("client") {
      options.clientColumn = "client"
    }
    let corpus = try options.load(self.corpus, home: home)
    // Whole speakers are held out where the corpus has them; otherwise rows are split 80/10/10.
    let bySpeaker = !corpus.clients.isEmpty
    let split = try orFail { try bySpeaker ? corpus.splitByClient(seed: splitSeed) : corpus.split(seed: splitSeed) }
    let tokenizer = try orFail { try Tokenizer() }
    let vocabulary = try orFail { try Vocabulary.build(from: corpus, rows: split.train, tokenizer: tokenizer, minCount: minCount, maxSize: maxVocab) }
    let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: Int.max)
    let trainWindows = TextWindow.windows(from: corpus, rows: split.train, encoder: encoder, length: window)
    let testWindows = TextWindow.windows(from: corpus, rows: split.test, encoder: encoder, length: window)
    guard trainWindows.count >= batchSize, !testWindows.isEmpty else {
      throw LabError("\(corpus.path): \(trainWindows.count) training windows and \(testWindows.count) held-out windows; train-lm needs at least --batch-size (\(batchSize)) of the first and one of the second")
    }
    let config = ModelConfig(architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: embeddingDim,
                             hiddenSize: hiddenSize, maximumLength: window, tokenizer: tokenizer.options, tiedEmbeddings: tied, dropout: dropout)
    var generator = SplitMix64(seed: seed, stream: [0x494E_4954])
    var model = NextWordModel(config: config, using: &generator)
    var training = LanguageModelTrainingOptions()
    training.batchSize = batchSize
    training.learningRate = learningRate
    training.epochs = epochs
    training.timeBudget = minutes * 60
    training.seed = seed
    if !compute.quiet {
      writeToStandardError("\(corpus.description.name): \(trainWindows.count) training windows, \(testWindows.count) held-out windows; vocabulary \(vocabulary.count); \(model.parameterCount) parameters\n")
    }
    let progress = ProgressReporter(title: "train-lm", total: epochs * (trainWindows.count / batchSize), unit: "batches", quiet: compute.quiet, verbose: compute.verbose)
    let tokensPerSecond = try model.train(on: trainWindows, options: training, progress: progress) { current, _ in
      try orFail { try ModelBundle(model: .languageModel(current), vocabulary: vocabulary).save(to: out) }
    }
    let metrics = model.evaluate(testWindows)
    let summary: [String: Any] = [
      "corpus": corpus.description.name, "split_seed": splitSeed, "seed": seed, "tokens_per_second": tokensPerSecond.rounded(),
      "held_out_speakers": split.test.compactMap { corpus.examples[$0].client }.reduce(into: Set<Int>()) { $0.insert($1) }.count,
      "perplexity": metrics.perplexity, "top1_accuracy": metrics.top1Accuracy, "top3_accuracy": metrics.top3Accuracy,
      "top1_accuracy_known_words": metrics.top1AccuracyKnownWords, "targets": metrics.targets, "minutes": minutes,
    ]
    let summaryData = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .prettyPrinted])
    try orFail { try ModelBundle(model: .languageModel(model), vocabulary: vocabulary).save(to: out, extraFiles: ["training.json": summaryData]) }
    if json {
      print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    } else {
      print(String(format: "saved %@: held-out text: perplexity %.1f, top-1 %.2f %%, top-3 %.2f %% (%d targets; %.0f tokens/s in training)",
                   out, metrics.perplexity, metrics.top1Accuracy * 100, metrics.top3Accuracy * 100, metrics.targets, tokensPerSecond))
    }
  }
}

struct CompleteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "complete",
    abstract: "The most likely next words after a prefix, under a next-word model bundle.",
    discussion: prose("""
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
