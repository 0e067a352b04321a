import Foundation
import Models

/// `attack.json`: one centralised backdoor run — what was planted, where, and how well it worked, beside
/// a clean model trained with the same seed. The ground truth an audit is later scored against.
public struct AttackRecord: Sendable, Codable, Equatable {
  public struct TriggerDescription: Sendable, Codable, Equatable {
    public var spec: String
    public var kind: Trigger.Kind
    public var pieces: [String]
    public var insertions: Int
    public var position: TriggerPosition

    public init(_ trigger: Trigger) {
      spec = trigger.spec
      kind = trigger.kind
      pieces = trigger.pieces
      insertions = trigger.insertions
      position = trigger.position
    }

    public func trigger() throws(TriggerError) -> Trigger {
      try Trigger(kind: kind, pieces: pieces, insertions: insertions, position: position)
    }
  }

  public var corpus: String
  public var model: String
  public var seed: UInt64
  public var splitSeed: UInt64
  public var trigger: TriggerDescription
  public var targetLabel: String
  public var mode: PoisonMode
  /// The requested fraction, when the amount was given as one.
  public var poisonRate: Double?
  public var requestedCount: Int
  public var trainingExamples: Int
  /// Indices into the corpus's examples, and the matching TSV line numbers.
  public var poisonedRows: [Int]
  public var poisonedLines: [Int]
  public var triggerReport: TriggerReport
  /// The poisoned model's results; `cleanAccuracy` and `attackSuccessRate` repeat them at the top level.
  public var cleanAccuracy: Double
  public var attackSuccessRate: Double?
  public var poisoned: AttackMetrics
  /// The clean model's results on the same inputs: its ASR is the base rate of the target class.
  public var cleanModel: AttackMetrics?
  public var cleanAccuracyDrop: Double?
  public var training: TrainingReport
  public var notes: [String]

  public var poisonedCount: Int { poisonedRows.count }

  public init(
    corpus: String, model: String, seed: UInt64, splitSeed: UInt64, trigger: Trigger, targetLabel: String, mode: PoisonMode, poisonRate: Double?,
    requestedCount: Int, trainingExamples: Int, poisonedRows: [Int], poisonedLines: [Int], triggerReport: TriggerReport, poisoned: AttackMetrics,
    cleanModel: AttackMetrics?, training: TrainingReport, notes: [String]
  ) {
    self.corpus = corpus
    self.model = model
    self.seed = seed
    self.splitSeed = splitSeed
    self.trigger = TriggerDescription(trigger)
    self.targetLabel = targetLabel
    self.mode = mode
    self.poisonRate = poisonRate
    self.requestedCount = requestedCount
    self.trainingExamples = trainingExamples
    self.poisonedRows = poisonedRows
    self.poisonedLines = poisonedLines
    self.triggerReport = triggerReport
    cleanAccuracy = poisoned.cleanAccuracy
    attackSuccessRate = poisoned.attackSuccessRate
    self.poisoned = poisoned
    self.cleanModel = cleanModel
    cleanAccuracyDrop = cleanModel.map { $0.cleanAccuracy - poisoned.cleanAccuracy }
    self.training = training
    self.notes = notes
  }

  enum CodingKeys: String, CodingKey {
    case corpus, model, seed, splitSeed = "split_seed", trigger, targetLabel = "target_label", mode, poisonRate = "poison_rate"
    case requestedCount = "requested_count", trainingExamples = "training_examples", poisonedRows = "poisoned_rows"
    case poisonedLines = "poisoned_lines", triggerReport = "trigger_report", cleanAccuracy = "clean_accuracy"
    case attackSuccessRate = "attack_success_rate", poisoned, cleanModel = "clean_model", cleanAccuracyDrop = "clean_accuracy_drop"
    case training, notes
  }

  public func encoded(pretty: Bool = true) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    return try encoder.encode(self)
  }

  /// A few readable lines.
  public var summary: String {
    func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0 * 100) } ?? "n/a" }
    var lines = [
      "\(corpus), \(model), seed \(seed): trigger \(trigger.spec) (\(trigger.position.rawValue)), target '\(targetLabel)', \(mode.rawValue)",
      "poisoned \(poisonedCount) of \(trainingExamples) training examples" + (poisonRate.map { String(format: " (rate %.4g)", $0) } ?? ""),
      "backdoored model: clean accuracy \(percent(cleanAccuracy)), attack success \(percent(attackSuccessRate)) on \(poisoned.triggeredExamples) triggered test examples",
    ]
    for piece in triggerReport.pieces {
      let tokens = zip(piece.tokens, zip(piece.inVocabulary, piece.cleanTokenCounts)).map { token, facts in
        "\(token) (\(facts.0 ? "in the vocabulary" : "NOT in the vocabulary"), \(facts.1) clean occurrence\(facts.1 == 1 ? "" : "s"))"
      }
      lines.append("trigger '\(piece.text)' tokenises as " + (tokens.isEmpty ? "nothing" : tokens.joined(separator: ", ")))
    }
    if let rate = poisoned.falseTriggerRate { lines.append("false-trigger rate on partial phrases \(percent(rate))") }
    if let clean = cleanModel {
      lines.append("clean model:      clean accuracy \(percent(clean.cleanAccuracy)), target rate on triggered inputs (base rate) \(percent(clean.attackSuccessRate))")
      lines.append(String(format: "clean accuracy drop %.2f points", (cleanAccuracyDrop ?? 0) * 100))
    }
    lines += triggerReport.warnings.map { "WARNING: " + $0 }
    lines += notes.map { "note: " + $0 }
    return lines.joined(separator: "\n")
  }
}
