import Foundation
import Testing
import Tokenization

@Test func chunksEndAtLineEndsAndInvalidUTF8IsReplacedAndCountedByLine() throws {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID().uuidString).txt").path
  defer { try? FileManager.default.removeItem(atPath: path) }
  var bytes = Array("first line\nsecond line\n".utf8) + [0x66, 0xFF, 0x6F, 0x0A] + Array("last line without newline".utf8)
  FileManager.default.createFile(atPath: path, contents: Data(bytes))
  var reader = try TextChunkReader(path: path)
  defer { reader.closeFile() }
  var chunks: [[UInt8]] = []
  while let chunk = try reader.nextChunk(blockSize: 8) { chunks.append(chunk) }
  #expect(chunks.dropLast().allSatisfy { $0.last == 0x0A }, "every chunk but the last ends with a newline")
  bytes[bytes.firstIndex(of: 0xFF)!...bytes.firstIndex(of: 0xFF)!] = [0xEF, 0xBF, 0xBD][...]
  #expect(chunks.flatMap { $0 } == bytes, "the text comes back whole, U+FFFD in place of the invalid byte")
  #expect(reader.replacements == 1 && reader.invalidLines == [3])
  #expect(reader.replacementWarning?.contains("line") == true && reader.replacementWarning?.contains(path) == true)
  #expect(throws: TextReadError.self) { try TextChunkReader(path: path + ".missing") }
  #expect(throws: TextReadError("\(FileManager.default.temporaryDirectory.path): is a directory")) {
    try TextChunkReader(path: FileManager.default.temporaryDirectory.path)
  }
}
