import ArgumentParser
import Datasets
import Foundation
import Layers
import Models
import Randomness
import Storage
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
  @OptionGroup var recipe: ClassifierRecipeOptions
  @Flag(help: "Replace --out if it exists and is not empty (the old folder stays until the new one is complete).")
  var force = false
  @Flag(help: "Print one JSON object with the results.")
  var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func run() throws {
    let home = try data.home()
    let corpus = try corpusOptions.load(self.corpus, home: home)
    guard !corpus.labels.isEmpty else { throw LabError("\(corpus.path): no label column; train needs labelled text (see --label-column)") }
    let recipe = self.recipe.recipe
    let split = try orFail { try corpus.split(seed: recipe.splitSeed) }
    let (tokenizer, vocabulary) = try orFail { try recipe.tokenization(of: corpus, split: split) }
    // Written beside --out and moved into place when complete: a failed run leaves --out as it was.
    let trained = try orFail {
      try StagedFolder.write(out, replacing: force) { folder in
        let trained = try recipe.train(
          on: corpus, split: split, tokenizer: tokenizer, vocabulary: vocabulary, out: folder, quiet: compute.quiet, verbose: compute.verbose)
        try trained.save(to: folder, corpus: corpus.description.name, recipe: recipe)
        return trained
      }
    }
    if json {
      print(String(decoding: try trained.summary(corpus: corpus.description.name, recipe: recipe).encoded(pretty: false), as: UTF8.self))
    } else {
      print(trained.savedLine(out))
      print("test: " + trained.test.summary)
    }
  }
}

/// The model and training options shared by `train`, `attack` and `attack-sweep`.
struct ClassifierRecipeOptions: ParsableArguments {
  @Option(help: "bag, gru, lstm, cnn, attention (the lab's norm-first block) or transformer (nn.TransformerEncoder).")
  var model: String = "gru"
  @Option var epochs = 20
  @Option var batchSize = 32
  @Option(name: .customLong("lr"), help: "Adam learning rate.")
  var learningRate: Float = 1e-3
  @Option(help: "Seed of the model's initialisation, dropout and batch order.")
  var seed: UInt64 = 0
  @Option(help: "Seed of the train/dev/test split.")
  var splitSeed: UInt64 = 0
  @Option(help: "Dropout rate (default: 0.5 for gru, lstm and cnn, 0.3 for bag and attention; chosen on dev accuracy).")
  var dropout: Float?
  @Option(help: "Embedding size (default: 300 for cnn, Kim 2014's; 64 for the others).")
  var embeddingDim: Int?
  @Option(help: "GRU or LSTM hidden size.")
  var hiddenSize = 128
  @Option(help: "GRU, LSTM or transformer layers.")
  var layers = 1
  @Flag(help: "Bidirectional GRU or LSTM.")
  var bidirectional = false
  @Option(help: "mean, max or last (GRU, LSTM).")
  var pooling = "mean"
  @Option(help: "Attention heads.")
  var heads = 4
  @Option(help: "Attention feed-forward size.")
  var ffnDim = 128
  @Option(help: "CNN filter widths, comma-separated (default: 3,4,5).", transform: { try positiveIntegers($0, option: "--filter-sizes") })
  var filterSizes: [Int]?
  @Option(help: "CNN filters per width (default: 100).")
  var numFilters: Int?
  @Flag(help: "Transformer: norm-first layers (PyTorch's norm_first=True) instead of post-norm.")
  var normFirst = false
  @Option(help: "Transformer feed-forward activation: relu or gelu (default: relu).")
  var activation: String?
  @Option var maxLength = 48
  @Option(help: "Vocabulary min count over the training split (default 2; word vocabularies only).")
  var minCount: Int?
  @Option(help: ArgumentHelp(
    "Read text with a WordPiece tokenizer over a vocabulary of this many entries learnt from the training split (BERT's basic tokenizer, lowercased; byte-pair merges with ## pieces) instead of ICU words.",
    valueName: "size"))
  var wordpieceSize: Int?
  @Option(help: "Early-stopping patience in epochs.")
  var patience = 4
  @Option(help: "adam (PyTorch's dense Adam) or lazy-adam (only looked-up embedding rows move).")
  var optimizer: OptimizerChoice = .adam
  @Flag(help: "Plain shuffled batches instead of batches of similar lengths.")
  var noBucketing = false

  func validate() throws {
    guard ModelConfig.Architecture(rawValue: model).map({ $0 != .gruLanguageModel }) == true else {
      throw ValidationError("--model must be bag, gru, lstm, cnn, attention or transformer; got '\(model)'")
    }
    guard Pooling(rawValue: pooling) != nil else { throw ValidationError("--pooling must be mean, max or last") }
    if let activation, !["relu", "gelu"].contains(activation) { throw ValidationError("--activation must be relu or gelu; got '\(activation)'") }
    // Options of one architecture given for another would be silently ignored.
    if model != "cnn", filterSizes != nil || numFilters != nil {
      throw ValidationError("--filter-sizes and --num-filters are for --model cnn")
    }
    if model != "transformer", normFirst || activation != nil {
      throw ValidationError("--norm-first and --activation are for --model transformer")
    }
    guard epochs >= 1, batchSize >= 1, maxLength >= 1, (minCount ?? 1) >= 1 else {
      throw ValidationError("--epochs, --batch-size, --max-length and --min-count must be positive")
    }
    try validateWordPieceSize(wordpieceSize)
    if wordpieceSize != nil, minCount != nil {
      throw ValidationError("--min-count is for word vocabularies; a WordPiece vocabulary (--wordpiece-size) merges every pair seen twice")
    }
    // Adam's step is about --lr per weight: beyond 10 the weights are noise, however finite.
    guard learningRate > 0, learningRate <= 10 else { throw ValidationError("--lr must be in (0, 10]; got \(learningRate)") }
    for (option, value) in [("--embedding-dim", embeddingDim ?? 1), ("--hidden-size", hiddenSize), ("--heads", heads), ("--ffn-dim", ffnDim), ("--num-filters", numFilters ?? 1)] where value < 1 {
      throw ValidationError("\(option) must be positive; got \(value)")
    }
    if let dropout, !(0..<1).contains(dropout) { throw ValidationError("--dropout must be in [0, 1)") }
  }
  /// The recipe these options describe.
  var recipe: ClassifierRecipe {
    var recipe = ClassifierRecipe()
    recipe.architecture = ModelConfig.Architecture(rawValue: model)!
    recipe.epochs = epochs
    recipe.batchSize = batchSize
    recipe.learningRate = learningRate
    recipe.seed = seed
    recipe.splitSeed = splitSeed
    recipe.dropout = dropout
    recipe.embeddingDimension = embeddingDim ?? (model == "cnn" ? 300 : 64)
    recipe.hiddenSize = hiddenSize
    recipe.layers = layers
    recipe.bidirectional = bidirectional
    recipe.pooling = Pooling(rawValue: pooling)!
    recipe.heads = heads
    recipe.feedForwardSize = ffnDim
    if model == "cnn" { (recipe.filterSizes, recipe.filterCount) = (filterSizes, numFilters) }
    if model == "transformer" { (recipe.normFirst, recipe.activation) = (normFirst, activation ?? "relu") }
    recipe.maximumLength = maxLength
    recipe.minimumCount = minCount ?? 2
    recipe.wordPieceSize = wordpieceSize
    recipe.patience = patience
    recipe.optimizer = optimizer
    recipe.lengthBucketing = !noBucketing
    return recipe
  }
}

extension OptimizerChoice: ExpressibleByArgument {}

extension TrainCommand: UsesComputeThreads { var computeThreads: Int { compute.threads } }

/// `--wordpiece-size` (of `train`, `attack` and `train-lm`): room for the special tokens and an alphabet.
func validateWordPieceSize(_ size: Int?) throws {
  if let size, size < 100 {
    throw ValidationError("--wordpiece-size must be at least 100 (the special tokens and the alphabet come first); got \(size)")
  }
}
