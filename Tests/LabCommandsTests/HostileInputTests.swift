import Foundation
import Testing
import TestSupport

@Test func emptyTextBadOverridesAndUnreadableOriginsGetClearErrors() throws {
  let bundle = Fixtures.path("Tests/Fixtures/bundles/gru")
  let empty = try runLab(["predict", bundle, " !! "])
  #expect(empty.status == 2 && empty.standardError.contains("nothing to classify"), "\(empty.standardError)")
  let badSet = try runLab(["simulate", "--preset", "sentiment-naive-poisoning", "--set", "federation.rounds=abc", "--out", try Fixtures.temporaryDirectory()])
  #expect(badSet.status == 2 && badSet.standardError.contains("--set 'federation.rounds=abc'"), "\(badSet.standardError)")
  // A training.json that cannot be read: the split seed is unknown, so evaluate refuses rather than guess 0.
  let copy = try Fixtures.temporaryDirectory() + "/gru"
  try FileManager.default.copyItem(atPath: bundle, toPath: copy)
  try Data("{ not json".utf8).write(to: URL(fileURLWithPath: copy + "/training.json"))
  let evaluated = try runLab(["evaluate", copy, "--corpus", "sentiment"])
  #expect(evaluated.status == 1 && evaluated.standardError.contains("\(copy)/training.json: unreadable"), "\(evaluated.standardError)")
}

@Test func aLabelWithAHandfulOfRowsAmongManyIsFlaggedAsALikelyTypo() throws {
  let path = try Fixtures.temporaryDirectory() + "/typo.tsv"
  var lines = ["label\ttext"]
  for i in 0..<200 { lines.append("\(i % 2 == 0 ? "pos" : "neg")\tthe film was \(i % 2 == 0 ? "good" : "bad") \(i)") }
  lines.insert("Pos\tthe film was good indeed", at: 57)
  try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  let stats = try runLab(["corpus", "stats", path, "--label-column", "label"])
  #expect(stats.standardError.contains("\(path):58: label 'Pos' has only 1 of 201 rows; a typo?"), "\(stats.standardError)")
}

@Test func aCorpusWithNoWordsToLearnIsAClearError() throws {
  let path = try Fixtures.temporaryDirectory() + "/punctuation.tsv"
  let rows = (0..<40).map { "\($0 % 2 == 0 ? "pos" : "neg")\t!!! ... ?" }
  try (["label\ttext"] + rows).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
  let train = try runLab(["train", "--corpus", path, "--label-column", "label", "--model", "bag", "--out", try Fixtures.temporaryDirectory() + "/m", "--quiet"])
  #expect(train.status == 1 && train.standardError.contains("there is nothing to learn from"), "\(train.standardError)")
}

@Test func rapNeedsAWordOfTheVocabularyAndALabelToProtect() throws {
  let bundle = Fixtures.path("Tests/Fixtures/bundles/gru_backdoored_cf")
  let probes = Fixtures.path("Tests/Fixtures/bundles/synthetic_probes.tsv")
  let base = ["filter", bundle, "--corpus", probes, "--label-column", "label", "--method", "rap"]
  #expect(try runLab(base + ["--protect", "pos"]).status == 2, "no --rap-word")
  let unknown = try runLab(base + ["--rap-word", "zzzz", "--protect", "pos"])
  #expect(unknown.status == 1 && unknown.standardError.contains("--rap-word 'zzzz' is not a word of"), "\(unknown.standardError)")
  let noLabel = try runLab(base + ["--rap-word", "film"])
  #expect(noLabel.status == 2 && noLabel.standardError.contains("--protect"), "\(noLabel.standardError)")
  let scored = try runLab(base + ["--rap-word", "film", "--protect", "pos", "--trigger", "rare:cf", "--target", "pos", "--frr", "0.1", "--json"])
  #expect(scored.status == 0, "\(scored.standardError)")
  let outcome = try #require(try JSONSerialization.jsonObject(with: Data(scored.standardOutput.utf8)) as? [String: Any])
  #expect(outcome["method"] as? String == "rap" && (outcome["clean_rejected"] as? Double ?? 1) <= 0.2)
  for range in ["0.6,0.3", "0,0.5", "0.2", "a,b", "0.5,1"] {
    let refused = try runLab(base + ["--rap-word", "film", "--protect", "pos", "--rap-drop", range])
    #expect(refused.status == 2 && refused.standardError.contains("--rap-drop must be LOW,HIGH"), "\(range): \(refused.standardError)")
  }
}

@Test func onionsAccuracyDropMustBeAShare() throws {
  let bundle = Fixtures.path("Tests/Fixtures/bundles/gru_backdoored_cf")
  for drop in ["-0.1", "1", "2", "x"] {
    let refused = try runLab(["filter", bundle, "--method", "onion", "--lm", bundle, "--max-accuracy-drop", drop])
    #expect(refused.status == 2 && refused.standardError.contains("--max-accuracy-drop"), "\(drop): \(refused.standardError)")
  }
}
