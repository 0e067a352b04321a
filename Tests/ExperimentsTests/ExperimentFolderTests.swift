import Experiments
import Federated
import Foundation
import TestSupport
import Testing

@Test func aRunFolderThatCannotBeReadIsRefusedWithTheFileAndLineNamed() throws {
  let folder = try Fixtures.temporaryDirectory()
  let rounds = folder + "/rounds.jsonl"
  let record = RoundRecord(
    round: 1, sampled: [0, 1], malicious: [1], rejected: [], verdicts: ["0": .kept, "1": .clipped], updateNorms: ["0": 1, "1": 9], globalChangeNorm: 2,
    metrics: ["main_task_accuracy": 0.5])
  let line = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
  try (line + "\n" + line + "\nnot json\n").write(toFile: rounds, atomically: true, encoding: .utf8)
  #expect(throws: RunFolderError.self) { try readRoundRecords(rounds) }
  do {
    _ = try readRoundRecords(rounds)
  } catch {
    #expect(error.message.hasPrefix(rounds + ", line 3: not a round record"), "\(error)")
  }
  try (line + "\n\n" + line + "\n").write(toFile: rounds, atomically: true, encoding: .utf8)
  #expect(try readRoundRecords(rounds).map(\.round) == [1, 1], "blank lines are skipped")
  do {
    _ = try ExperimentFolder(path: folder, name: "empty")
    Issue.record("a folder without config.json was read")
  } catch {
    #expect(error.message.contains("config.json"), "\(error)")
  }
}
