import Experiments
import Foundation
import Testing
import TestSupport

/// A folder with `names` (relative paths), each a copy of the small GRU fixture bundle.
private func zoo(_ names: [String]) throws -> String {
  let root = try Fixtures.temporaryDirectory() + "/zoo"
  for name in names {
    try FileManager.default.createDirectory(atPath: root + "/" + (name as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Fixtures.path("Tests/Fixtures/bundles/gru"), toPath: root + "/" + name)
  }
  return root
}

@Test func auditZooFindsBundlesOneAndTwoLevelsDownInOrder() throws {
  let root = try zoo(["clean/b", "clean/a", "top", "backdoored/c"])
  try FileManager.default.createDirectory(atPath: root + "/notes", withIntermediateDirectories: true)
  try FileManager.default.createDirectory(atPath: root + "/partial.tmp", withIntermediateDirectories: true)
  let found = try AuditZoo(folders: [root])
  #expect(found.entries.map(\.name) == ["backdoored/c", "clean/a", "clean/b", "top"])
  let pooled = try AuditZoo(folders: [root + "/clean", root + "/backdoored/"])
  #expect(pooled.entries.map(\.name) == [root + "/clean/a", root + "/clean/b", root + "/backdoored/c"])
  #expect(pooled.entries.map(\.folderIndex) == [0, 0, 1])
}

@Test func auditZooRefusesEmptyAndOverlappingFolders() throws {
  let root = try zoo(["clean/a"])
  #expect(throws: AuditZooError.self) { try AuditZoo(folders: [try Fixtures.temporaryDirectory()]) }
  #expect(throws: AuditZooError.self) { try AuditZoo(folders: [root, root + "/clean"]) }
}
