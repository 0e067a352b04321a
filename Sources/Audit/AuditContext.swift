import Models
import Tokenization

/// What every stage of one audit reads: the model, its vocabulary, the probes and the settings. Stages write
/// nothing here; what they find goes into `AuditState`.
public struct AuditContext: Sendable {
  public var classifier: TextClassifier
  public var vocabulary: Vocabulary
  public var probeSet: AuditProbeSet
  /// The first `probeSet.probeCount` sentences: where candidates are inserted.
  public var probes: [[Int]]
  public var settings: AuditSettings
  /// The token scan as configured for this audit; other stages measure their candidates the same way.
  public var tokenScan: TokenScan

  public init(classifier: TextClassifier, vocabulary: Vocabulary, probeSet: AuditProbeSet, settings: AuditSettings) {
    self.classifier = classifier
    self.vocabulary = vocabulary
    self.probeSet = probeSet
    probes = probeSet.probes
    self.settings = settings
    tokenScan = TokenScan()
    tokenScan.parallelism = settings.parallelism
  }

  public var labels: [String] { classifier.labels }

  /// `ids` measured like the single tokens (every probe, every position) toward `label`, as a candidate.
  public func candidate(_ ids: [Int], label: Int, scanned: ScanResult, source: CandidateSource) -> TriggerCandidate {
    let effect = tokenScan.effects(classifier, inserting: [ids], into: probes)[0][label]
    return TriggerCandidate(
      trigger: ids.map { vocabulary.tokens[$0] }.joined(separator: " "), label: labels[label], effect: effect,
      score: scanned.flipRateScale(label: label, vocabulary: vocabulary).z(effect.flipRate), method: source)
  }
}
