import Foundation

/// A new artefact folder (a bundle, an attack folder) written in a hidden sibling, `.NAME.partial`, and renamed into
/// place only when complete: a failed or killed run leaves the destination as it was. The sibling is locked while it
/// is written, so two runs cannot write the same destination at once; a partial folder nobody holds (a killed run's)
/// is cleared and started again.
public final class StagedFolder: @unchecked Sendable {
  /// Where the artefact ends up.
  public let destination: String
  /// Where it is written until `commit()`.
  public let path: String
  private let lock: FolderLock
  private var finished = false

  /// Refuses a destination that exists and is not an empty folder unless `replacing` (`--force`).
  public init(_ destination: String, replacing: Bool) throws(StorageError) {
    var trimmed = destination
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    self.destination = trimmed
    let manager = FileManager.default
    var isFolder: ObjCBool = false
    if manager.fileExists(atPath: trimmed, isDirectory: &isFolder) {
      guard isFolder.boolValue else { throw StorageError("\(trimmed): exists and is not a folder") }
      let contents = (try? manager.contentsOfDirectory(atPath: trimmed)) ?? []
      if !contents.isEmpty && !replacing {
        throw StorageError("\(trimmed): exists and is not empty; give another --out, or --force to replace it")
      }
    }
    let url = URL(fileURLWithPath: trimmed)
    let parent = url.deletingLastPathComponent().path
    path = parent + "/." + url.lastPathComponent + ".partial"
    do { try manager.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
      throw StorageError("\(path): cannot create (\((error as NSError).localizedDescription))")
    }
    lock = try FolderLock(path)
    // Ours now: whatever a killed run left in it goes.
    for name in (try? manager.contentsOfDirectory(atPath: path)) ?? [] where name != ".lock" {
      try? manager.removeItem(atPath: path + "/" + name)
    }
  }

  /// Moves the finished folder into place (replacing what was there) and releases the lock.
  public func commit() throws(StorageError) {
    guard !finished else { return }
    let manager = FileManager.default
    try? manager.removeItem(atPath: path + "/.lock")
    var replaced: String?
    if manager.fileExists(atPath: destination) {
      let aside = path + ".replaced"
      try? manager.removeItem(atPath: aside)
      do { try manager.moveItem(atPath: destination, toPath: aside) } catch {
        throw StorageError("\(destination): cannot move the old folder aside (\((error as NSError).localizedDescription))")
      }
      replaced = aside
    }
    do { try manager.moveItem(atPath: path, toPath: destination) } catch {
      if let replaced { try? manager.moveItem(atPath: replaced, toPath: destination) }
      throw StorageError("\(destination): cannot move the new folder into place (\((error as NSError).localizedDescription))")
    }
    if let replaced { try? manager.removeItem(atPath: replaced) }
    finished = true
    lock.release()
  }

  /// Removes the partial folder (a run that failed).
  public func abandon() {
    guard !finished else { return }
    try? FileManager.default.removeItem(atPath: path)
    finished = true
    lock.release()
  }

  /// Runs `body` with the partial folder's path, then commits; a thrown error abandons the folder and is rethrown.
  public static func write<T>(_ destination: String, replacing: Bool, _ body: (String) throws -> T) throws -> T {
    let folder = try StagedFolder(destination, replacing: replacing)
    do {
      let result = try body(folder.path)
      try folder.commit()
      return result
    } catch {
      folder.abandon()
      throw error
    }
  }
}
