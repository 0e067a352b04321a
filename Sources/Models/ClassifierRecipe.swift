import Datasets
import Foundation
import Layers
import Randomness
import Storage
import Tokenization

/// How `train`, `attack` and `attack-sweep` make a classifier from a corpus: the vocabulary from the training split
/// (min count), the model's shape, and Adam with early stopping on dev accuracy.
public struct ClassifierRecipe: Sendable, Codable, Equatable {
  public var architecture = ModelConfig.Architecture.gru
  public var epochs = 20
  public var batchSize = 32
  public var learningRate: Float = 1e-3
  /// Seed of the model's initialisation, dropout and batch order.
  public var seed: UInt64 = 0
  /// Seed of the train/dev/test split.
  public var splitSeed: UInt64 = 0
  /// nil: 0.5 for the GRU, 0.3 for bag and attention (chosen on dev accuracy).
  public var dropout: Float?
  public var embeddingDimension = 64
  public var hiddenSize = 128
  public var layers = 1
  public var bidirectional = false
  public var pooling = Pooling.mean
  public var heads = 4
  public var feedForwardSize = 128
  /// CNN only; nil: Kim (2014)'s widths 3, 4, 5 and 100 filters each.
  public var filterSizes: [Int]?
  public var filterCount: Int?
  /// Transformer only; nil: post-norm layers with ReLU, PyTorch's defaults.
  public var normFirst: Bool?
  public var activation: String?
  public var maximumLength = 48
  public var minimumCount = 2
  /// nil: a vocabulary of ICU words seen `minimumCount` times in the training split. A size: a WordPiece vocabulary of
  /// that many entries learnt from the clean training split (`WordPieceTrainer`) and a WordPiece tokenizer over it,
  /// fixed before any poisoning as a pretrained model's tokenizer is (a trigger word is cut into its pieces).
  public var wordPieceSize: Int?
  public var patience = 4
  public var optimizer = OptimizerChoice.adam
  public var lengthBucketing = true

  public init() {}

  enum CodingKeys: String, CodingKey {
    case architecture, epochs, batchSize = "batch_size", learningRate = "learning_rate", seed, splitSeed = "split_seed", dropout
    case embeddingDimension = "embedding_dim", hiddenSize = "hidden_size", layers, bidirectional, pooling, heads, feedForwardSize = "ffn_dim"
    case filterSizes = "filter_sizes", filterCount = "num_filters", normFirst = "norm_first", activation
    case maximumLength = "max_length", minimumCount = "min_count", wordPieceSize = "wordpiece_size", patience, optimizer
    case lengthBucketing = "length_bucketing"
  }

  public var trainingOptions: TrainingOptions {
    var options = TrainingOptions()
    options.epochs = epochs
    options.batchSize = batchSize
    options.learningRate = learningRate
    options.patience = patience
    options.seed = seed
    options.optimizer = optimizer
    options.lengthBucketing = lengthBucketing
    return options
  }

  /// The tokenizer a model of this recipe reads `corpus` with, and the vocabulary fixed with it: the lab's ICU
  /// tokenizer and no vocabulary (each training builds its own from its rows), or a WordPiece tokenizer and the
  /// vocabulary learnt from `split`'s training rows of `corpus` (`wordPieceSize`).
  public func tokenization(of corpus: Corpus, split: DataSplit) throws -> (tokenizer: Tokenizer, vocabulary: Vocabulary?) {
    guard let wordPieceSize else { return (try Tokenizer(), nil) }
    let learnt = try WordPieceTrainer(size: wordPieceSize).tokenization(learntFrom: split.train.lazy.map { corpus.examples[$0].text })
    return (learnt.tokenizer, learnt.vocabulary)
  }

  /// Builds the vocabulary from the training rows (plus `forcedTokens`) unless one is given (`tokenization`), trains
  /// with early stopping on dev (saving the best epoch's bundle to `out` when given) and evaluates on test.
  /// `quiet`/`verbose` shape the progress output.
  public func train(
    on corpus: Corpus, split: DataSplit, tokenizer: Tokenizer, vocabulary fixedVocabulary: Vocabulary? = nil, forcedTokens: [String] = [],
    out: String?, title: String? = nil, quiet: Bool, verbose: Bool = false
  ) throws -> TrainedClassifier {
    let vocabulary =
      try fixedVocabulary
      ?? Vocabulary.build(from: corpus, rows: split.train, tokenizer: tokenizer, minCount: minimumCount, forcedTokens: forcedTokens)
    var config = ModelConfig(
      architecture: architecture, vocabularySize: vocabulary.count, embeddingDimension: embeddingDimension, hiddenSize: hiddenSize,
      layerCount: layers, bidirectional: bidirectional, pooling: pooling, labels: corpus.labels, maximumLength: maximumLength,
      tokenizer: tokenizer.options, headCount: heads, feedForwardSize: feedForwardSize,
      dropout: dropout ?? ([.gru, .lstm, .cnn].contains(architecture) ? 0.5 : 0.3), filterSizes: filterSizes, filterCount: filterCount)
    if architecture == .transformer {
      config.normFirst = normFirst ?? false
      config.activation = activation ?? "relu"
    }
    if let problem = config.validationProblems().first { throw RecipeError("invalid model options: \(problem)") }
    let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: maximumLength)
    let encoded = try ClassificationData(corpus: corpus, split: split, encoder: encoder)
    guard !encoded.train.isEmpty, !encoded.dev.isEmpty, !encoded.test.isEmpty else {
      throw RecipeError(
        "\(corpus.path): \(corpus.examples.count) examples give \(encoded.train.count) train / \(encoded.dev.count) dev / "
          + "\(encoded.test.count) test; training needs at least one of each (about 10 rows)")
    }
    guard vocabulary.count > Vocabulary.specialTokens.count else {
      throw RecipeError(
        "\(corpus.path): no word occurs \(minimumCount) times or more in the \(split.train.count) training rows (the tokenizer drops spaces "
          + "and punctuation); there is nothing to learn from")
    }
    var generator = SplitMix64(seed: seed, stream: [0x494E_4954])  // "INIT"
    var classifier = TextClassifier(config: config, using: &generator)
    let progress = ProgressReporter(
      title: title ?? "train \(architecture.rawValue) on \(corpus.description.name)", total: epochs * ((encoded.train.count + batchSize - 1) / batchSize),
      unit: "batches", quiet: quiet, verbose: verbose)
    progress.note(
      "\(corpus.description.name): \(encoded.train.count) train / \(encoded.dev.count) dev / \(encoded.test.count) test; "
        + "vocabulary \(vocabulary.count); \(classifier.parameterCount) parameters")
    let report = try classifier.train(on: encoded.train, dev: encoded.dev, options: trainingOptions, progress: progress) { best, _, _ in
      if let out { try ModelBundle(model: .classifier(best), vocabulary: vocabulary).save(to: out) }
    }
    return TrainedClassifier(classifier: classifier, vocabulary: vocabulary, encoder: encoder, report: report, test: classifier.evaluate(encoded.test))
  }

  /// A recipe that cannot train on the data it was given.
  public struct RecipeError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
  }
}

/// A classifier just trained by a recipe, with what it was trained from and how it did.
public struct TrainedClassifier: Sendable {
  public var classifier: TextClassifier
  public var vocabulary: Vocabulary
  public var encoder: TextEncoder
  public var report: TrainingReport
  public var test: ClassificationMetrics

  /// One line: where it went, its best epoch, dev accuracy and speed.
  public func savedLine(_ out: String) -> String {
    "saved \(out) (best epoch \(report.bestEpoch) of \(report.epochsRun), dev accuracy \(String(format: "%.2f", report.bestDevAccuracy * 100)) %, "
      + "\(Int(report.examplesPerSecond)) examples/s)"
  }

  /// Where the model came from and how it did, as `training.json` records it.
  public func summary(corpus: String, recipe: ClassifierRecipe) -> TrainingSummary {
    TrainingSummary(corpus: corpus, splitSeed: recipe.splitSeed, options: recipe.trainingOptions, report: report, test: test)
  }

  /// Saves the bundle with `training.json` beside it.
  public func save(to out: String, corpus: String, recipe: ClassifierRecipe) throws {
    let summary = summary(corpus: corpus, recipe: recipe)
    try ModelBundle(model: .classifier(classifier), vocabulary: vocabulary).save(to: out, extraFiles: ["training.json": try summary.encoded()])
  }
}

/// `training.json` in a bundle: where the model came from and how it did.
public struct TrainingSummary: Codable, Sendable {
  public var corpus: String
  public var splitSeed: UInt64
  public var options: TrainingOptions
  public var report: TrainingReport
  public var test: ClassificationMetrics

  enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed", options, report, test }

  public init(corpus: String, splitSeed: UInt64, options: TrainingOptions, report: TrainingReport, test: ClassificationMetrics) {
    (self.corpus, self.splitSeed, self.options, self.report, self.test) = (corpus, splitSeed, options, report, test)
  }

  public func encoded(pretty: Bool = true) throws -> Data { try LabJSON.data(self, pretty: pretty) }
}
