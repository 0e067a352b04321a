import Foundation
import Testing
import TestSupport

/// A toy labelled corpus and a config that runs many quick rounds on it.
func toyExperiment(rounds: Int) throws -> (config: String, directory: String) {
  let directory = try Fixtures.temporaryDirectory()
  let nouns = ["film", "plot", "actors", "story", "music", "ending", "scenes", "cast"]
  var lines = ["label\ttext"]
  for i in 0..<300 {
    let positive = i % 2 == 0
    lines.append("\(positive ? "pos" : "neg")\tthe \(nouns[i % 8]) was \(positive ? "good" : "bad") and the \(nouns[(i / 8) % 8]) too ref\(i)")
  }
  try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/toy.tsv", atomically: true, encoding: .utf8)
  let config = """
    name: toy
    task: {corpus: "\(directory)/toy.tsv", architecture: gru, embedding_dim: 8, hidden_size: 8, max_length: 16, dropout: 0}
    federation: {clients: 10, clients_per_round: 4, rounds: \(rounds), local: {epochs: 1, batch_size: 8, optimizer: adam, learning_rate: 0.01}}
    attack: {behaviour: naive, attackers: 2, trigger: "rare:cf", target: pos}
    seeds: [0]
    """
  try config.write(toFile: directory + "/toy.yaml", atomically: true, encoding: .utf8)
  return (directory + "/toy.yaml", directory)
}

@Test func aRunKilledWithKill9ResumesToTheSameRecords() throws {
  let (config, directory) = try toyExperiment(rounds: 40)
  let arguments = [config, "--label-column", "label", "--quiet", "--threads", "1"]
  let whole = try runLab(["simulate"] + arguments + ["--out", directory + "/whole"])
  #expect(whole.status == 0, "\(whole.standardError)")

  let killed = Process()
  killed.executableURL = URL(fileURLWithPath: Fixtures.executable)
  killed.arguments = ["simulate"] + arguments + ["--out", directory + "/killed"]
  killed.standardOutput = FileHandle.nullDevice
  killed.standardError = FileHandle.nullDevice
  try killed.run()
  let records = directory + "/killed/seed-0/rounds.jsonl"
  let deadline = Date().addingTimeInterval(60)
  while Date() < deadline {
    let written = (try? String(contentsOfFile: records, encoding: .utf8))?.split(separator: "\n").count ?? 0
    if written >= 3 || !killed.isRunning { break }
    usleep(20_000)
  }
  let interrupted = killed.isRunning
  kill(killed.processIdentifier, SIGKILL)
  killed.waitUntilExit()
  let resumed = try runLab(["simulate"] + arguments + ["--out", directory + "/killed", "--resume"])
  #expect(resumed.status == 0, "\(resumed.standardError)")
  let expected = try String(contentsOfFile: directory + "/whole/seed-0/rounds.jsonl", encoding: .utf8)
  #expect(try String(contentsOfFile: records, encoding: .utf8) == expected, "the resumed run's records equal an uninterrupted run's")
  #expect(expected.split(separator: "\n").count == 40)
  #expect(interrupted, "the run was killed mid-way (it finished before the kill: make it longer)")
}

@Test func simulateChecksItsConfigAndOptions() throws {
  let (config, directory) = try toyExperiment(rounds: 2)
  let typo = directory + "/typo.json"
  try #"{"task": {"corpus": "sentiment"}, "federation": {"clients_per_roun": 5}}"#.write(toFile: typo, atomically: true, encoding: .utf8)
  let bad = try runLab(["simulate", typo, "--out", directory + "/x"])
  #expect(bad.status == 1 && bad.standardError.contains("unknown key 'federation.clients_per_roun'"))
  let both = try runLab(["simulate", config, "--preset", "sentiment-model-replacement", "--out", directory + "/x"])
  #expect(both.status == 2)
  let unknown = try runLab(["simulate", "--preset", "nope", "--out", directory + "/x"])
  #expect(unknown.status == 2 && unknown.standardError.contains("sentiment-model-replacement"))
  let list = try runLab(["config", "list"])
  #expect(list.status == 0 && ["sentiment-model-replacement", "sentiment-naive-poisoning", "keyboard-semantic", "trec-rare-word"].allSatisfy(list.standardOutput.contains))
  let dump = try runLab(["config", "dump", "keyboard-semantic", "--yaml"])
  #expect(dump.status == 0 && dump.standardOutput.contains("backdoor_word: \"cheese\""))
}

@Test func simulateNeverMixesTwoRunsInOneFolder() throws {
  let (config, directory) = try toyExperiment(rounds: 40)
  let out = directory + "/run"
  let arguments = ["simulate", config, "--label-column", "label", "--quiet", "--threads", "1", "--out", out]
  // A second run while the first writes the folder is refused.
  let running = Process()
  running.executableURL = URL(fileURLWithPath: Fixtures.executable)
  running.arguments = arguments
  running.standardOutput = FileHandle.nullDevice
  running.standardError = FileHandle.nullDevice
  try running.run()
  let deadline = Date().addingTimeInterval(60)
  while Date() < deadline, running.isRunning, !FileManager.default.fileExists(atPath: out + "/seed-0/rounds.jsonl") { usleep(20_000) }
  let concurrent = try runLab(arguments + ["--resume"])
  let wasRunning = running.isRunning
  running.waitUntilExit()
  #expect(wasRunning, "the first run was still going (it finished first: make it longer)")
  #expect(concurrent.status == 1)
  #expect(concurrent.standardError.contains("another run is writing this folder"), "\(concurrent.standardError)")
  #expect(running.terminationStatus == 0)
  // Finished: a new run into it is refused; --force replaces it, leaving no other seed's files behind.
  let again = try runLab(arguments)
  #expect(again.status == 1 && again.standardError.contains("exists and is not empty; give --resume"), "\(again.standardError)")
  try FileManager.default.createDirectory(atPath: out + "/seed-7", withIntermediateDirectories: true)
  let forced = try runLab(arguments + ["--force", "--rounds", "2"])
  #expect(forced.status == 0, "\(forced.standardError)")
  #expect(!FileManager.default.fileExists(atPath: out + "/seed-7"))
  #expect(try String(contentsOfFile: out + "/seed-0/rounds.jsonl", encoding: .utf8).split(separator: "\n").count == 2)
  #expect(try runLab(arguments + ["--force", "--resume"]).status == 2)
  try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
  let onFile = try runLab(["simulate", config, "--label-column", "label", "--quiet", "--out", directory + "/file"])
  #expect(onFile.status == 1 && onFile.standardError.contains("\(directory)/file: exists and is not a folder"), "\(onFile.standardError)")
}

@Test func hugeFiniteUpdatesNeverAbortARun() throws {
  let (config, directory) = try toyExperiment(rounds: 3)
  for rule in ["fedavg", "geometric_median"] {
    let out = directory + "/" + rule
    let run = try runLab([
      "simulate", config, "--label-column", "label", "--quiet", "--threads", "1", "--out", out, "--set", "aggregator.kind=\(rule)",
      "--set", "attack.behaviour=gaussian_noise", "--set", "attack.noise_std=1e19",
    ])
    #expect(run.status == 0, "\(rule): \(run.standardError)")
    let lines = try String(contentsOfFile: out + "/seed-0/rounds.jsonl", encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 3)
    var largest = 0.0
    for line in lines {
      let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let norms = try #require(record["update_norms"] as? [String: Any])
      for (client, norm) in norms { #expect(norm is NSNull || ((norm as? Double)?.isFinite ?? false), "\(rule): client \(client)'s norm \(norm)") }
      largest = max(largest, norms.values.compactMap { $0 as? Double }.max() ?? 0)
    }
    #expect(largest > 1e18, "\(rule): the attackers' updates were huge (largest norm \(largest))")
  }
}
