import Foundation
import Testing
import TestSupport

// These run the `backdoor-lab` executable that `swift test` builds, exactly as a user would.

@Test func tokenizePrintsTheReadmeExampleExactly() throws {
  let result = try runLab(["tokenize"], input: "I LOVED this film!! ＦＵＬＬＷＩＤＴＨ café\n")
  #expect(result.status == 0)
  #expect(result.standardOutput == "i loved this film fullwidth café\n")
}

@Test func tokenizeKeepsOneOutputLinePerInputLine() throws {
  let result = try runLab(["tokenize", "-", "--keep-punctuation"], input: "Hello, World!\n\n私は東京に住んでいます\nlast line without newline")
  #expect(result.standardOutput == "hello , world !\n\n私 は 東京 に 住 んで い ます\nlast line without newline\n")
}

@Test func tokenizeReportsInvalidUTF8AndCarriesOn() throws {
  let folder = try Fixtures.temporaryDirectory()
  let path = folder + "/bad.txt"
  try Data([0x67, 0x6F, 0x6F, 0x64, 0x0A, 0x62, 0x61, 0xFF, 0x64, 0x0A]).write(to: URL(fileURLWithPath: path))
  let result = try runLab(["tokenize", path])
  #expect(result.status == 0)
  #expect(result.standardOutput == "good\nba d\n")
  #expect(result.standardError.contains("replaced 1 invalid UTF-8 sequence(s)"))
  #expect(result.standardError.contains("lines 2"))
}

@Test func tokenizeWithIdsUsesTheVocabulary() throws {
  let result = try runLab(["tokenize", "--ids", "--vocab", "Vocab/sentiment.tsv"], input: "the film zzqqxx\n")
  #expect(result.status == 0)
  let ids = result.standardOutput.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
  #expect(ids.count == 3)
  #expect(ids[0] == 4)  // "the" is the most frequent word
  #expect(ids[2] == 1)  // <unk>
}

@Test func usageErrorsExitWithTwoAndFailuresWithOne() throws {
  let usage = try runLab(["tokenize", "--ids"])
  #expect(usage.status == 2)
  #expect(usage.standardError.contains("--ids needs --vocab"))
  let missing = try runLab(["tokenize", "/nonexistent/file.txt"])
  #expect(missing.status == 1)
  #expect(missing.standardError.contains("/nonexistent/file.txt"))
  let unknown = try runLab(["corpus", "stats", "sentimental"])
  #expect(unknown.status == 1)
  #expect(unknown.standardError.contains("unknown corpus 'sentimental'"))
}

@Test func shippedVocabularyIsRebuiltByteForByte() throws {
  let out = try Fixtures.temporaryDirectory() + "/trec.tsv"
  let result = try runLab(["vocab", "build", "--corpus", "trec", "--out", out])
  #expect(result.status == 0, "\(result.standardError)")
  let rebuilt = try Data(contentsOf: URL(fileURLWithPath: out))
  let shipped = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Vocab/trec.tsv")))
  #expect(rebuilt == shipped)
}

@Test func aWordPieceVocabularyIsLearntFromTheTrainingSplitAndNeverClobbered() throws {
  let out = try Fixtures.temporaryDirectory() + "/trec-wordpiece.txt"
  let result = try runLab(["vocab", "wordpiece", "--corpus", "trec", "--size", "600", "--out", out])
  #expect(result.status == 0 && result.standardOutput.contains("600 entries"), "\(result.standardError)")
  let tokens = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
  #expect(tokens.count == 600 && tokens.prefix(4) == ["<pad>", "<unk>", "<bos>", "<eos>"] && tokens.contains("what") && tokens.contains("##s"))
  let again = try runLab(["vocab", "wordpiece", "--corpus", "trec", "--size", "700", "--out", out])
  #expect(again.status == 1 && again.standardError.contains("\(out): exists"), "\(again.standardError)")
  let kept = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count
  #expect(kept == 600, "left as it was")
  let forced = try runLab(["vocab", "wordpiece", "--corpus", "trec", "--size", "700", "--out", out, "--force"])
  let replaced = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count
  #expect(forced.status == 0 && replaced == 700)
  let tooSmall = try runLab(["vocab", "wordpiece", "--corpus", "trec", "--size", "4", "--out", out + "2"])
  #expect(tooSmall.status == 2 && tooSmall.standardError.contains("--size must leave room"), "\(tooSmall.standardError)")
}

@Test func corpusStatsAsJSON() throws {
  let result = try runLab(["corpus", "stats", "spam", "--json"])
  #expect(result.status == 0, "\(result.standardError)")
  let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
  #expect(object?["examples"] as? Int == 4_837)
  #expect((object?["labels"] as? [String: Int]) == ["ham": 4_199, "spam": 638])
  let oov = try #require(object?["oov_rate"] as? Double)
  #expect(oov > 0 && oov < 0.2)
}

@Test func malformedTSVGivenByPathIsAnErrorWithFileAndLine() throws {
  let path = try Fixtures.temporaryDirectory() + "/mine.tsv"
  try "label\ttext\npos\tgreat\nneg\n".write(toFile: path, atomically: true, encoding: .utf8)
  let failing = try runLab(["corpus", "stats", path, "--label-column", "label"])
  #expect(failing.status == 1)
  #expect(failing.standardError.contains("\(path):3:"))
  let skipping = try runLab(["corpus", "stats", path, "--label-column", "label", "--skip-bad-rows", "--json"])
  #expect(skipping.status == 0)
  #expect(skipping.standardOutput.contains(#""skipped_rows":1"#))
  #expect(skipping.standardError.contains("skipped 1 bad row"))
}

@Test func longCommandsShareQuietVerboseAndHelpConventions() throws {
  let commands: [[String]] = [
    ["train", "--corpus", "sentiment", "--out", "/tmp/x"], ["train-lm", "--corpus", "shakespeare", "--out", "/tmp/x"],
    ["attack", "--corpus", "sentiment", "--trigger", "rare:cf", "--target", "pos", "--rate", "0.01", "--out", "/tmp/x"],
    ["attack-sweep", "--corpus", "sentiment", "--trigger", "rare:cf", "--target", "pos", "--out", "/tmp/x"],
    ["simulate", "--preset", "sentiment-model-replacement", "--out", "/tmp/x"], ["audit", "/tmp/x"], ["demo"],
    ["flower-client", "--preset", "sentiment-naive-poisoning", "--client-index", "0"],
  ]
  for command in commands {
    let both = try runLab(command + ["--quiet", "--verbose"])
    #expect(both.status == 2 && both.standardError.contains("--quiet or --verbose"), "\(command[0]): \(both.standardError)")
    let help = try runLab(["help", command[0]])
    #expect(help.status == 0 && help.standardOutput.contains("Example"), "\(command[0]) --help has examples")
  }
}

/// `BACKDOOR_LAB_ISA` naming no instruction set stops the lab before any work; a set this build knows is followed
/// and shows in every bench line.
@Test func instructionSetFromTheEnvironmentIsCheckedAndFollowed() throws {
  let typo = try runLab(["bench", "isa"], environment: ["BACKDOOR_LAB_ISA": "avx3"])
  #expect(typo.status == 1)
  #expect(typo.standardError.contains("BACKDOOR_LAB_ISA=avx3 is not an instruction set of this build"), "\(typo.standardError)")
  #expect(typo.standardOutput.isEmpty)
  let narrow = try runLab(["bench", "gemm", "--sizes", "16", "--repeats", "1"], environment: ["BACKDOOR_LAB_ISA": "avx2"])
  #expect(narrow.status == 0, "\(narrow.standardError)")
  #expect(narrow.standardOutput.contains(#""instruction_set":"avx2""#), "\(narrow.standardOutput)")
  #if arch(x86_64)
  let listed = try runLab(["bench", "isa", "--list"])
  #expect(listed.status == 0 && listed.standardOutput.hasPrefix("avx2"), "\(listed.standardOutput)")
  #endif
}

@Test func benchOptionsAreCheckedNotSilentlyDropped() throws {
  let cases: [([String], String)] = [
    (["bench", "gemm", "--transpose-a"], "--transpose-a and --transpose-b need --shape"),
    (["bench", "gemm", "--threads", "1,x"], "--threads: expected comma-separated positive integers, got '1,x'"),
    (["bench", "gemm", "--sizes", "64,,128"], "--sizes: expected"),
    (["bench", "gemm", "--shape", "64x0x3"], "--shape: expected MxNxK with positive sides"),
    (["bench", "gemm", "--shape", "64x32"], "--shape: expected MxNxK"),
    (["bench", "train", "--threads", "0"], "--threads: expected"),
    (["bench", "fl-round", "--threads", "2,three"], "--threads: expected"),
    (["bench", "gru", "--threads", "0"], "--threads must be positive"),
    (["simulate", "--preset", "sentiment-model-replacement", "--threads", "0", "--out", "/tmp/unused"], "--threads must be at least 1"),
    (["flower-client", "--preset", "sentiment-model-replacement", "--client-index", "0", "--threads", "0"], "--threads must be at least 1"),
  ]
  for (arguments, message) in cases {
    let result = try runLab(arguments)
    #expect(result.status != 0, "\(arguments): \(result.standardError)")
    #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
  }
  let shaped = try runLab(["bench", "gemm", "--shape", "40x24x16", "--transpose-b", "--repeats", "1"])
  #expect(shaped.status == 0 && shaped.standardOutput.contains(#""shape":"40x24x16""#) && shaped.standardOutput.contains(#""transpose_b":true"#))
}
