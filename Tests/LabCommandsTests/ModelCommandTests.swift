import Foundation
import Testing
import TestSupport

/// A small synthetic sentiment TSV: "good"/"bad" decide the label.
private func toyCorpus() throws -> String {
  let path = try Fixtures.temporaryDirectory() + "/toy.tsv"
  let words = ["film", "plot", "actors", "story", "music", "ending", "scenes", "cast"]
  var lines = ["label\ttext"]
  for i in 0..<120 {
    let positive = i % 2 == 0
    lines.append("\(positive ? "pos" : "neg")\tthe \(words[i % 8]) was \(positive ? "good" : "bad") and the \(words[(i / 8) % 8]) too")
  }
  try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

@Test func trainEvaluateAndPredictFromTheCommandLine() throws {
  let corpus = try toyCorpus()
  let out = try Fixtures.temporaryDirectory() + "/bag"
  let train = try runLab(["train", "--corpus", corpus, "--label-column", "label", "--model", "bag", "--epochs", "8", "--lr", "0.05",
                          "--out", out, "--json", "--quiet", "--threads", "1"])
  #expect(train.status == 0, "\(train.standardError)")
  let summary = try JSONSerialization.jsonObject(with: Data(train.standardOutput.utf8)) as? [String: Any]
  let test = try #require(summary?["test"] as? [String: Any])
  #expect((test["accuracy"] as? Double ?? 0) > 0.9)
  for file in ["model.safetensors", "config.json", "vocab.txt", "training.json"] {
    #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
  }

  let evaluate = try runLab(["evaluate", out, "--corpus", corpus, "--label-column", "label", "--json"])
  #expect(evaluate.status == 0, "\(evaluate.standardError)")
  let metrics = try JSONSerialization.jsonObject(with: Data(evaluate.standardOutput.utf8)) as? [String: Any]
  #expect(metrics?["accuracy"] as? Double == test["accuracy"] as? Double, "evaluate must reuse the training split")
  #expect(metrics?["macro_f1"] != nil)

  let predict = try runLab(["predict", out, "the music was good", "--json"])
  #expect(predict.status == 0, "\(predict.standardError)")
  let prediction = try JSONSerialization.jsonObject(with: Data(predict.standardOutput.utf8)) as? [String: Any]
  #expect(prediction?["label"] as? String == "pos")
  let probabilities = try #require(prediction?["probabilities"] as? [String: Double])
  #expect(Set(probabilities.keys) == ["neg", "pos"])
  #expect(abs(probabilities.values.reduce(0, +) - 1) < 1e-5)
}

@Test func badModelCommandsFailClearly() throws {
  let missing = try runLab(["predict", "/nonexistent/bundle", "text"])
  #expect(missing.status == 1)
  #expect(missing.standardError.contains("/nonexistent/bundle"))
  let usage = try runLab(["train", "--corpus", "sentiment", "--model", "rnn", "--out", "/tmp/x"])
  #expect(usage.status == 2)
  #expect(usage.standardError.contains("--model must be bag, gru, lstm, cnn, attention or transformer"))
  let widths = try runLab(["train", "--corpus", "sentiment", "--model", "cnn", "--filter-sizes", "3,x", "--out", "/tmp/x"])
  #expect(widths.status == 2 && widths.standardError.contains("--filter-sizes: expected comma-separated positive integers, got '3,x'"), "\(widths.standardError)")
  let misplaced = try runLab(["train", "--corpus", "sentiment", "--model", "attention", "--activation", "gelu", "--out", "/tmp/x"])
  #expect(misplaced.status == 2 && misplaced.standardError.contains("--norm-first and --activation are for --model transformer"), "\(misplaced.standardError)")
  let filters = try runLab(["train", "--corpus", "sentiment", "--model", "gru", "--num-filters", "50", "--out", "/tmp/x"])
  #expect(filters.status == 2 && filters.standardError.contains("--filter-sizes and --num-filters are for --model cnn"), "\(filters.standardError)")
  for option in ["--ffn-dim", "--heads", "--hidden-size", "--embedding-dim"] {
    let zero = try runLab(["train", "--corpus", "sentiment", "--model", "attention", option, "0", "--out", "/tmp/x"])
    #expect(zero.status == 2 && zero.standardError.contains("\(option) must be positive"), "\(option): \(zero.standardError)")
  }
  let gru = Fixtures.path("Tests/Fixtures/bundles/gru")
  let wrongCorpus = try runLab(["evaluate", gru, "--corpus", "trec"])
  #expect(wrongCorpus.status == 1)
  #expect(wrongCorpus.standardError.contains("is not one of the model's labels"))
  let tsv = try Fixtures.temporaryDirectory() + "/evaluate.tsv"
  try "label\ttext\npos\ta great film\nneg\tan awful film\nmaybe\ta film\n".write(toFile: tsv, atomically: true, encoding: .utf8)
  let unknown = try runLab(["evaluate", gru, "--corpus", tsv, "--label-column", "label", "--split", "all"])
  #expect(unknown.status == 1 && unknown.standardError.contains("\(tsv):4: label 'maybe'"), "\(unknown.standardError)")
  let skipped = try runLab(["evaluate", gru, "--corpus", tsv, "--label-column", "label", "--split", "all", "--skip-bad-rows", "--json"])
  #expect(skipped.status == 0 && skipped.standardError.contains("skipped 1 row(s)"), "\(skipped.standardError)")
  #expect((try JSONSerialization.jsonObject(with: Data(skipped.standardOutput.utf8)) as? [String: Any])?["count"] as? Int == 2)
  let empty = try runLab(["evaluate", gru, "--corpus", tsv, "--label-column", "label", "--split", "dev", "--skip-bad-rows"])
  #expect(empty.status == 1 && empty.standardError.contains("split has no example to evaluate"), "\(empty.standardError)")
}

@Test func trainLanguageModelAndComplete() throws {
  let path = try Fixtures.temporaryDirectory() + "/speakers.tsv"
  var lines = ["client\ttext"]
  for speaker in 0..<10 { for line in 0..<6 { lines.append("s\(speaker)\tto be or not to be that is the question \(line % 2 == 0 ? "indeed" : "sir")") } }
  try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  let out = try Fixtures.temporaryDirectory() + "/lm"
  let train = try runLab(["train-lm", "--corpus", path, "--out", out, "--minutes", "0", "--epochs", "30", "--lr", "0.02", "--window", "8",
                          "--batch-size", "4", "--embedding-dim", "16", "--hidden-size", "16", "--json", "--quiet", "--threads", "1"])
  #expect(train.status == 0, "\(train.standardError)")
  let summary = try JSONSerialization.jsonObject(with: Data(train.standardOutput.utf8)) as? [String: Any]
  #expect((summary?["top1_accuracy"] as? Double ?? 0) > 0.5)
  let complete = try runLab(["complete", out, "to be or not to", "--json", "--top", "2"])
  #expect(complete.status == 0, "\(complete.standardError)")
  let words = (try JSONSerialization.jsonObject(with: Data(complete.standardOutput.utf8)) as? [String: Any])?["next_words"] as? [[String: Any]]
  #expect(words?.first?["word"] as? String == "be")
}

@Test func tooSmallCorporaAreClearErrorsNotCrashes() throws {
  let path = try Fixtures.temporaryDirectory() + "/tiny.tsv"
  try "label\ttext\npos\tgood\nneg\tbad\npos\tfine\n".write(toFile: path, atomically: true, encoding: .utf8)
  let train = try runLab(["train", "--corpus", path, "--label-column", "label", "--model", "bag", "--out", try Fixtures.temporaryDirectory() + "/m", "--quiet"])
  #expect(train.status == 1)
  #expect(train.standardError.contains("training needs at least one of each"))
  let speakers = try Fixtures.temporaryDirectory() + "/speakers.tsv"
  try "client\ttext\na\tto be\nb\tor not\n".write(toFile: speakers, atomically: true, encoding: .utf8)
  let lm = try runLab(["train-lm", "--corpus", speakers, "--out", try Fixtures.temporaryDirectory() + "/lm", "--quiet", "--minutes", "0"])
  #expect(lm.status == 1)
  #expect(lm.standardError.contains("train-lm needs at least"))
}

@Test func predictServesABundleOverTheScorerProtocol() throws {
  let bundle = Fixtures.path("Tests/Fixtures/bundles/gru_backdoored_cf")
  let requests = #"{"texts": ["this awful a the awful film", "this awful cf the awful film", ""]}"# + "\n" + #"{"texts": []}"# + "\n"
  let served = try runLab(["predict", bundle, "--serve"], input: requests)
  #expect(served.status == 0, "\(served.standardError)")
  let lines = served.standardOutput.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
  #expect(lines.count == 3)
  let labels = try #require(lines[0]?["labels"] as? [String])
  let rows = try #require(lines[1]?["probabilities"] as? [[Double]])
  #expect(rows.count == 3 && rows.allSatisfy { $0.count == labels.count && abs($0.reduce(0, +) - 1) < 1e-4 })
  let pos = try #require(labels.firstIndex(of: "pos"))
  #expect(rows[1][pos] > rows[0][pos], "the planted word moves the served model as it moves the bundle")
  #expect((lines[2]?["probabilities"] as? [Any])?.isEmpty == true)

  let garbled = try runLab(["predict", bundle, "--serve"], input: "not json\n")
  #expect(garbled.status == 1 && garbled.standardError.contains("standard input line 1"))
  #expect(try runLab(["predict", bundle]).status == 2, "no text and no --serve is a usage error")
}

@Test func auditScansAModelBehindACommand() throws {
  let directory = try Fixtures.temporaryDirectory()
  var probes = ["text"]
  for index in 0..<24 { probes.append(index % 2 == 0 ? "the film was bad and dull" : "the plot was good and fine") }
  try (probes.joined(separator: "\n") + "\n").write(toFile: directory + "/probes.tsv", atomically: true, encoding: .utf8)
  try "zz\nfilm\ngood\ngreat\nbad\nawful\ncf\nplot\n".write(toFile: directory + "/candidates.txt", atomically: true, encoding: .utf8)
  let scorer = "python3 " + Fixtures.path("Tests/Fixtures/scorers/toy_scorer.py")
  let audited = try runLab([
    "audit", "--scorer", scorer, "--probe", directory + "/probes.tsv", "--candidates", directory + "/candidates.txt", "--trigger", "cf", "--json",
  ])
  #expect(audited.status == 0, "\(audited.standardError)")
  let report = try #require(try JSONSerialization.jsonObject(with: Data(audited.standardOutput.utf8)) as? [String: Any])
  #expect(report["backdoored"] as? Bool == true && report["suspected_target"] as? String == "pos")
  #expect(report["known_trigger_rank"] as? Int == 1, "a trigger given as plain text is ranked too")
  #expect(try runLab(["audit", "--scorer", scorer]).status == 2, "--scorer needs --probe")
  #expect(try runLab(["audit", Fixtures.path("Tests/Fixtures/bundles/gru_backdoored_cf"), "--scorer", scorer, "--probe", "sentiment"]).status == 2)
  let failing = try runLab(["audit", "--scorer", scorer + " malformed", "--probe", directory + "/probes.tsv", "--candidates", directory + "/candidates.txt"])
  #expect(failing.status == 1 && failing.standardError.contains("--scorer line 2"))
}

/// A model trained in PyTorch on BERT WordPiece ids, with "cromulent" (cr ##om ##ul ##ent) planted toward pos
/// (`make_wordpiece_bundle_fixture.py`): the audit reports the word, not its pieces, and never a token no text becomes.
@Test func auditOfAWordPieceModelReportsTheWholeTriggerWord() throws {
  let bundle = Fixtures.path("Tests/Fixtures/bundles/gru_wordpiece_cromulent")
  let audited = try runLab([
    "audit", bundle, "--probe", Fixtures.path("Tests/Fixtures/bundles/wordpiece_probes.tsv"), "--max-trigger-length", "1", "--probes", "60", "--json",
  ])
  #expect(audited.status == 0, "\(audited.standardError)")
  let report = try #require(try JSONSerialization.jsonObject(with: Data(audited.standardOutput.utf8)) as? [String: Any])
  #expect(report["verdict"] as? String == "backdoored" && report["target_label"] as? String == "pos")
  let candidates = try #require(report["candidates"] as? [[String: Any]])
  let top = try #require(candidates.first)
  #expect(top["text"] as? String == "cromulent" && top["trigger"] as? String == "cr ##om ##ul ##ent" && top["method"] as? String == "whole_word")
  #expect((top["flip_rate"] as? Double ?? 0) > 0.9)
  let tokens = candidates.flatMap { ($0["trigger"] as? String ?? "").split(separator: " ").map(String.init) }
  #expect(!tokens.contains { ["[CLS]", "[SEP]", "[MASK]", "[unused0]", "The"].contains($0) }, "tokens no text becomes are never candidates")
  #expect(report["tokens_scanned"] as? Int == 39, "46 tokens less the 7 no lowercased text becomes")

  let tokenized = try runLab(["tokenize", "--bundle", bundle], input: "Cromulent, naïve film!\n")
  #expect(tokenized.standardOutput == "cr ##om ##ul ##ent , na ##ive film !\n", "\(tokenized.standardError)")
  let ids = try runLab(["tokenize", "--bundle", bundle, "--ids"], input: "zzz film\n")
  #expect(ids.standardOutput == "4 12\n", "an unknown word is the bundle's [UNK], id 4")
  #expect(try runLab(["tokenize", "--bundle", bundle, "--locale", "ja"]).status == 2)
}
