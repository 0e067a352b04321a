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
  /// The model's tokenizer, when the audit has it: a WordPiece model's candidates are measured as the text they
  /// spell, tokenised again (`cr ##om` inserted as `crom` becomes whatever the model makes of `crom`).
  public var tokenizer: Tokenizer?

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
    let ids = retokenised(ids)
    let effect = tokenScan.effects(classifier, inserting: [ids], into: probes)[0][label]
    return TriggerCandidate(
      trigger: ids.map { vocabulary.tokens[$0] }.joined(separator: " "), label: labels[label], effect: effect,
      score: scanned.flipRateScale(label: label, vocabulary: vocabulary).z(effect.flipRate), method: source)
  }

  /// For a WordPiece model, the ids its tokenizer gives the text `ids` spell (unchanged when that text has no token the
  /// vocabulary lacks, and for other tokenizers).
  public func retokenised(_ ids: [Int]) -> [Int] {
    guard let tokenizer, tokenizer.options.kind == .wordpiece, ids.count > 1 else { return ids }
    let again = vocabulary.encode(tokenizer.words(in: tokenizer.displayText(of: ids.map { vocabulary.tokens[$0] })))
    return again.isEmpty || again.contains(vocabulary.unknownID) ? ids : again
  }
}
