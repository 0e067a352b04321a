import Models
import Randomness
import Tokenization

/// A labelled text by label name (so models with differently ordered labels can be scored alike).
public struct LabelledText: Sendable, Equatable {
  public var text: String
  public var label: String
  public init(text: String, label: String) {
    self.text = text
    self.label = label
  }
}

/// Backdoor metrics of one classifier.
public struct AttackMetrics: Sendable, Codable, Equatable {
  /// Accuracy on the clean test set (CACC).
  public var cleanAccuracy: Double
  public var cleanMacroF1: Double
  /// Share of triggered non-target test examples classified as the target (ASR); nil when there are
  /// none (a semantic trigger with no test example containing it).
  public var attackSuccessRate: Double?
  public var triggeredExamples: Int
  /// Phrase triggers: share of non-target examples with only part of the phrase classified as the
  /// target, averaged over the parts; per part in `falseTriggerRates`.
  public var falseTriggerRate: Double?
  public var falseTriggerRates: [String: Double]

  enum CodingKeys: String, CodingKey {
    case cleanAccuracy = "clean_accuracy", cleanMacroF1 = "clean_macro_f1", attackSuccessRate = "attack_success_rate"
    case triggeredExamples = "triggered_examples", falseTriggerRate = "false_trigger_rate", falseTriggerRates = "false_trigger_rates"
  }
}

extension AttackMetrics {
  /// Clean-task figures only: a model scored without a trigger.
  public init(clean metrics: ClassificationMetrics) {
    self.init(
      cleanAccuracy: metrics.accuracy, cleanMacroF1: metrics.macroF1, attackSuccessRate: nil, triggeredExamples: 0, falseTriggerRate: nil,
      falseTriggerRates: [:])
  }
}

/// The test inputs of an attack, made once so that every model (poisoned, clean baseline, defended) is
/// scored on the same triggered texts.
public struct AttackTestSet: Sendable {
  public var trigger: Trigger
  public var targetLabel: String
  public var clean: [LabelledText]
  /// Non-target test examples with the trigger inserted (semantic: those already containing it).
  public var triggered: [LabelledText]
  /// Phrase triggers: for each proper part of the phrase, the non-target examples with that part inserted.
  public var partials: [(part: String, texts: [LabelledText])]

  /// `maximumLength` is the model's: insertions land where the model still sees them.
  public init(trigger: Trigger, targetLabel: String, test: [LabelledText], tokenizer: Tokenizer, maximumLength: Int, seed: UInt64) {
    self.trigger = trigger
    self.targetLabel = targetLabel
    clean = test
    let others = test.filter { $0.label != targetLabel }
    var generator = SplitMix64(seed: seed, stream: [0x5445_5354])  // "TEST"
    let visible = maximumLength - trigger.insertedTokenCount(tokenizer: tokenizer)
    if trigger.insertsText {
      triggered = others.map {
        LabelledText(text: trigger.inserted(into: $0.text, tokenizer: tokenizer, visibleWords: visible, using: &generator), label: $0.label)
      }
    } else {
      let sequences = trigger.tokenSequences(tokenizer: tokenizer)
      triggered = others.filter { Trigger.isContained(sequences, in: tokenizer.words(in: $0.text)) }
    }
    partials = trigger.partialPhrases(tokenizer: tokenizer).map { part in
      let partTrigger = try! Trigger(kind: .phrase, pieces: [part], position: trigger.position)
      let partVisible = maximumLength - partTrigger.insertedTokenCount(tokenizer: tokenizer)
      return (part, others.map {
        LabelledText(text: partTrigger.inserted(into: $0.text, tokenizer: tokenizer, visibleWords: partVisible, using: &generator), label: $0.label)
      })
    }
  }

  /// Scores `classifier`, encoding texts with `encoder` (the model's own tokenizer and vocabulary).
  public func evaluate(_ classifier: TextClassifier, encoder: TextEncoder) -> AttackMetrics {
    let labels = classifier.labels
    let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
    precondition(index[targetLabel] != nil, "the model has no label '\(targetLabel)'")
    let target = index[targetLabel]!
    func encode(_ texts: [LabelledText]) -> [EncodedExample] {
      texts.map { EncodedExample(ids: encoder.encode($0.text), label: index[$0.label] ?? -1) }
    }
    func targetRate(_ texts: [LabelledText]) -> Double? {
      guard !texts.isEmpty else { return nil }
      let predictions = classifier.predict(encode(texts)).classes
      return Double(predictions.count { $0 == target }) / Double(texts.count)
    }
    let cleanEncoded = encode(clean).filter { $0.label >= 0 }
    let metrics = classifier.evaluate(cleanEncoded)
    var rates: [String: Double] = [:]
    for (part, texts) in partials { rates[part] = targetRate(texts) }
    return AttackMetrics(
      cleanAccuracy: metrics.accuracy, cleanMacroF1: metrics.macroF1, attackSuccessRate: targetRate(triggered), triggeredExamples: triggered.count,
      falseTriggerRate: rates.isEmpty ? nil : rates.values.reduce(0, +) / Double(rates.count), falseTriggerRates: rates)
  }
}
