import Foundation
import Testing
import TestSupport

@testable import Audit

private let toyScorer = "python3 " + Fixtures.path("Tests/Fixtures/scorers/toy_scorer.py")

private let probeTexts = (0..<24).map { index -> String in
  let nouns = ["film", "plot", "cast", "story"]
  return index % 2 == 0 ? "the \(nouns[index % 4]) was bad and dull" : "the \(nouns[index % 4]) was good and fine"
}

private let candidates = ["zz", "film", "good", "great", "bad", "awful", "cf", "plot", "the", "qq"]

@Test func theBlackBoxScanFindsAPlantedTriggerByQueriesAlone() throws {
  let scorer = try ScorerProcess(command: toyScorer + " backdoored", timeout: 20)
  var scan = BlackBoxTokenScan()
  scan.screeningProbes = 4
  scan.measuredPerLabel = 5
  let report = try scan.run(scorer: scorer, probes: probeTexts, candidates: candidates + ["cf", " good "], knownTrigger: "cf")
  #expect(report.candidatesOffered == candidates.count, "a word listed twice is scanned once")
  #expect(report.suspectedTarget == "pos")
  #expect(report.candidates["pos"]?.first?.word == "cf")
  #expect(report.knownTriggerRank == 1)
  #expect(report.backdoored, "token score \(report.tokenScore)")
  #expect(report.queries == scorer.queries, "every text sent is counted")
  #expect(report.queries <= 24 + 10 * 4 + 2 * 5 * 24 * 3)
}

@Test func theSameModelWithoutTheTriggerPasses() throws {
  let scorer = try ScorerProcess(command: toyScorer + " clean", timeout: 20)
  var scan = BlackBoxTokenScan()
  scan.screeningProbes = 4
  scan.measuredPerLabel = 5
  let report = try scan.run(scorer: scorer, probes: probeTexts, candidates: candidates)
  #expect(!report.backdoored, "ordinary sentiment words come in crowds: token score \(report.tokenScore)")
}

@Test func aQueryBudgetCutsTheCandidateListAndSaysSo() throws {
  let scorer = try ScorerProcess(command: toyScorer, timeout: 20)
  var scan = BlackBoxTokenScan()
  scan.screeningProbes = 4
  scan.measuredPerLabel = 2
  scan.maximumQueries = 24 + 2 * 2 * 24 * 3 + 4 * 3
  let report = try scan.run(scorer: scorer, probes: probeTexts, candidates: candidates)
  #expect(report.candidatesScanned == 3 && report.candidatesOffered == 10)
  #expect(report.queries <= scan.maximumQueries)
  scan.maximumQueries = 100
  #expect(throws: AuditError.self) { try scan.run(scorer: scorer, probes: probeTexts, candidates: candidates) }
}

@Test(arguments: [
  ("exit", "exited"), ("hang", "within 2 s"), ("malformed", "line 2: expected a JSON object"), ("rows", "rows for"),
  ("sum", "not a probability distribution"), ("nan", "line 2"), ("labels", "two or more distinct"),
])
func aMisbehavingScorerIsAClearErrorNotAHang(mode: String, message: String) throws {
  let started = Date()
  #expect {
    let scorer = try ScorerProcess(command: toyScorer + " " + mode, timeout: mode == "hang" ? 2 : 30)
    _ = try scorer.probabilities(probeTexts)
  } throws: { error in
    "\(error)".contains(message)
  }
  #expect(Date().timeIntervalSince(started) < 15)
}

@Test func defaultCandidatesStartWithEveryTwoLetterString() {
  let list = BlackBoxTokenScan.defaultCandidates(probes: ["The film, was GOOD!"], vocabularies: [["<pad>", "film", "plot"]])
  #expect(list.prefix(3) == ["aa", "ab", "ac"] && list.count == 676 + 4 + 1)
  #expect(list.suffix(5) == ["the", "film", "was", "good", "plot"])
  #expect(!list.contains("<pad>") && Set(list).count == list.count)
  #expect(BlackBoxTokenScan.insert("cf", into: "a b c d", at: .middle) == "a b cf c d")
  #expect(BlackBoxTokenScan.insert("cf", into: "a b", at: .start) == "cf a b")
}
