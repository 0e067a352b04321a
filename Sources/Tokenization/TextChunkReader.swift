import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file or standard input in blocks cut after a newline, so a line is never split between
/// chunks and a pipe is answered line by line. Invalid UTF-8 is replaced in each chunk and counted;
/// since 0x0A never occurs inside a multi-byte sequence, cutting after it never splits a character.
public struct TextChunkReader {
  public let name: String
  private let descriptor: Int32
  private let ownsDescriptor: Bool
  private var pending: [UInt8] = []
  /// Where the last newline in `pending` is, if it holds one.
  private var pendingLastNewline: Int?
  private var finished = false
  public private(set) var linesBefore = 0
  public private(set) var replacements = 0
  public private(set) var invalidLines: [Int] = []

  /// `path` nil or "-" reads standard input.
  public init(path: String?) throws(TextReadError) {
    if let path, path != "-" {
      let descriptor = open(path, O_RDONLY)
      guard descriptor >= 0 else { throw TextReadError("\(path): \(String(cString: strerror(errno)))") }
      var info = stat()
      if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        close(descriptor)
        throw TextReadError("\(path): is a directory")
      }
      self.descriptor = descriptor
      ownsDescriptor = true
      name = path
    } else {
      descriptor = 0
      ownsDescriptor = false
      name = "<stdin>"
    }
  }

  public func closeFile() { if ownsDescriptor { close(descriptor) } }

  /// The next chunk of whole lines (the last one may lack its newline), as valid UTF-8; nil at the end.
  public mutating func nextChunk(blockSize: Int = 1 << 16) throws(TextReadError) -> [UInt8]? {
    while !finished {
      if let lastNewline = pendingLastNewline, pending.count >= blockSize || !isRegularFile {
        let chunk = Array(pending[...lastNewline])
        pending.removeSubrange(...lastNewline)
        pendingLastNewline = nil  // the newline cut at was the last one
        return repaired(chunk)
      }
      var block = [UInt8](repeating: 0, count: blockSize)
      let count = block.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, blockSize) }
      if count < 0 {
        if errno == EINTR { continue }
        throw TextReadError("\(name): \(String(cString: strerror(errno)))")
      }
      if count == 0 {
        finished = true
      } else {
        // Only the new bytes are searched: a line longer than a block costs one pass, not one per block read.
        if let newline = block[0..<count].lastIndex(of: 0x0A) { pendingLastNewline = pending.count + newline }
        pending.append(contentsOf: block[0..<count])
      }
    }
    guard !pending.isEmpty else { return nil }
    let chunk = pending
    pending = []
    pendingLastNewline = nil
    return repaired(chunk)
  }

  private var isRegularFile: Bool { ownsDescriptor }

  private mutating func repaired(_ chunk: [UInt8]) -> [UInt8] {
    let result = UTF8Repair.repair(chunk)
    if result.isRepaired {
      replacements += result.replacementCount
      for offset in result.firstInvalidOffsets where invalidLines.count < 16 {
        let line = linesBefore + 1 + chunk[..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if invalidLines.last != line { invalidLines.append(line) }
      }
    }
    linesBefore += chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    return result.bytes
  }

  /// What to tell the user when invalid UTF-8 was replaced (nil when none was).
  public var replacementWarning: String? {
    guard replacements > 0 else { return nil }
    let lines = invalidLines.map(String.init).joined(separator: ", ")
    return "\(name): replaced \(replacements) invalid UTF-8 sequence(s) with U+FFFD (lines \(lines))"
  }
}

/// A text file or standard input that cannot be read; the message names it.
public struct TextReadError: Error, Equatable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
