/// What an audit has found so far; each stage adds to it.
public struct AuditState: Sendable {
  /// The single-token scan (`TokenScanStage`), its ordinary words set by `ProbeEvidenceStage`.
  public var scanned: ScanResult?
  /// The probe text's evidence of ordinary words (`ProbeEvidenceStage`).
  public var evidence: ProbeEvidence?
  /// The probe text's words, commonest first: where the anchored phrase search starts, the conjunction and partner
  /// scans' context (empty when phrases are not searched).
  public var commonWords: [Int] = []
  public var candidates = CandidateList(byLabel: [], limit: 0)
  public var scores = LabelScores(token: [])
  /// The label being searched, while the per-label stages run.
  public var search = LabelSearch()

  public init() {}

  /// The token scan; stages after `TokenScanStage` may rely on it.
  public var scan: ScanResult {
    guard let scanned else { preconditionFailure("the token scan runs first") }
    return scanned
  }
}
