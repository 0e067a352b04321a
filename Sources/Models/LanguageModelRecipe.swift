import Datasets
import Foundation
import Randomness
import Tokenization

/// How `train-lm` makes a GRU next-word model from a corpus: whole speakers held out where the corpus has them
/// (otherwise rows split 80/10/10), each speaker's lines concatenated and cut into windows, the vocabulary from the
/// training part, and training for a number of epochs or minutes.
public struct LanguageModelRecipe: Sendable {
  public var epochs = 20
  /// Stop after this many minutes of training (0: run all epochs).
  public var minutes = 4.0
  public var batchSize = 32
  public var learningRate: Float = 2e-3
  public var embeddingDimension = 64
  public var hiddenSize = 128
  /// Tokens per training window.
  public var window = 32
  /// Vocabulary size limit, specials included (a word vocabulary's).
  public var maximumVocabulary = 10_000
  public var minimumCount = 1
  /// Read text as WordPiece pieces from a vocabulary of this many entries learnt from the training split
  /// (`WordPieceTrainer`) instead of words: nothing is unknown, a rare word is spelt in pieces. Nil: words.
  public var wordPieceSize: Int?
  public var dropout: Float = 0
  /// The decoder reuses the embedding matrix (needs embeddingDimension == hiddenSize).
  public var tied = false
  public var seed: UInt64 = 0
  public var splitSeed: UInt64 = 0

  public init() {}

  /// Trains, saving the bundle to `out` as it goes and at the end with `training.json` (the held-out figures).
  public func train(on corpus: Corpus, out: String, quiet: Bool, verbose: Bool) throws -> TrainedLanguageModel {
    let bySpeaker = !corpus.clients.isEmpty
    let split = try bySpeaker ? corpus.splitByClient(seed: splitSeed) : corpus.split(seed: splitSeed)
    let tokenizer: Tokenizer, vocabulary: Vocabulary
    var counts = TokenCounts()
    if let wordPieceSize {
      (tokenizer, vocabulary) = try WordPieceTrainer(size: wordPieceSize).tokenization(learntFrom: split.train.lazy.map { corpus.examples[$0].text })
    } else {
      tokenizer = try Tokenizer()
      for row in split.train { counts.add(tokenizer.words(in: corpus.examples[row].text)) }
      vocabulary = try Vocabulary(counts: counts, minCount: minimumCount, maxSize: maximumVocabulary)
    }
    let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: Int.max)
    let trainWindows = TextWindow.windows(from: corpus, rows: split.train, encoder: encoder, length: window)
    let testWindows = TextWindow.windows(from: corpus, rows: split.test, encoder: encoder, length: window)
    guard trainWindows.count >= batchSize, !testWindows.isEmpty else {
      throw ClassifierRecipe.RecipeError(
        "\(corpus.path): \(trainWindows.count) training windows and \(testWindows.count) held-out windows; train-lm needs at least "
          + "--batch-size (\(batchSize)) of the first and one of the second")
    }
    let config = ModelConfig(
      architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: embeddingDimension, hiddenSize: hiddenSize,
      maximumLength: window, tokenizer: tokenizer.options, tiedEmbeddings: tied, dropout: dropout)
    var generator = SplitMix64(seed: seed, stream: [0x494E_4954])  // "INIT"
    var model = NextWordModel(config: config, using: &generator)
    var training = LanguageModelTrainingOptions()
    training.batchSize = batchSize
    training.learningRate = learningRate
    training.epochs = epochs
    training.timeBudget = minutes * 60
    training.seed = seed
    let progress = ProgressReporter(title: "train-lm", total: epochs * (trainWindows.count / batchSize), unit: "batches", quiet: quiet, verbose: verbose)
    progress.note(
      "\(corpus.description.name): \(trainWindows.count) training windows, \(testWindows.count) held-out windows; "
        + "vocabulary \(vocabulary.count); \(model.parameterCount) parameters")
    let tokensPerSecond = try model.train(on: trainWindows, options: training, progress: progress) { current, _ in
      try ModelBundle(model: .languageModel(current), vocabulary: vocabulary).save(to: out)
    }
    let metrics = model.evaluate(testWindows)
    let heldOutSpeakers = split.test.compactMap { corpus.examples[$0].client }.reduce(into: Set<Int>()) { $0.insert($1) }.count
    var summary: [String: Any] = [
      "corpus": corpus.description.name, "split_seed": splitSeed, "seed": seed, "tokens_per_second": tokensPerSecond.rounded(),
      "held_out_speakers": heldOutSpeakers, "vocabulary": vocabulary.count,
      "perplexity": metrics.perplexity, "top1_accuracy": metrics.top1Accuracy, "top3_accuracy": metrics.top3Accuracy,
      "top1_accuracy_known_words": metrics.top1AccuracyKnownWords, "targets": metrics.targets, "minutes": minutes,
    ]
    var extraFiles: [String: Data] = [:]
    if let wordPieceSize {
      // Per word as well as per piece: a word costs all its pieces, so this one compares with a word model's.
      let continuationPrefix = tokenizer.options.continuationPrefix
      let wordTargets = testWindows.reduce(0) { total, window in
        total + window.targets.count { !vocabulary.tokens[$0].hasPrefix(continuationPrefix) }
      }
      summary["wordpiece_size"] = wordPieceSize
      summary["word_perplexity"] = exp(log(metrics.perplexity) * Double(metrics.targets) / Double(max(wordTargets, 1)))
      summary["pieces_per_word"] = Double(metrics.targets) / Double(max(wordTargets, 1))
    } else {
      extraFiles[Self.unknownWordsFile] = Data(Self.unknownWords(counts: counts, vocabulary: vocabulary).utf8)
    }
    extraFiles["training.json"] = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .prettyPrinted])
    try ModelBundle(model: .languageModel(model), vocabulary: vocabulary).save(to: out, extraFiles: extraFiles)
    return TrainedLanguageModel(metrics: metrics, tokensPerSecond: tokensPerSecond, summary: summary)
  }
}

extension LanguageModelRecipe {
  /// The bundle file listing the training words the vocabulary left out (`word<TAB>count`, most frequent first, ties
  /// by UTF-8 bytes): what a `SpellingModel` for the model's `<unk>` learns from.
  public static let unknownWordsFile = "unknown-words.tsv"

  static func unknownWords(counts: TokenCounts, vocabulary: Vocabulary) -> String {
    counts.counts.filter { vocabulary.id(of: $0.key) == vocabulary.unknownID }.sorted(by: Vocabulary.precedesByFrequency)
      .map { "\($0.key)\t\($0.value)\n" }.joined()
  }

  /// Reads `unknownWordsFile` from a bundle folder: nil when the bundle has none (one trained before it existed).
  public static func spellingModel(inBundle folder: String) throws -> SpellingModel? {
    let path = folder + "/" + unknownWordsFile
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
      throw ClassifierRecipe.RecipeError("\(path): cannot read it as UTF-8 text")
    }
    var words: [(word: String, count: Int)] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count == 2, !fields[0].isEmpty, let count = Int(fields[1]), count > 0 else {
        throw ClassifierRecipe.RecipeError("\(path):\(index + 1): expected a word, a tab and a positive count")
      }
      words.append((String(fields[0]), count))
    }
    return SpellingModel(words: words)
  }
}

/// A next-word model just trained: its held-out figures and `training.json`'s fields.
public struct TrainedLanguageModel {
  public var metrics: LanguageModelMetrics
  public var tokensPerSecond: Double
  /// What `training.json` holds: corpus, seeds, speed, held-out speakers and the metrics.
  public var summary: [String: Any]
}
