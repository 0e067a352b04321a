import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock on a folder (`flock` on a `.lock` file inside it) held for as long as this value lives or until
/// `release()`. The kernel drops it when the process dies, so a killed run never leaves a stale lock behind.
public final class FolderLock: @unchecked Sendable {
  public let folder: String
  private var descriptor: Int32

  /// Takes the lock, or throws naming the folder when another process holds it.
  public init(_ folder: String) throws(StorageError) {
    self.folder = folder
    let path = folder + "/.lock"
    descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw StorageError("\(path): cannot open the lock file (\(String(cString: strerror(errno))))") }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      close(descriptor)
      descriptor = -1
      throw StorageError("\(folder): another run is writing this folder; wait for it to finish or give another --out")
    }
  }

  public func release() {
    guard descriptor >= 0 else { return }
    flock(descriptor, LOCK_UN)
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }
}

/// A file-system problem, with the path it concerns.
public struct StorageError: Error, CustomStringConvertible, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
