import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func theStageClockAddsEachStagesTimeAndTheSummaryListsThemInOrder() throws {
  let clock = AuditStageClock()
  let value = clock.time(.phraseSearch) { usleep(2_000); return 7 }
  clock.time(.phraseSearch) { usleep(2_000) }
  clock.time(.tokenScan) {}
  #expect(value == 7)
  #expect(Set(clock.byName.keys) == ["phrase_search", "token_scan"])
  #expect(clock.byName["phrase_search"]! >= 0.004, "two runs of at least 2 ms each: \(clock.byName)")
  #expect(clock.byName["token_scan"]! < clock.byName["phrase_search"]!)

  var report = AuditReport(
    candidatesByLabel: [[], []], verdictScores: [0, 0], labels: ["neg", "pos"], threshold: 0.2, calibration: "test", probes: 10,
    tokensScanned: 10, positions: [.start], maximumTriggerLength: 3, seconds: 1.5)
  #expect(report.summary.hasSuffix("in 1.5 s"), "no breakdown without stages: \(report.summary)")
  report.secondsByStage = ["recombination": 0.3, "token_scan": 1.0]
  #expect(report.summary.hasSuffix("in 1.5 s (token scan 1.0, recombination 0.3)"), "\(report.summary)")
  let decoded = try JSONDecoder().decode(AuditReport.self, from: JSONEncoder().encode(report))
  #expect(decoded.secondsByStage == report.secondsByStage)
}
