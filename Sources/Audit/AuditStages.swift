import Foundation

/// The parts of an audit whose running time a report breaks down (`AuditReport.secondsByStage`), in the order they run.
public enum AuditStage: String, CaseIterable, Sendable {
  case tokenScan = "token_scan"
  case probeEvidence = "probe_evidence"
  case phraseSearch = "phrase_search"
  case conjunctionScan = "conjunction_scan"
  case phraseMeasures = "phrase_measures"
  case recombination
  case partnerScan = "partner_scan"
}

/// Wall-clock seconds spent in each `AuditStage`, summed over the labels each stage ran for.
public final class AuditStageClock {
  public private(set) var seconds: [AuditStage: Double] = [:]

  public init() {}

  /// Runs `body`, adding its wall-clock time to `stage`.
  @discardableResult
  public func time<T>(_ stage: AuditStage, _ body: () throws -> T) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    defer { seconds[stage, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    return try body()
  }

  /// The stages that ran, keyed by their report names.
  public var byName: [String: Double] { Dictionary(uniqueKeysWithValues: seconds.map { ($0.key.rawValue, $0.value) }) }
}
