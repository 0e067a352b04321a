import ArgumentParser
import Datasets
import Foundation
import Layers
import Models
import Randomness
import Tensors
import Tokenization

/// Options shared by the commands that train.
struct ComputeOptions: ParsableArguments {
  @Option(help: "Threads for the numeric kernels (results do not depend on it).")
  var threads = 2
  @Flag(help: "No progress output.")
  var quiet = false
  @Flag(help: "Plain progress lines every second instead of a bar (for logs).")
  var verbose = false

  func validate() throws {
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    guard !(quiet && verbose) else { throw ValidationError("give --quiet or --verbose, not both") }
  }
}

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a text classifier on a corpus and save it as a model bundle.",
    discussion: prose("""
      Splits the corpus 80/10/10 (--split-seed), builds the vocabulary from the training part (min count 2),
      trains with Adam and early stopping on dev accuracy, and writes DIR/model.safetensors, config.json,
      vocab.txt and training.json (options, per-epoch dev accuracy, test metrics). The best epoch's weights are
      saved whenever dev accuracy improves.
      Examples:
        backdoor-lab train --corpus sentiment --model gru --out runs/gru
        backdoor-lab train --corpus trec --model attention --heads 4 --epochs 10 --out runs/trec --json
      """))

  @Option(help: "Shipped corpus name or a TSV path.")
  var corpus: String
  @Option(help: "Bundle folder to write.")
  var out: String
  @OptionGroup var recipe: ClassifierRecipe
  @Flag(help: "Print one JSON object with the results.")
  var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func run() throws {
    let home = try data.home()
    let corpus = try corpusOptions.load(self.corpus, home: home)
    guard !corpus.labels.isEmpty else { throw LabError("\(corpus.path): no label column; train needs labelled text (see --label-column)") }
    let split = try orFail { try corpus.split(seed: recipe.splitSeed) }
    let tokenizer = try orFail { try Tokenizer() }
    let trained = try recipe.train(on: corpus, split: split, tokenizer: tokenizer, out: out, quiet: compute.quiet, verbose: compute.verbose)
    let summary = TrainingSummary(corpus: corpus.description.name, splitSeed: recipe.splitSeed, options: recipe.trainingOptions, report: trained.report, test: trained.test)
    try orFail {
      try ModelBundle(model: .classifier(trained.classifier), vocabulary: trained.vocabulary).save(to: out, extraFiles: ["training.json": try summary.encoded()])
    }
    if json {
      print(String(decoding: try summary.encoded(pretty: false), as: UTF8.self))
    } else {
      print(trained.savedLine(out))
      print("test: " + trained.test.summary)
    }
  }
}

/// The model and training options shared by `train`, `attack` and `attack-sweep`.
struct ClassifierRecipe: ParsableArguments {
  @Option(help: "bag, gru or attention.")
  var model: String = "gru"
  @Option var epochs = 20
  @Option var batchSize = 32
  @Option(name: .customLong("lr"), help: "Adam learning rate.")
  var learningRate: Float = 1e-3
  @Option(help: "Seed of the model's initialisation, dropout and batch order.")
  var seed: UInt64 = 0
  @Option(help: "Seed of the train/dev/test split.")
  var splitSeed: UInt64 = 0
  @Option(help: "Dropout rate (default: 0.5 for gru, 0.3 for bag and attention; chosen on dev accuracy).")
  var dropout: Float?
  @Option var embeddingDim = 64
  @Option(help: "GRU hidden size.")
  var hiddenSize = 128
  @Option(help: "GRU or transformer layers.")
  var layers = 1
  @Flag(help: "Bidirectional GRU.")
  var bidirectional = false
  @Option(help: "mean, max or last (GRU).")
  var pooling = "mean"
  @Option(help: "Attention heads.")
  var heads = 4
  @Option(help: "Attention feed-forward size.")
  var ffnDim = 128
  @Option var maxLength = 48
  @Option(help: "Vocabulary min count over the training split.")
  var minCount = 2
  @Option(help: "Early-stopping patience in epochs.")
  var patience = 4
  @Option(help: "adam (PyTorch's dense Adam) or lazy-adam (only looked-up embedding rows move).")
  var optimizer: OptimizerChoice = .adam
  @Flag(help: "Plain shuffled batches instead of batches of similar lengths.")
  var noBucketing = false

  func validate() throws {
    guard ModelConfig.Architecture(rawValue: model).map({ $0 != .gruLanguageModel }) == true else {
      throw ValidationError("--model must be bag, gru or attention; got '\(model)'")
    }
    guard Pooling(rawValue: pooling) != nil else { throw ValidationError("--pooling must be mean, max or last") }
    guard epochs >= 1, batchSize >= 1, learningRate > 0, maxLength >= 1, minCount >= 1 else {
      throw ValidationError("--epochs, --batch-size, --lr, --max-length and --min-count must be positive")
    }
    for (option, value) in [("--embedding-dim", embeddingDim), ("--hidden-size", hiddenSize), ("--heads", heads), ("--ffn-dim", ffnDim)] where value < 1 {
      throw ValidationError("\(option) must be positive; got \(value)")
    }
    if let dropout, !(0..<1).contains(dropout) { throw ValidationError("--dropout must be in [0, 1)") }
  }
  /// Builds the vocabulary from the training rows (plus `forcedTokens`), trains with early stopping on
  /// dev (saving the best epoch to `out` when given) and evaluates on test.
  func train(on corpus: Corpus, split: DataSplit, tokenizer: Tokenizer, forcedTokens: [String] = [], out: String?, quiet: Bool, verbose: Bool = false, title: String? = nil) throws -> TrainedClassifier {
    let vocabulary = try orFail { try Vocabulary.build(from: corpus, rows: split.train, tokenizer: tokenizer, minCount: minCount, forcedTokens: forcedTokens) }
    let config = ModelConfig(
      architecture: ModelConfig.Architecture(rawValue: model)!, vocabularySize: vocabulary.count, embeddingDimension: embeddingDim,
      hiddenSize: hiddenSize, layerCount: layers, bidirectional: bidirectional, pooling: Pooling(rawValue: pooling)!,
      labels: corpus.labels, maximumLength: maxLength, tokenizer: tokenizer.options, headCount: heads, feedForwardSize: ffnDim,
      dropout: dropout ?? (model == "gru" ? 0.5 : 0.3))
    if let problem = config.validationProblems().first { throw LabError("invalid model options: \(problem)") }
    let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: maxLength)
    let encoded = try orFail { try ClassificationData(corpus: corpus, split: split, encoder: encoder) }
    guard !encoded.train.isEmpty, !encoded.dev.isEmpty, !encoded.test.isEmpty else {
      throw LabError("\(corpus.path): \(corpus.examples.count) examples give \(encoded.train.count) train / \(encoded.dev.count) dev / \(encoded.test.count) test; training needs at least one of each (about 10 rows)")
    }
    var generator = SplitMix64(seed: seed, stream: [0x494E_4954])  // "INIT"
    var classifier = TextClassifier(config: config, using: &generator)
    let options = trainingOptions
    let progress = ProgressReporter(title: title ?? "train \(model) on \(corpus.description.name)", total: epochs * ((encoded.train.count + batchSize - 1) / batchSize),
                                    unit: "batches", quiet: quiet, verbose: verbose)
    if !quiet {
      writeToStandardError("\(corpus.description.name): \(encoded.train.count) train / \(encoded.dev.count) dev / \(encoded.test.count) test; vocabulary \(vocabulary.count); \(classifier.parameterCount) parameters\n")
    }
    let report = try classifier.train(on: encoded.train, dev: encoded.dev, options: options, progress: progress) { best, _, _ in
      if let out { try orFail { try ModelBundle(model: .classifier(best), vocabulary: vocabulary).save(to: out) } }
    }
    return TrainedClassifier(classifier: classifier, vocabulary: vocabulary, encoder: encoder, report: report, test: classifier.evaluate(encoded.test))
  }

  var trainingOptions: TrainingOptions {
    var options = TrainingOptions()
    options.epochs = epochs
    options.batchSize = batchSize
    options.learningRate = learningRate
    options.patience = patience
    options.seed = seed
    options.optimizer = optimizer
    options.lengthBucketing = !noBucketing
    return options
  }
}

struct TrainedClassifier {
  var classifier: TextClassifier
  var vocabulary: Vocabulary
  var encoder: TextEncoder
  var report: TrainingReport
  var test: ClassificationMetrics

  func savedLine(_ out: String) -> String {
    "saved \(out) (best epoch \(report.bestEpoch) of \(report.epochsRun), dev accuracy \(String(format: "%.2f", report.bestDevAccuracy * 100)) %, \(Int(report.examplesPerSecond)) examples/s)"
  }
}

/// `training.json` in a bundle: where the model came from and how it did.
extension OptimizerChoice: ExpressibleByArgument {}

struct TrainingSummary: Codable {
  var corpus: String
  var splitSeed: UInt64
  var options: TrainingOptions
  var report: TrainingReport
  var test: ClassificationMetrics

  enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed", options, report, test }

  func encoded(pretty: Bool = true) throws -> Data {
    try sortedKeysJSON(self, pretty: pretty)
  }
}

extension TrainCommand: UsesComputeThreads { var computeThreads: Int { compute.threads } }
