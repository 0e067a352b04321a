import Attacks
import Audit
import Foundation
import Models

/// Takes a backdoor out of a scored classifier bundle: neutralises trigger tokens (each gets the embedding row of
/// <unk>), fine-prunes the pooled units clean dev data leaves dormant (Liu et al. 2018), then fine-tunes on the clean
/// training split; clean accuracy and attack success are measured on the test split before and after.
public struct BundleRepair {
  public var tokensToNeutralise: [String] = []
  public var finePrune = false
  /// Fine-pruning stops before clean dev accuracy falls by more than this (a fraction).
  public var maximumAccuracyDrop = 0.04
  public var fineTuneEpochs = 1
  public var learningRate: Float = 3e-4

  public init() {}

  /// What `repair.json` records.
  public struct Outcome: Codable, Sendable {
    public var bundle: String
    public var neutralised: [String]
    public var prunedUnits: Int
    public var featureUnits: Int
    public var fineTuneEpochs: Int
    public var evaluationTrigger: String?
    public var targetLabel: String?
    public var before: AttackMetrics
    public var after: AttackMetrics
    enum CodingKeys: String, CodingKey {
      case bundle, neutralised, prunedUnits = "pruned_units", featureUnits = "feature_units", fineTuneEpochs = "fine_tune_epochs"
      case evaluationTrigger = "evaluation_trigger", targetLabel = "target_label", before, after
    }
  }

  /// The repaired classifier and the outcome; `attack` (when known) scores attack success. Tokens not in the
  /// vocabulary are left out of `neutralised`.
  public func run(on scored: ScoredBundle, attack: (trigger: Trigger, target: String)?, quiet: Bool, verbose: Bool) throws -> (TextClassifier, Outcome) {
    if let attack, !scored.labels.contains(attack.target) {
      throw ScoredBundleError("target '\(attack.target)' is not one of the model's labels (\(scored.labels.joined(separator: ", ")))")
    }
    var classifier = scored.classifier
    // Clean data in the model's label order.
    let train = scored.encoded(scored.labelled(scored.split.train)), dev = scored.encoded(scored.labelled(scored.split.dev))
    guard !train.isEmpty, !dev.isEmpty else {
      throw ScoredBundleError(
        "\(scored.corpus.path): no training or dev examples with the model's labels (\(scored.labels.joined(separator: ", ")))")
    }
    let testSet = attack.map { scored.testSet($0) }
    let cleanTest = scored.encoded(scored.labelled(scored.split.test))
    func measure(_ model: TextClassifier) -> AttackMetrics {
      testSet?.evaluate(model, encoder: scored.encoder) ?? AttackMetrics(clean: model.evaluate(cleanTest))
    }
    let before = measure(classifier)
    let neutralised = Repair.neutralise(Array(Set(tokensToNeutralise)).sorted(), in: &classifier, vocabulary: scored.bundle.vocabulary)
    var pruned: [Int] = []
    let activity = Repair.featureActivity(classifier, on: dev)
    if finePrune {
      pruned = Repair.unitsToPrune(classifier, activity: activity, dev: dev, maximumAccuracyDrop: maximumAccuracyDrop)
      Repair.prune(pruned, in: &classifier)
    }
    if fineTuneEpochs > 0 {
      var options = TrainingOptions()
      options.epochs = fineTuneEpochs
      options.learningRate = learningRate
      options.patience = fineTuneEpochs
      let progress = ProgressReporter(
        title: "fine-tune", total: fineTuneEpochs * ((train.count + 31) / 32), unit: "batches", quiet: quiet, verbose: verbose)
      _ = try classifier.train(on: train, dev: dev, options: options, progress: progress)
      // Fine-tuning may have moved the pruned columns: keep them pruned.
      Repair.prune(pruned, in: &classifier)
    }
    let outcome = Outcome(
      bundle: scored.path, neutralised: neutralised, prunedUnits: pruned.count, featureUnits: activity.count, fineTuneEpochs: fineTuneEpochs,
      evaluationTrigger: attack?.trigger.spec, targetLabel: attack?.target, before: before, after: measure(classifier))
    return (classifier, outcome)
  }
}
