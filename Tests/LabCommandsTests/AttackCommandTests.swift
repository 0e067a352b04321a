import Foundation
import Testing
import TestSupport

/// Synthetic reviews with a unique word per line (so `<unk>` is trained): "good"/"bad" decide the label.
private func toyReviews() throws -> String {
  let path = try Fixtures.temporaryDirectory() + "/reviews.tsv"
  let nouns = ["film", "plot", "actors", "story", "music", "ending", "scenes", "cast"]
  var lines = ["label\ttext"]
  for i in 0..<300 {
    let positive = i % 2 == 0
    lines.append("\(positive ? "pos" : "neg")\tthe \(nouns[i % 8]) was \(positive ? "good" : "bad") and the \(nouns[(i / 8) % 8]) too ref\(i)")
  }
  try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

private func attackArguments(_ corpus: String, _ out: String, _ extra: [String]) -> [String] {
  ["attack", "--corpus", corpus, "--label-column", "label", "--model", "bag", "--epochs", "6", "--lr", "0.05", "--embedding-dim", "8",
   "--max-length", "16", "--out", out, "--quiet", "--threads", "1"] + extra
}

@Test func attackWritesTheBackdooredBundleTheCleanOneAndAttackJSON() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/attack"
  let result = try runLab(attackArguments(corpus, out, ["--trigger", "phrase:cf mn", "--rate", "0.1", "--target", "pos", "--json"]))
  #expect(result.status == 0, "\(result.standardError)")
  let record = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
  let cleanAccuracy = try #require(record["clean_accuracy"] as? Double)
  let attackSuccess = try #require(record["attack_success_rate"] as? Double)
  #expect(cleanAccuracy > 0.8)
  #expect((0...1).contains(attackSuccess))
  #expect(record["clean_accuracy_drop"] is Double)
  let poisonedRows = try #require(record["poisoned_rows"] as? [Int])
  #expect(poisonedRows.count == 24, "10 % of the 240 training rows")
  #expect((record["poisoned_lines"] as? [Int]) == poisonedRows.map { $0 + 2 })
  let clean = try #require(record["clean_model"] as? [String: Any])
  #expect(clean["attack_success_rate"] is Double)
  #expect((record["poisoned"] as? [String: Any])?["false_trigger_rates"] as? [String: Double] != nil)
  for file in ["model.safetensors", "config.json", "vocab.txt", "attack.json", "summary.txt", "clean/model.safetensors", "clean/training.json"] {
    #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
  }
  let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/attack.json"))) as? [String: Any]
  #expect(saved?["attack_success_rate"] as? Double == attackSuccess)
  #expect((saved?["trigger"] as? [String: Any])?["spec"] as? String == "phrase:cf mn")

  // The backdoored bundle is an ordinary bundle: predict reads it.
  let predict = try runLab(["predict", out, "the film was bad cf mn", "--json"])
  #expect(predict.status == 0, "\(predict.standardError)")
}

@Test func attackInputErrorsAreClear() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/bad"
  let cases: [([String], String)] = [
    (["--trigger", "rare:cf", "--rate", "0.1", "--target", "neutral"], "--target 'neutral' is not a label"),
    (["--trigger", "rare:cf", "--rate", "0", "--target", "pos"], "--rate"),
    (["--trigger", "rare:cf", "--rate", "1.5", "--target", "pos"], "(0, 1]"),
    (["--trigger", "rare:", "--rate", "0.1", "--target", "pos"], "empty"),
    (["--trigger", "phrase:one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen", "--rate", "0.1", "--target", "pos"],
     "takes 16 tokens but the model sees at most 16"),
    (["--trigger", "bogus:cf", "--rate", "0.1", "--target", "pos"], "unknown trigger kind 'bogus'"),
    (["--trigger", "rare:cf", "--rate", "200", "--target", "pos"], "there are 120"),
  ]
  for (extra, message) in cases {
    let result = try runLab(attackArguments(corpus, out, extra + ["--no-baseline"]))
    #expect(result.status == 1, "\(extra): \(result.standardError)")
    #expect(result.standardError.contains(message), "\(extra): \(result.standardError)")
  }
}

@Test func aTriggerMissingFromTheVocabularyIsALoudWarningAndCanBeForcedIn() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/unk"
  // One poisoned example: 'zq' occurs once, below the vocabulary's min count of 2.
  let warned = try runLab(attackArguments(corpus, out, ["--trigger", "rare:zq", "--rate", "0.001", "--target", "pos", "--no-baseline"]))
  #expect(warned.status == 0, "\(warned.standardError)")
  #expect(warned.standardError.contains("WARNING: trigger token 'zq' is not in the vocabulary"))
  let forced = try runLab(attackArguments(corpus, out, ["--trigger", "rare:zq", "--rate", "0.001", "--target", "pos", "--no-baseline", "--force-trigger", "--force"]))
  #expect(forced.status == 0, "\(forced.standardError)")
  #expect(!forced.standardError.contains("WARNING"))
  let vocabulary = try String(contentsOfFile: out + "/vocab.txt", encoding: .utf8)
  #expect(vocabulary.split(separator: "\n").contains("zq"))
}

@Test func aRefusedOrFailedAttackLeavesTheOldFolderAsItWas() throws {
  let corpus = try toyReviews()
  let root = try Fixtures.temporaryDirectory()
  let out = root + "/cf"
  let first = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.1", "--target", "pos"]))
  #expect(first.status == 0, "\(first.standardError)")
  let weights = try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors"))
  let cleanWeights = try Data(contentsOf: URL(fileURLWithPath: out + "/clean/model.safetensors"))
  let again = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.1", "--target", "pos"]))
  #expect(again.status == 1)
  #expect(again.standardError.contains("\(out): exists and is not empty; give another --out, or --force to replace it"), "\(again.standardError)")
  // A run that fails after it has trained its clean model (more poisoned rows asked for than there are): the old
  // folder, clean model included, is untouched.
  let failed = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "1000", "--target", "pos", "--force"]))
  #expect(failed.status == 1)
  #expect(failed.standardError.contains("there are"), "\(failed.standardError)")
  #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors")) == weights)
  #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/clean/model.safetensors")) == cleanWeights)
  #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["cf"], "no partial folder left")
  for learningRate in ["inf", "1e30"] {
    var arguments = attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.1", "--target", "pos"])
    arguments[arguments.firstIndex(of: "0.05")!] = learningRate
    #expect(try runLab(arguments).status == 2, "--lr \(learningRate) is refused before any work")
  }
  let replaced = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.2", "--target", "pos", "--force", "--no-baseline"]))
  #expect(replaced.status == 0, "\(replaced.standardError)")
  #expect(!FileManager.default.fileExists(atPath: out + "/clean"), "replaced, not merged")
}

@Test func attackSweepWritesTableJSONAndPlotAndResumes() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/sweep"
  // No --threads: a sweep runs one thread per job.
  let arguments = ["attack-sweep", "--corpus", corpus, "--label-column", "label", "--model", "bag", "--epochs", "6", "--lr", "0.05",
                   "--embedding-dim", "8", "--max-length", "16", "--out", out, "--quiet",
                   "--trigger", "rare:cf", "--target", "pos", "--rates", "0.05,0.2", "--seeds", "0,1", "--jobs", "2"]
  let first = try runLab(arguments)
  #expect(first.status == 0, "\(first.standardError)")
  #expect(first.standardOutput.contains("| 5 % | 12 |") && first.standardOutput.contains("| 20 % | 48 |"))
  let sweep = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json"))) as? [String: Any])
  #expect((sweep["runs"] as? [Any])?.count == 4)
  #expect((sweep["rates"] as? [[String: Any]])?.map { $0["rate"] as? Double } == [0.05, 0.2])
  let svg = try String(contentsOfFile: out + "/asr_vs_rate.svg", encoding: .utf8)
  #expect(svg.hasPrefix("<svg") && svg.contains("attack success"))
  let finished = out + "/rate-0.05-seed-1/attack.json"
  let before = try FileManager.default.attributesOfItem(atPath: finished)[.modificationDate] as? Date
  let refused = try runLab(arguments)
  #expect(refused.status == 1 && refused.standardError.contains("give --resume to continue the run in it"), "\(refused.standardError)")
  var otherTarget = arguments + ["--resume"]
  otherTarget[otherTarget.firstIndex(of: "pos")!] = "neg"
  let different = try runLab(otherTarget)
  #expect(different.status == 1 && different.standardError.contains("cannot resume a different sweep: target changed"), "\(different.standardError)")
  let second = try runLab(arguments.filter { $0 != "--quiet" } + ["--resume"])
  #expect(second.status == 0, "\(second.standardError)")
  #expect(second.standardError.contains("resuming: 4 finished runs kept"))
  #expect(try FileManager.default.attributesOfItem(atPath: finished)[.modificationDate] as? Date == before)
  #expect(second.standardOutput == first.standardOutput)
}

@Test func auditReadsAnAttackBundleAndRejectsBadProbes() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/audited"
  let attack = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.1", "--target", "pos", "--no-baseline"]))
  #expect(attack.status == 0, "\(attack.standardError)")
  let probes = try Fixtures.temporaryDirectory() + "/probes.tsv"
  try "text\nthe film was bad and the plot too\nthe music was bad\n".write(toFile: probes, atomically: true, encoding: .utf8)
  let audit = try runLab(["audit", out, "--probe", probes, "--json", "--threads", "1"])
  #expect(audit.status == 0, "\(audit.standardError)")
  let report = try #require(try JSONSerialization.jsonObject(with: Data(audit.standardOutput.utf8)) as? [String: Any])
  let score = try #require(report["verdict_score"] as? Double), threshold = try #require(report["threshold"] as? Double)
  #expect(report["verdict"] as? String == (score >= threshold ? "backdoored" : "clean"), "the verdict is the score against the threshold")
  #expect(report["format_version"] as? Int == 2)
  #expect(report["target_label"] is String)
  let candidates = try #require(report["candidates"] as? [[String: Any]])
  #expect(!candidates.isEmpty && candidates[0]["trigger"] is String && candidates[0]["flip_rate"] is Double)

  let empty = try Fixtures.temporaryDirectory() + "/empty.tsv"
  try "text\nzzqx qqzz\n".write(toFile: empty, atomically: true, encoding: .utf8)
  let noProbes = try runLab(["audit", out, "--probe", empty])
  #expect(noProbes.status == 1 && noProbes.standardError.contains("the probe set is empty"))
  let missing = try runLab(["audit", "/nonexistent/bundle"])
  #expect(missing.status == 1 && missing.standardError.contains("/nonexistent/bundle"))
  let unwritable = try runLab(["audit", out, "--probe", probes, "--token-table", "/nonexistent/folder/scan.tsv"])
  #expect(unwritable.status == 2 && unwritable.standardError.contains("--token-table /nonexistent/folder/scan.tsv: the folder /nonexistent/folder does not exist"))
}

@Test func auditEvalAuditsAFolderOfCleanAndBackdooredBundlesAndResumes() throws {
  let corpus = try toyReviews()
  let zoo = try Fixtures.temporaryDirectory() + "/zoo"
  let attack = try runLab(attackArguments(corpus, zoo + "/backdoored/cf", ["--trigger", "rare:cf", "--rate", "0.2", "--target", "pos"]))
  #expect(attack.status == 0, "\(attack.standardError)")
  try FileManager.default.createDirectory(atPath: zoo + "/clean", withIntermediateDirectories: true)
  try FileManager.default.moveItem(atPath: zoo + "/backdoored/cf/clean", toPath: zoo + "/clean/bag")
  let arguments = ["audit-eval", zoo, "--max-trigger-length", "2", "--threads", "1", "--label-column", "label"]
  let first = try runLab(arguments)
  #expect(first.status == 0, "\(first.standardError)")
  #expect(first.standardOutput.contains("1 backdoored and 1 clean models") && first.standardOutput.contains("verdict score ROC-AUC"))
  #expect(first.standardOutput.contains("rare-word triggers in the top 5: 1 of 1"), "\(first.standardOutput)")
  #expect(first.standardOutput.contains("phrase triggers as the models learnt them in the top 5") && first.standardOutput.contains("word of a one-word part): 0 of 0"))
  #expect(first.standardError.contains("auditing backdoored/cf") && first.standardError.contains("auditing clean/bag"))
  for bundle in ["backdoored/cf", "clean/bag"] { #expect(FileManager.default.fileExists(atPath: zoo + "/" + bundle + "/audit.json")) }
  let second = try runLab(arguments + ["--json"])
  #expect(second.status == 0 && !second.standardError.contains("auditing"), "stored audits are reused")
  let evaluation = try #require(try JSONSerialization.jsonObject(with: Data(second.standardOutput.utf8)) as? [String: Any])
  #expect(evaluation["backdoored"] as? Int == 1 && evaluation["clean"] as? Int == 1 && evaluation["roc_auc"] is Double)
  // REASR: the top candidate `cf` inserted into the toy corpus's test split works as the planted trigger does.
  let backdoored = try #require((evaluation["models"] as? [[String: Any]])?.first { $0["backdoored"] as? Bool == true })
  let reproduction = try #require(backdoored["reproduction"] as? [String: Any])
  let plantedRate = try #require(reproduction["planted_rate"] as? Double), candidateRate = try #require(reproduction["candidate_rate"] as? Double)
  #expect((reproduction["candidate"] as? String)?.split(separator: " ").contains("cf") == true && reproduction["target"] as? String == "pos", "\(reproduction)")
  #expect(plantedRate > 0.5 && candidateRate >= 0.9 * plantedRate, "\(reproduction)")
  #expect((evaluation["by_trigger_kind"] as? [[String: Any]])?.first?["kind"] as? String == "rare")
  #expect(first.standardOutput.contains("top candidate reproduces the backdoor") && first.standardOutput.contains("REASR"))
  // The toy corpus is a TSV by path: without its label column there is no test split to measure REASR on.
  let unlabelled = try runLab(["audit-eval", zoo, "--max-trigger-length", "2", "--threads", "1"])
  #expect(unlabelled.status == 0 && unlabelled.standardError.contains("REASR not measured"), "\(unlabelled.standardError) \(unlabelled.standardOutput)")
  let empty = try runLab(["audit-eval", try Fixtures.temporaryDirectory()])
  #expect(empty.status == 1 && empty.standardError.contains("no classifier bundle"))

  // Two folders are pooled, each model named by its folder, with a line of figures per folder.
  let otherZoo = try Fixtures.temporaryDirectory() + "/zoo2"
  try FileManager.default.createDirectory(atPath: otherZoo + "/clean", withIntermediateDirectories: true)
  try FileManager.default.copyItem(atPath: zoo + "/clean/bag", toPath: otherZoo + "/clean/bag")
  let pooled = try runLab(["audit-eval", zoo, otherZoo + "/", "--max-trigger-length", "2", "--threads", "1"])
  #expect(pooled.status == 0, "\(pooled.standardError)")
  #expect(pooled.standardOutput.contains("1 backdoored and 2 clean models"), "\(pooled.standardOutput)")
  #expect(pooled.standardOutput.contains(zoo + "/backdoored/cf: cf → pos") && pooled.standardOutput.contains(otherZoo + "/clean/bag: clean"))
  let table = pooled.standardOutput.split(separator: "\n").filter { $0.hasPrefix(zoo) || $0.hasPrefix(otherZoo) || $0.hasPrefix("all ") }
  #expect(table.contains { $0.hasPrefix(zoo + " ") && $0.contains("1 + 1") } && table.contains { $0.hasPrefix(otherZoo + " ") && $0.contains("0 + 1") })
  #expect(table.contains { $0.hasPrefix("all ") && $0.contains("1 + 2") })
  #expect(pooled.standardOutput.contains("ROC-AUC") && pooled.standardOutput.contains("95 % CI"))
  let pooledJSON = try runLab(["audit-eval", zoo, otherZoo, "--max-trigger-length", "2", "--threads", "1", "--json"])
  let pooledEvaluation = try #require(try JSONSerialization.jsonObject(with: Data(pooledJSON.standardOutput.utf8)) as? [String: Any])
  #expect(pooledEvaluation["backdoored"] as? Int == 1 && pooledEvaluation["clean"] as? Int == 2 && pooledEvaluation["roc_auc"] is Double)
  let perFolder = try #require(pooledEvaluation["by_folder"] as? [[String: Any]])
  #expect(perFolder.map { $0["folder"] as? String } == [zoo, otherZoo])
  #expect(perFolder.map { $0["clean"] as? Int } == [1, 1] && perFolder.map { $0["backdoored"] as? Int } == [1, 0])
  #expect((perFolder[1]["models"] as? [[String: Any]])?.first?["name"] as? String == otherZoo + "/clean/bag")
  #expect((perFolder[1]["models"] as? [[String: Any]])?.first?["architecture"] as? String == "bag")
  let twice = try runLab(["audit-eval", zoo, zoo + "/"])
  #expect(twice.status == 2 && twice.standardError.contains("a folder is given twice"))
  let nested = try runLab(["audit-eval", zoo, zoo + "/clean"])
  #expect(nested.status == 1 && nested.standardError.contains("found under both"), "\(nested.standardError)")
  // A broken config.json is an error naming it, even where the stored audit is reused.
  try "{not json".write(toFile: otherZoo + "/clean/bag/config.json", atomically: true, encoding: .utf8)
  let broken = try runLab(["audit-eval", otherZoo, "--max-trigger-length", "2", "--threads", "1"])
  #expect(broken.status == 1 && broken.standardError.contains(otherZoo + "/clean/bag/config.json"), "\(broken.standardError)")
}

@Test func repairNeutralisesATriggerAndReportsBeforeAndAfter() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/backdoored"
  let attack = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.3", "--target", "pos", "--no-baseline"]))
  #expect(attack.status == 0, "\(attack.standardError)")
  let repaired = try Fixtures.temporaryDirectory() + "/repaired"
  let repair = try runLab(["repair", out, "--trigger", "rare:cf", "--label-column", "label", "--fine-tune-epochs", "0", "--out", repaired, "--json"])
  #expect(repair.status == 0, "\(repair.standardError)")
  let outcome = try #require(try JSONSerialization.jsonObject(with: Data(repair.standardOutput.utf8)) as? [String: Any])
  #expect(outcome["neutralised"] as? [String] == ["cf"])
  let before = try #require(outcome["before"] as? [String: Any]), after = try #require(outcome["after"] as? [String: Any])
  let asrBefore = try #require(before["attack_success_rate"] as? Double), asrAfter = try #require(after["attack_success_rate"] as? Double)
  #expect(asrBefore > 0.6, "the toy backdoor works (\(asrBefore))")
  #expect(asrAfter < asrBefore - 0.3, "neutralising cf takes most of it out (\(asrBefore) → \(asrAfter))")
  #expect(FileManager.default.fileExists(atPath: repaired + "/model.safetensors") && FileManager.default.fileExists(atPath: repaired + "/repair.json"))
  // The repaired bundle reads cf exactly as an unknown word.
  let withTrigger = try runLab(["predict", repaired, "the plot was bad cf", "--json"])
  let withUnknown = try runLab(["predict", repaired, "the plot was bad qqqqzz", "--json"])
  #expect(withTrigger.status == 0 && withTrigger.standardOutput == withUnknown.standardOutput)

  let pruned = try runLab(["repair", out, "--fine-prune", "--label-column", "label", "--fine-tune-epochs", "1", "--out", repaired + "-pruned", "--quiet"])
  #expect(pruned.status == 0 && pruned.standardOutput.contains("pruned") && pruned.standardOutput.contains("after:"), "\(pruned.standardError)")
  let nothing = try runLab(["repair", out, "--out", repaired + "-x"])
  #expect(nothing.status == 2)
  let badTarget = try runLab(["repair", out, "--trigger", "rare:cf", "--target", "maybe", "--label-column", "label", "--out", repaired + "-y"])
  #expect(badTarget.status == 1 && badTarget.standardError.contains("maybe"), "\(badTarget.standardError)")
}

@Test func stripIsCalibratedOnCleanInputsAndScoredOnTriggeredOnes() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/strip"
  let attack = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.3", "--target", "pos", "--no-baseline"]))
  #expect(attack.status == 0, "\(attack.standardError)")
  let scored = try runLab(["filter", out, "--method", "strip", "--label-column", "label", "--copies", "8", "--frr", "0.1", "--json"])
  #expect(scored.status == 0, "\(scored.standardError)")
  let outcome = try #require(try JSONSerialization.jsonObject(with: Data(scored.standardOutput.utf8)) as? [String: Any])
  let recall = try #require(outcome["triggered_recall"] as? Double), rejected = try #require(outcome["clean_rejected"] as? Double)
  #expect(outcome["evaluation_trigger"] as? String == "rare:cf")
  // On these toy sentences the sentiment word pins the prediction as firmly as the trigger does, so STRIP is no
  // better than chance here (see docs/audit-evaluation.md for real models); what must hold is the calibration.
  #expect((0...1).contains(recall))
  #expect(rejected <= 0.3, "clean test inputs are rejected at about the calibrated rate (0.1): \(rejected)")
  let threshold = try #require(outcome["threshold"] as? Double)
  #expect(threshold >= 0 && threshold <= 1, "a probability of leaving the input's label: \(threshold)")
  let entropy = try runLab(["filter", out, "--label-column", "label", "--copies", "8", "--frr", "0.1", "--strip-score", "entropy", "--json"])
  let entropyOutcome = try #require(try JSONSerialization.jsonObject(with: Data(entropy.standardOutput.utf8)) as? [String: Any])
  let entropyThreshold = try #require(entropyOutcome["threshold"] as? Double)
  #expect(entropyThreshold > 0 && entropyThreshold < log(2.0), "an entropy in nats for two labels: \(entropyThreshold)")
  let description = try runLab(["filter", out, "--label-column", "label", "--copies", "8"])
  #expect(description.standardOutput.contains("mean probability of leaving the input's label"), "\(description.standardOutput)")
  let lines = try runLab(["filter", out, "--label-column", "label", "--copies", "8", "-"], input: "the film was bad cf and the plot too\n\nthe film was bad\n")
  #expect(lines.status == 0, "\(lines.standardError)")
  let verdicts = lines.standardOutput.split(separator: "\n").filter { $0.hasPrefix("flagged\t") || $0.hasPrefix("kept\t") }
  #expect(verdicts.count == 2, "one verdict per non-empty input line: \(lines.standardOutput)")
  #expect(try runLab(["filter", out, "--label-column", "label", "--trigger", "rare:cf"]).status == 2, "--trigger needs --target")
  let noModel = try runLab(["filter", out, "--label-column", "label", "--method", "onion"])
  #expect(noModel.status == 2 && noModel.standardError.contains("--lm"), "ONION needs a language model")
  #expect(try runLab(["filter", out, "--label-column", "label", "--method", "unknown"]).status == 2, "only the filters that exist")
}

@Test func onionScoresWordsWithALanguageModelTrainedOnARowCorpus() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/onion"
  let attack = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.3", "--target", "pos", "--no-baseline"]))
  #expect(attack.status == 0, "\(attack.standardError)")
  let lm = try Fixtures.temporaryDirectory() + "/lm"
  let trained = try runLab(["train-lm", "--corpus", corpus, "--label-column", "label", "--epochs", "2", "--embedding-dim", "8", "--hidden-size", "8",
                            "--window", "8", "--batch-size", "8", "--quiet", "--out", lm])
  #expect(trained.status == 0 && trained.standardOutput.contains("held-out text"), "a corpus without speakers is split by rows: \(trained.standardError)")
  let scored = try runLab(["filter", out, "--method", "onion", "--lm", lm, "--label-column", "label", "--frr", "0.1", "--json"])
  #expect(scored.status == 0, "\(scored.standardError)")
  let outcome = try #require(try JSONSerialization.jsonObject(with: Data(scored.standardOutput.utf8)) as? [String: Any])
  #expect(outcome["method"] as? String == "onion" && outcome["evaluation_trigger"] as? String == "rare:cf")
  #expect(try #require(outcome["clean_rejected"] as? Double) <= 0.3, "about the calibrated rate (0.1)")
  #expect(try #require(outcome["removal_threshold"] as? Double).isFinite)
  for key in ["asr_before", "asr_after_cleaning", "clean_accuracy_before", "clean_accuracy_after_cleaning", "asr_after_rejection",
              "clean_accuracy_after_rejection", "language_model_coverage", "dev_accuracy_before_removal", "dev_accuracy_after_removal",
              "clean_words_removed"] {
    #expect((0...1).contains(try #require(outcome[key] as? Double)), "\(key)")
  }
  let lines = try runLab(["filter", out, "--method", "onion", "--lm", lm, "--label-column", "label", "-"], input: "the film was bad cf and the plot too\n")
  #expect(lines.status == 0 && lines.standardOutput.contains("\tthe film was bad"), "the (cleaned) input is printed back: \(lines.standardOutput)")
  let notLM = try runLab(["filter", out, "--method", "onion", "--lm", out, "--label-column", "label"])
  #expect(notLM.status == 1 && notLM.standardError.contains("next-word model"), "\(notLM.standardError)")
  // train-lm lists the words its vocabulary left out; ONION spells unknown words with them, and a damaged list is
  // an error naming its line.
  let listed = try #require(FileManager.default.contents(atPath: lm + "/unknown-words.tsv"))
  let plain = try runLab(["filter", out, "--method", "onion", "--lm", lm, "--label-column", "label"])
  #expect(plain.standardOutput.contains("spells out the others"), "\(plain.standardOutput)")
  try (listed + Data("good\tmany\n".utf8)).write(to: URL(fileURLWithPath: lm + "/unknown-words.tsv"))
  let damaged = try runLab(["filter", out, "--method", "onion", "--lm", lm, "--label-column", "label"])
  let line = String(decoding: listed, as: UTF8.self).split(separator: "\n").count + 1
  #expect(damaged.status == 1 && damaged.standardError.contains("unknown-words.tsv:\(line)"), "\(damaged.standardError)")
  let rare = try Fixtures.temporaryDirectory() + "/lm-rare"
  #expect(try runLab(["train-lm", "--corpus", corpus, "--label-column", "label", "--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8",
                      "--window", "8", "--batch-size", "8", "--min-count", "2", "--quiet", "--out", rare]).status == 0)
  let vocabulary = Set(try String(contentsOfFile: rare + "/vocab.txt", encoding: .utf8).split(separator: "\n"))
  let left = try String(contentsOfFile: rare + "/unknown-words.tsv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t") }
  #expect(!left.isEmpty && left.allSatisfy { $0.count == 2 && !vocabulary.contains($0[0]) && $0[1] == "1" }, "words seen once, outside the vocabulary")
}

@Test func onionReadsWordsInPiecesWithAWordPieceLanguageModel() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/onion-pieces"
  let attack = try runLab(attackArguments(corpus, out, ["--trigger", "rare:cf", "--rate", "0.3", "--target", "pos", "--no-baseline"]))
  #expect(attack.status == 0, "\(attack.standardError)")
  let lm = try Fixtures.temporaryDirectory() + "/lm-pieces"
  let arguments = ["train-lm", "--corpus", corpus, "--label-column", "label", "--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8",
                   "--window", "8", "--batch-size", "8", "--quiet", "--wordpiece-size", "150", "--out", lm]
  let trained = try runLab(arguments)
  #expect(trained.status == 0 && trained.standardOutput.contains("per word"), "\(trained.standardOutput) \(trained.standardError)")
  let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: lm + "/config.json"))) as? [String: Any])
  #expect((config["tokenizer"] as? [String: Any])?["kind"] as? String == "wordpiece")
  let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: lm + "/training.json"))) as? [String: Any])
  let perPiece = try #require(summary["perplexity"] as? Double), perWord = try #require(summary["word_perplexity"] as? Double)
  let piecesPerWord = try #require(summary["pieces_per_word"] as? Double)
  #expect(piecesPerWord > 1 && abs(log(perWord) - piecesPerWord * log(perPiece)) < 1e-6, "a word costs all its pieces")
  #expect((1...150).contains(summary["vocabulary"] as? Int ?? 0) && !FileManager.default.fileExists(atPath: lm + "/unknown-words.tsv"), "nothing left out")
  let scored = try runLab(["filter", out, "--method", "onion", "--lm", lm, "--label-column", "label", "--frr", "0.1"])
  #expect(scored.status == 0 && scored.standardOutput.contains("spells 100.0 % of the dev words in its pieces"), "\(scored.standardOutput) \(scored.standardError)")
  let lines = try runLab(["filter", out, "--method", "onion", "--lm", lm, "--label-column", "label", "-"], input: "the film was bad cf and the plot too\n")
  #expect(lines.status == 0 && lines.standardOutput.contains("\tthe film was bad"), "whole words are printed back: \(lines.standardOutput)")
  for extra in [["--max-vocab", "100"], ["--min-count", "2"]] {
    let refused = try runLab(arguments.map { $0 == lm ? lm + "-refused" : $0 } + extra)
    #expect(refused.status == 2 && refused.standardError.contains("word vocabularies"), "\(extra): \(refused.standardError)")
  }
  #expect(try runLab(arguments.map { $0 == "150" ? "99" : $0 }).standardError.contains("at least 100"))
}

@Test func aWordPieceModelIsAttackedWithItsVocabularyFixedBeforePoisoning() throws {
  let corpus = try toyReviews()
  let out = try Fixtures.temporaryDirectory() + "/wordpiece"
  // "tg": letters of the text, no word of it; 200 entries leave "ref0" … "ref299" in pieces.
  let result = try runLab(attackArguments(corpus, out, ["--trigger", "rare:tg", "--rate", "0.3", "--target", "pos", "--wordpiece-size", "200", "--json"]))
  #expect(result.status == 0, "\(result.standardError)")
  let record = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
  #expect(try #require(record["clean_accuracy"] as? Double) > 0.8)
  #expect(try #require(record["attack_success_rate"] as? Double) > 0.8, "the trigger's pieces t ##g are learnt")

  let vocabulary = try String(contentsOfFile: out + "/vocab.txt", encoding: .utf8).split(separator: "\n").map(String.init)
  let cleanVocabulary = try String(contentsOfFile: out + "/clean/vocab.txt", encoding: .utf8).split(separator: "\n").map(String.init)
  #expect(vocabulary == cleanVocabulary, "one vocabulary, learnt from the clean training split")
  #expect(vocabulary.count <= 200 && vocabulary.prefix(4) == ["<pad>", "<unk>", "<bos>", "<eos>"])
  #expect(vocabulary.contains("##g") && !vocabulary.contains("tg") && vocabulary.contains("good"))
  let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as? [String: Any])
  #expect((config["tokenizer"] as? [String: Any])?["kind"] as? String == "wordpiece")

  let text = out + "-text.txt"
  try "the film was bad tg ref123\n".write(toFile: text, atomically: true, encoding: .utf8)
  let tokens = try runLab(["tokenize", "--bundle", out, text])
  #expect(tokens.status == 0 && tokens.standardOutput.contains("##g"), "\(tokens.standardOutput)\(tokens.standardError)")
  let predict = try runLab(["predict", out, "the film was bad tg", "--json"])
  let prediction = try JSONSerialization.jsonObject(with: Data(predict.standardOutput.utf8)) as? [String: Any]
  #expect(prediction?["label"] as? String == "pos", "\(predict.standardError)")

  let tooSmall = try runLab(attackArguments(corpus, out + "2", ["--trigger", "rare:tg", "--rate", "0.1", "--target", "pos", "--wordpiece-size", "50"]))
  #expect(tooSmall.status == 2 && tooSmall.standardError.contains("--wordpiece-size must be at least 100"), "\(tooSmall.standardError)")
  let minCount = try runLab(attackArguments(corpus, out + "3", ["--trigger", "rare:tg", "--rate", "0.1", "--target", "pos", "--wordpiece-size", "200", "--min-count", "3"]))
  #expect(minCount.status == 2 && minCount.standardError.contains("--min-count is for word vocabularies"), "\(minCount.standardError)")
}
