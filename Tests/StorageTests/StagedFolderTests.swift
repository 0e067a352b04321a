import Foundation
import Storage
import Testing
import TestSupport

private func write(_ text: String, _ path: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }
private func read(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

@Test func aStagedFolderAppearsOnlyWhenCommitted() throws {
  let root = try Fixtures.temporaryDirectory()
  let destination = root + "/bundle"
  let staged = try StagedFolder(destination, replacing: false)
  try write("weights", staged.path + "/model.safetensors")
  #expect(!FileManager.default.fileExists(atPath: destination))
  #expect(try FileManager.default.contentsOfDirectory(atPath: root) == [".bundle.partial"])
  try staged.commit()
  #expect(read(destination + "/model.safetensors") == "weights")
  #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["bundle"], "nothing left beside it")
  #expect(!FileManager.default.fileExists(atPath: destination + "/.lock"))
}

@Test func aNonEmptyDestinationIsRefusedUnlessReplacedAndAFailureLeavesItAsItWas() throws {
  let root = try Fixtures.temporaryDirectory()
  let destination = root + "/out"
  try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
  try write("old", destination + "/training.json")
  #expect(throws: StorageError.self) { try StagedFolder(destination, replacing: false) }
  struct Failure: Error {}
  #expect(throws: Failure.self) {
    try StagedFolder.write(destination, replacing: true) { path in
      try write("new", path + "/training.json")
      throw Failure()
    }
  }
  #expect(read(destination + "/training.json") == "old")
  #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["out"], "the partial folder is gone")
  try StagedFolder.write(destination + "/", replacing: true) { path in try write("new", path + "/training.json") }
  #expect(read(destination + "/training.json") == "new")
  #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == ["training.json"], "replaced, not merged")
  // An empty folder, or a file in the way.
  try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
  try StagedFolder.write(root + "/empty", replacing: false) { path in try write("x", path + "/a") }
  try write("file", root + "/plain")
  #expect(throws: StorageError.self) { try StagedFolder(root + "/plain", replacing: true) }
}

@Test func twoWritersOfOneDestinationAreRefusedAndAKilledWritersLeftoversAreCleared() throws {
  let root = try Fixtures.temporaryDirectory()
  let first = try StagedFolder(root + "/out", replacing: false)
  #expect(throws: StorageError.self) { try StagedFolder(root + "/out", replacing: true) }
  first.abandon()
  // A killed writer's leftovers: its partial files stay, its lock went with the process.
  try FileManager.default.createDirectory(atPath: root + "/.next.partial/clean", withIntermediateDirectories: true)
  try write("half", root + "/.next.partial/model.safetensors")
  try write("", root + "/.next.partial/.lock")
  let second = try StagedFolder(root + "/next", replacing: false)
  #expect(try FileManager.default.contentsOfDirectory(atPath: second.path) == [".lock"])
  try second.commit()
  #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/next") == [])
}

@Test func aFolderLockIsExclusiveUntilReleased() throws {
  let folder = try Fixtures.temporaryDirectory()
  let lock = try FolderLock(folder)
  #expect(throws: StorageError.self) { try FolderLock(folder) }
  lock.release()
  _ = try FolderLock(folder)
}

@Test func labJSONSortsKeysKeepsSlashesAndWritesAtomically() throws {
  struct Record: Encodable { var path = "runs/cf"; var b = 1; var a = 2 }
  #expect(String(decoding: try LabJSON.data(Record()), as: UTF8.self) == #"{"a":2,"b":1,"path":"runs/cf"}"#)
  let path = try Fixtures.temporaryDirectory() + "/r.json"
  try LabJSON.write(Record(), to: path)
  #expect(read(path)?.contains("\"path\" : \"runs/cf\"") == true, "pretty, slashes as written")
  #expect(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent) == ["r.json"])
}
