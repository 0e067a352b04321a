import Foundation

/// A folder a long run writes into over time and can resume (`simulate`, `attack-sweep`, `demo`), claimed for the
/// run: created if missing, locked against a second run, and checked against what is already in it.
public final class ClaimedFolder: @unchecked Sendable {
  /// What to do with a folder that already holds something.
  public enum Existing: Sendable {
    /// Refuse it: the run would mix its files with another's.
    case refuse
    /// Continue what is there (the caller checks that it is the same run).
    case resume
    /// Delete what is there first.
    case replace
  }

  public let path: String
  /// Whether the folder held files of an earlier run when claimed (false after `replace`).
  public let heldEarlierRun: Bool
  private let lock: FolderLock

  public init(_ path: String, existing: Existing) throws(StorageError) {
    self.path = path
    let manager = FileManager.default
    var isFolder: ObjCBool = false
    if manager.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
      throw StorageError("\(path): exists and is not a folder")
    }
    do { try manager.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
      throw StorageError("\(path): cannot create (\((error as NSError).localizedDescription))")
    }
    lock = try FolderLock(path)
    let earlier = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).filter { $0 != ".lock" }
    switch existing {
    case .refuse where !earlier.isEmpty:
      lock.release()
      throw StorageError("\(path): exists and is not empty; give --resume to continue the run in it, --force to replace it, or another --out")
    case .replace:
      for name in earlier {
        do { try manager.removeItem(atPath: path + "/" + name) } catch {
          throw StorageError("\(path)/\(name): cannot remove (\((error as NSError).localizedDescription))")
        }
      }
      heldEarlierRun = false
    default:
      heldEarlierRun = !earlier.isEmpty
    }
  }

  /// Gives the folder back to other runs (also when this value goes away).
  public func release() { lock.release() }
}

/// The keys (dotted paths to leaves) whose values differ between two JSON objects; nil when either is not one.
public func changedJSONKeys(_ old: Data, _ new: Data) -> [String]? {
  guard let before = (try? JSONSerialization.jsonObject(with: old)) as? [String: Any],
    let after = (try? JSONSerialization.jsonObject(with: new)) as? [String: Any]
  else { return nil }
  func leaves(_ value: Any, _ path: String, into result: inout [String: String]) {
    if let object = value as? [String: Any] {
      for (key, child) in object { leaves(child, path.isEmpty ? key : path + "." + key, into: &result) }
    } else {
      result[path] = String(describing: value)
    }
  }
  var oldLeaves: [String: String] = [:], newLeaves: [String: String] = [:]
  leaves(before, "", into: &oldLeaves)
  leaves(after, "", into: &newLeaves)
  return Set(oldLeaves.keys).union(newLeaves.keys).sorted().filter { oldLeaves[$0] != newLeaves[$0] }
}
