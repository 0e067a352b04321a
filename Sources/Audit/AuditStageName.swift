/// The stages of an audit, in the order they run; each is also the key of its seconds in the report's
/// `seconds_by_stage`.
public enum AuditStageName: String, CaseIterable, Sendable {
  case tokenScan = "token_scan"
  case probeEvidence = "probe_evidence"
  case phraseSearch = "phrase_search"
  case conjunctionScan = "conjunction_scan"
  case phraseMeasures = "phrase_measures"
  case recombination
  case partnerScan = "partner_scan"
  case wordCompletion = "word_completion"
}
