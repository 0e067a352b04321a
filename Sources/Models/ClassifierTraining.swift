import Foundation
import Layers
import Randomness
import Tensors

/// How a classifier is trained: the reference recipe (Adam 1e-3, batch 32, gradient norm clipped at 5,
/// early stopping on dev accuracy with patience 4, best epoch's weights kept).
public struct TrainingOptions: Sendable, Codable, Equatable {
  public var epochs = 20
  public var batchSize = 32
  public var learningRate: Float = 1e-3
  public var patience = 4
  /// Largest global gradient norm (0: no clipping).
  public var gradientClipNorm: Float = 5
  public var seed: UInt64 = 0
  public var optimizer = OptimizerChoice.adam
  /// false: run every epoch and keep the last weights (no early stopping, no best-epoch selection).
  public var earlyStopping = true
  /// true: batches of similar lengths (less padding, faster); false: plain shuffled batches.
  public var lengthBucketing = true

  public init() {}
}

/// `adam` follows PyTorch's dense Adam exactly; `lazy-adam` updates only looked-up embedding rows
/// (a different, cheaper optimizer).
public enum OptimizerChoice: String, Sendable, Codable, CaseIterable {
  case adam
  case lazyAdam = "lazy-adam"
}

/// What happened in training: dev accuracy per epoch, the best epoch, examples per second.
public struct TrainingReport: Sendable, Codable, Equatable {
  public var devAccuracies: [Double] = []
  public var bestEpoch = 0
  public var bestDevAccuracy = 0.0
  public var epochsRun = 0
  public var examplesPerSecond = 0.0
  public var seconds = 0.0

  enum CodingKeys: String, CodingKey {
    case devAccuracies = "dev_accuracy_per_epoch", bestEpoch = "best_epoch", bestDevAccuracy = "best_dev_accuracy", epochsRun = "epochs_run"
    case examplesPerSecond = "examples_per_second", seconds
  }
}

extension TextClassifier {
  /// Predicted class and probabilities of each example, on the inference path (`ClassifierInference`, with the
  /// vocabulary's projections when they pay for themselves on these examples).
  public func predict(_ examples: [EncodedExample], batchSize: Int = 256) -> (classes: [Int], probabilities: [[Float]]) {
    ClassifierInference(self, forTokens: examples.tokenCount).predict(examples, batchSize: batchSize)
  }

  public func evaluate(_ examples: [EncodedExample]) -> ClassificationMetrics {
    ClassificationMetrics(labels: labels, truth: examples.map(\.label), predictions: predict(examples).classes)
  }

  /// Mean cross-entropy of one batch, on the tape when the model is tracked.
  public func loss(_ batch: Batch, context: inout ForwardContext) -> Tensor {
    crossEntropy(logits(batch, context: &context), batch.labels)
  }

  /// Trains in place with early stopping on `dev`; the model ends with its best epoch's weights.
  /// `onImprovement` runs whenever dev accuracy improves (to save a checkpoint). A non-finite loss or weights stop
  /// training with `TrainingDiverged`, the model back at its best epoch's weights (its initial ones before any).
  public mutating func train(
    on train: [EncodedExample], dev: [EncodedExample], options: TrainingOptions, progress: ProgressReporter? = nil,
    onImprovement: (TextClassifier, Int, Double) throws -> Void = { _, _, _ in }
  ) throws -> TrainingReport {
    precondition(!train.isEmpty && !dev.isEmpty, "training needs training and dev examples")
    var report = TrainingReport()
    var best = self
    let lazyUpdates = options.optimizer == .lazyAdam
    var adam = lazyUpdates ? nil : Adam(for: self, learningRate: options.learningRate)
    var lazy = lazyUpdates ? LazyAdam(for: self, learningRate: options.learningRate) : nil
    var shuffler = SplitMix64(seed: options.seed, stream: [0x5348_5546])  // "SHUF"
    var context = ForwardContext(training: true, generator: SplitMix64(seed: options.seed, stream: [0x4452_4F50]))  // "DROP"
    let started = Date()
    var examplesSeen = 0
    let batchesPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
    for epoch in 1...max(1, options.epochs) {
      let batches = options.lengthBucketing
        ? Batch.epoch(train, batchSize: options.batchSize, using: &shuffler) : Batch.shuffled(train, batchSize: options.batchSize, using: &shuffler)
      var lossSum = 0.0
      for (step, indices) in batches.enumerated() {
        let batch = Batch(indices.map { train[$0] })
        var (loss, gradient) = valueWithGradient(at: self) { model, _ in model.loss(batch, context: &context) }
        guard loss.scalar.isFinite else {
          self = best
          throw TrainingDiverged(epoch: epoch, step: step + 1, loss: Double(loss.scalar))
        }
        if options.gradientClipNorm > 0 { clipByGlobalNorm(&gradient, maximumNorm: options.gradientClipNorm) }
        if lazyUpdates { lazy!.update(&self, along: gradient) } else { adam!.update(&self, along: gradient) }
        lossSum += Double(loss.scalar)
        examplesSeen += batch.batchSize
        progress?.update(done: (epoch - 1) * batchesPerEpoch + step + 1, items: examplesSeen, loss: lossSum / Double(step + 1))
      }
      guard parametersAreFinite else {
        self = best
        throw TrainingDiverged(epoch: epoch)
      }
      let devAccuracy = evaluate(dev).accuracy
      report.devAccuracies.append(devAccuracy)
      report.epochsRun = epoch
      progress?.note(String(format: "epoch %d: train loss %.4f, dev accuracy %.2f %%", epoch, lossSum / Double(max(batches.count, 1)), devAccuracy * 100))
      if !options.earlyStopping {
        report.bestEpoch = epoch
        report.bestDevAccuracy = devAccuracy
        best = self
      } else if devAccuracy > report.bestDevAccuracy || epoch == 1 {
        report.bestDevAccuracy = devAccuracy
        report.bestEpoch = epoch
        best = self
        try onImprovement(self, epoch, devAccuracy)
      } else if epoch - report.bestEpoch >= options.patience {
        break
      }
    }
    report.seconds = Date().timeIntervalSince(started)
    report.examplesPerSecond = Double(examplesSeen) / max(report.seconds, 1e-9)
    self = best
    return report
  }
}

/// Training that stopped because the numbers did: a non-finite loss or weights. The model keeps its last good weights.
public struct TrainingDiverged: Error, CustomStringConvertible, Equatable {
  public var epoch: Int
  /// The batch within the epoch (1-based); nil when the weights were found non-finite at the epoch's end.
  public var step: Int?
  public var loss: Double?

  public var description: String {
    let what = step.map { "the loss became \(loss.map { String($0) } ?? "non-finite") at epoch \(epoch), batch \($0)" }
      ?? "the weights became non-finite in epoch \(epoch)"
    return "training diverged: \(what); nothing was saved from that point on (try a lower --lr)"
  }
}

extension Parameterized {
  /// Whether every parameter is a finite number.
  public var parametersAreFinite: Bool {
    parameterPaths.allSatisfy { self[keyPath: $0.path].scalars.allSatisfy(\.isFinite) }
  }
}
