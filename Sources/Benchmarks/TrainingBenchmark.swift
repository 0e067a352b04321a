import Layers
import Models
import Randomness
import Tensors

/// Training and inference throughput of the lab's models in the reference scripts' shapes
/// (benchmarks/reference/gru_classifier_train.py, attention_classifier_train.py, gru_lm_train.py):
/// - gru: Embedding(20000, 64) → GRU(64→128) → mean → Linear(128, 2), batch 32 × 48 tokens; lstm: the same with an LSTM;
///   cnn: Embedding(20000, 64) → Conv1d(64, 100, k) for k in 3, 4, 5 → ReLU → max → Linear(300, 2), same batches;
/// - attention: Embedding(20000, 64) + positions(48) → one pre-norm block (`heads`, FFN 128) → mean → Linear(64, 2);
///   transformer: the same with one post-norm `nn.TransformerEncoderLayer` (ReLU) and no final LayerNorm;
/// - languageModel: Embedding(10000, 64) → GRU(64→128) → Linear(128, 10000), full softmax at all 32 positions, batch 16.
/// A training step is forward, loss, backward and an optimizer step; random token ids without padding, no dropout.
/// Classifiers' inference runs on `ClassifierInference`, prepared once per model (for GRU and LSTM: the vocabulary's
/// first-layer projections), as the lab's inference workloads use it; the preparation is timed on its own.
public struct TrainingBenchmark {
  public enum Model: String, CaseIterable, Sendable { case gru, lstm, cnn, attention, transformer, lm }

  public var model: Model
  public var heads = 4
  public var optimizer = OptimizerChoice.adam
  public var threads = 1
  /// Seconds per timed block (median of 5).
  public var blockSeconds = 1.0

  public init(model: Model, heads: Int = 4, optimizer: OptimizerChoice = .adam, threads: Int = 1, blockSeconds: Double = 1) {
    self.model = model
    self.heads = heads
    self.optimizer = optimizer
    self.threads = threads
    self.blockSeconds = blockSeconds
  }

  public struct Result: BenchmarkRecord {
    public var benchmark: TrainingBenchmark
    public var trainSecondsPerStep: Double
    public var inferenceSecondsPerBatch: Double
    /// Classifiers: seconds to prepare the inference path once (`ClassifierInference.init`).
    public var inferencePreparationSeconds: Double?
    /// Samples (classifiers) or tokens (language model) per step.
    public var itemsPerStep: Int

    public var fields: [String: Any] {
      let b = benchmark, isLanguageModel = b.model == .lm
      let unit = isLanguageModel ? "tokens" : "samples"
      var fields: [String: Any] = [
        "bench": "train_\(b.model.rawValue)", "model": b.model.rawValue, "heads": b.model == .attention ? b.heads : 0, "threads": b.threads,
        "optimizer": b.optimizer.rawValue, "train_\(unit)_per_s": (Double(itemsPerStep) / trainSecondsPerStep).rounded(),
        (isLanguageModel ? "eval_tokens_per_s" : "infer_samples_per_s"): (Double(itemsPerStep) / inferenceSecondsPerBatch).rounded(),
        "train_ms_per_step": rounded(trainSecondsPerStep * 1000, digits: 2),
      ]
      if let inferencePreparationSeconds { fields["infer_preparation_ms"] = rounded(inferencePreparationSeconds * 1000, digits: 2) }
      return fields
    }
  }

  public func run() -> Result {
    var generator = SplitMix64(seed: 0)
    let isLanguageModel = model == .lm
    let (vocabulary, batchSize, length) = isLanguageModel ? (10_000, 16, 32) : (20_000, 32, 48)
    // Random token ids in 1..<vocabulary: no position is padding, as in the reference (which has no padding).
    let batches: [Batch] = (0..<16).map { _ in
      Batch((0..<batchSize).map { _ in
        EncodedExample(ids: (0..<length).map { _ in 1 + generator.nextIndex(below: vocabulary - 1) }, label: generator.nextIndex(below: 2))
      })
    }
    let targets: [[Int]] = batches.map { _ in (0..<(batchSize * length)).map { _ in 1 + generator.nextIndex(below: vocabulary - 1) } }
    return ComputeThreads.withMaximum(threads) {
      var step = 0
      func nextBatch() -> Int {
        step = (step + 1) % batches.count
        return step
      }
      let (train, infer): (Double, Double)
      var preparation: Double?
      if isLanguageModel {
        let config = ModelConfig(
          architecture: .gruLanguageModel, vocabularySize: vocabulary, embeddingDimension: 64, hiddenSize: 128, maximumLength: length, dropout: 0)
        var languageModel = NextWordModel(config: config, using: &generator)
        var optimizer = TrainingStep(for: languageModel, optimizer: self.optimizer)
        var context = ForwardContext(training: true)
        train = medianSecondsPerCall(blockSeconds: blockSeconds) {
          let index = nextBatch()
          let (_, gradient) = valueWithGradient(at: languageModel) { model, _ in model.loss(batches[index], targets: targets[index], context: &context) }
          optimizer.update(&languageModel, along: gradient)
        }
        var inference = ForwardContext.inference
        infer = medianSecondsPerCall(blockSeconds: blockSeconds) {
          let index = nextBatch()
          _ = languageModel.loss(batches[index], targets: targets[index], context: &inference).scalar
        }
      } else {
        let config = ModelConfig(
          architecture: ModelConfig.Architecture(rawValue: model.rawValue)!, vocabularySize: vocabulary, embeddingDimension: 64, hiddenSize: 128,
          labels: ["a", "b"], maximumLength: length, headCount: heads, feedForwardSize: 128, dropout: 0)
        var classifier = TextClassifier(config: config, using: &generator)
        var optimizer = TrainingStep(for: classifier, optimizer: self.optimizer)
        var context = ForwardContext(training: true)
        train = medianSecondsPerCall(blockSeconds: blockSeconds) {
          let batch = batches[nextBatch()]
          let (_, gradient) = valueWithGradient(at: classifier) { model, _ in model.loss(batch, context: &context) }
          optimizer.update(&classifier, along: gradient)
        }
        var inference: ClassifierInference?
        preparation = medianSeconds(repeats: 3) { inference = ClassifierInference(classifier) }
        let prepared = inference!
        infer = medianSecondsPerCall(blockSeconds: blockSeconds) { _ = prepared.logits(batches[nextBatch()]) }
      }
      return Result(
        benchmark: self, trainSecondsPerStep: train, inferenceSecondsPerBatch: infer, inferencePreparationSeconds: preparation,
        itemsPerStep: isLanguageModel ? batchSize * length : batchSize)
    }
  }
}

/// Adam or lazy Adam, whichever the benchmark measures.
private struct TrainingStep<Model: Parameterized> {
  var adam: Adam<Model>?
  var lazy: LazyAdam<Model>?

  init(for model: Model, optimizer: OptimizerChoice) {
    if optimizer == .adam { adam = Adam(for: model, learningRate: 1e-3) } else { lazy = LazyAdam(for: model, learningRate: 1e-3) }
  }

  mutating func update(_ model: inout Model, along gradient: Model) {
    if adam != nil { adam!.update(&model, along: gradient) } else { lazy!.update(&model, along: gradient) }
  }
}
