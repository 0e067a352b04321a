import Foundation
import Tokenization
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file or standard input in blocks cut after a newline, so a line is never split between
/// chunks and a pipe is answered line by line. Invalid UTF-8 is replaced in each chunk and counted;
/// since 0x0A never occurs inside a multi-byte sequence, cutting after it never splits a character.
struct TextChunkReader {
  let name: String
  private let descriptor: Int32
  private let ownsDescriptor: Bool
  private var pending: [UInt8] = []
  private var finished = false
  private(set) var linesBefore = 0
  private(set) var replacements = 0
  private(set) var invalidLines: [Int] = []

  /// `path` nil or "-" reads standard input.
  init(path: String?) throws(LabError) {
    if let path, path != "-" {
      let descriptor = open(path, O_RDONLY)
      guard descriptor >= 0 else { throw LabError("\(path): \(String(cString: strerror(errno)))") }
      var info = stat()
      if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        close(descriptor)
        throw LabError("\(path): is a directory")
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

  func closeFile() { if ownsDescriptor { close(descriptor) } }

  /// The next chunk of whole lines (the last one may lack its newline), as valid UTF-8; nil at the end.
  mutating func nextChunk(blockSize: Int = 1 << 16) throws(LabError) -> [UInt8]? {
    while !finished {
      if let lastNewline = pending.lastIndex(of: 0x0A), pending.count >= blockSize || !isRegularFile {
        let chunk = Array(pending[...lastNewline])
        pending.removeSubrange(...lastNewline)
        return repaired(chunk)
      }
      var block = [UInt8](repeating: 0, count: blockSize)
      let count = block.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, blockSize) }
      if count < 0 {
        if errno == EINTR { continue }
        throw LabError("\(name): \(String(cString: strerror(errno)))")
      }
      if count == 0 { finished = true } else { pending.append(contentsOf: block[0..<count]) }
    }
    guard !pending.isEmpty else { return nil }
    let chunk = pending
    pending = []
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

  /// Prints the replacement count to standard error when there was invalid UTF-8.
  func warnAboutReplacements() {
    guard replacements > 0 else { return }
    let lines = invalidLines.map(String.init).joined(separator: ", ")
    writeToStandardError("warning: \(name): replaced \(replacements) invalid UTF-8 sequence(s) with U+FFFD (lines \(lines))\n")
  }
}
