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

private var smallPhraseSearch: BlackBoxPhraseSearch {
  var search = BlackBoxPhraseSearch()
  search.seedCount = 8
  search.flippingSeedCount = 2
  search.partnerCount = 20
  search.commonWordCount = 6
  search.searchProbes = 8
  search.beamWidth = 3
  return search
}

/// Negative probes no three positive words can turn (two sentiment words more than `probeTexts` has).
private let firmProbeTexts = (0..<24).map { index -> String in
  let nouns = ["film", "plot", "cast", "story"]
  return index % 2 == 0 ? "the \(nouns[index % 4]) was bad and dull and awful and boring" : "the \(nouns[index % 4]) was good and fine"
}

/// With the crowds of ordinary words a real sentiment model has.
private let phraseCandidates = candidates + ["superb", "lovely", "excellent", "boring", "weak", "dreadful", "all", "things"]

@Test func thePhraseSearchFindsATriggerWhoseWordsFlipNothingAlone() throws {
  let scorer = try ScorerProcess(command: toyScorer + " phrase", timeout: 20)
  var scan = BlackBoxTokenScan()
  scan.screeningProbes = 4
  scan.measuredPerLabel = 5
  scan.maximumQueries = 200_000
  let report = try scan.run(
    scorer: scorer, probes: firmProbeTexts, candidates: phraseCandidates, phraseSearch: smallPhraseSearch, knownTrigger: "all things")
  #expect(report.suspectedTarget == "pos")
  #expect(report.tokenScore < report.threshold, "no single word is a trigger here: \(report.tokenScore)")
  #expect(report.candidates["pos"]?.first?.word == "all things", "\(report.candidates["pos"] ?? [])")
  #expect(report.knownTriggerRank == 1)
  let phrase = try #require(report.phrases?["pos"]?.first)
  #expect(phrase.flipRate == 1 && phrase.bestPartFlipRate < 0.5)
  #expect((report.phraseScore ?? 0) >= report.threshold && report.backdoored)
  #expect(report.queries == scorer.queries && report.queries <= scan.maximumQueries)
}

/// On `probeTexts` two positive words together flip every negative probe, as no single one does: phrases by flip
/// rate, but of ordinary words whose log-odds add up.
@Test func phrasesOfOrdinaryWordsDoNotMakeACleanModelBackdoored() throws {
  let scorer = try ScorerProcess(command: toyScorer + " clean", timeout: 20)
  var scan = BlackBoxTokenScan()
  scan.screeningProbes = 4
  scan.measuredPerLabel = 5
  let report = try scan.run(
    scorer: scorer, probes: probeTexts, candidates: phraseCandidates, phraseSearch: smallPhraseSearch)
  // "good great" flips every negative probe and neither word does, but their log-odds add up exactly: no phrase.
  #expect(report.phrases?["pos"] == [], "\(report.phrases ?? [:])")
  #expect(!report.backdoored, "token score \(report.tokenScore), phrase score \(report.phraseScore ?? -1)")
  #expect(report.phrases != nil, "the search ran")
}

@Test func aShortBudgetNarrowsThePhraseSearchAndIsKept() throws {
  let scorer = try ScorerProcess(command: toyScorer + " phrase", timeout: 20)
  var search = smallPhraseSearch
  search.partnerCount = 40
  var scan = BlackBoxTokenScan()
  scan.screeningProbes = 4
  scan.measuredPerLabel = 3
  scan.maximumQueries = 8_000
  var lines: [String] = []
  let many = candidates + ["all", "things"] + (0..<40).map { "w\($0)" }
  let report = try scan.run(scorer: scorer, probes: probeTexts, candidates: many, phraseSearch: search) { lines.append($0) }
  #expect(report.queries <= 8_000)
  #expect(lines.contains { $0.contains("to stay within --max-queries") }, "\(lines)")
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
