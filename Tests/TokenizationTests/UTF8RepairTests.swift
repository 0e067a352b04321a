import Randomness
import Testing
import Tokenization

@Test func validTextIsLeftAlone() {
  let bytes = Array("plain ASCII and café 東京 😀".utf8)
  let repaired = UTF8Repair.repair(bytes)
  #expect(repaired.bytes == bytes)
  #expect(repaired.replacementCount == 0)
}

@Test func invalidSequencesAreReplacedAndCounted() {
  // 0xFF is never valid; E2 82 is a truncated three-byte sequence; ED A0 80 is an encoded surrogate
  // (three maximal subparts: ED, A0, 80); C0 AF is an overlong '/'.
  let bytes: [UInt8] = [0x61, 0xFF, 0x62, 0xE2, 0x82, 0x63, 0xED, 0xA0, 0x80, 0xC0, 0xAF]
  let repaired = UTF8Repair.repair(bytes)
  let expected = String(decoding: bytes, as: UTF8.self)
  #expect(String(decoding: repaired.bytes, as: UTF8.self) == expected)
  #expect(repaired.bytes == Array(expected.utf8))
  #expect(repaired.replacementCount == expected.unicodeScalars.filter { $0 == "\u{FFFD}" }.count)
  #expect(repaired.replacementCount == 7)
  #expect(repaired.firstInvalidOffsets.prefix(2) == [1, 3])
}

@Test func repairAgreesWithTheStandardLibraryOnRandomBytes() {
  var generator = SplitMix64(seed: 99)
  for _ in 0..<300 {
    let length = generator.nextIndex(below: 40)
    // Mostly high bytes, so that ill-formed sequences of every kind turn up.
    let bytes = (0..<length).map { _ in UInt8(generator.nextIndex(below: 2) == 0 ? 0x80 + generator.nextIndex(below: 128) : generator.nextIndex(below: 256)) }
    let repaired = UTF8Repair.repair(bytes)
    #expect(repaired.bytes == Array(String(decoding: bytes, as: UTF8.self).utf8), "\(bytes)")
  }
}

@Test func tokenizerNeverSeesInvalidBytesAfterRepair() throws {
  let repaired = UTF8Repair.repair([0x46, 0x55, 0x4C, 0x4C, 0xFF, 0xFE, 0x6F, 0x6B])
  let text = String(decoding: repaired.bytes, as: UTF8.self)
  #expect(try Tokenizer().words(in: text) == ["full", "ok"])
}
