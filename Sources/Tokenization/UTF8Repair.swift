/// Invalid UTF-8 in input files is replaced, counted and reported, never a crash.
///
/// Each maximal ill-formed subsequence becomes one U+FFFD (the Unicode Standard's recommended
/// practice, §3.9, and what Swift's `String(decoding:as:)` does), so counts agree with other tools.
public struct RepairedText: Sendable {
  /// Valid UTF-8: the input itself when it was valid.
  public var bytes: [UInt8]
  /// How many ill-formed subsequences were replaced.
  public var replacementCount: Int
  /// Byte offsets, in the original input, of the first few ill-formed subsequences (at most 16).
  public var firstInvalidOffsets: [Int]

  public var isRepaired: Bool { replacementCount > 0 }
}

public enum UTF8Repair {
  static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

  /// Returns valid UTF-8 for any bytes.
  public static func repair(_ input: [UInt8]) -> RepairedText {
    input.withUnsafeBufferPointer { buffer in
      guard let firstBad = firstInvalidSequence(in: buffer, from: 0) else {
        return RepairedText(bytes: input, replacementCount: 0, firstInvalidOffsets: [])
      }
      var output: [UInt8] = []
      output.reserveCapacity(input.count + 16)
      output.append(contentsOf: buffer[0..<firstBad.offset])
      var count = 0
      var offsets: [Int] = []
      var next: (offset: Int, length: Int)? = firstBad
      var position = firstBad.offset
      while let bad = next {
        output.append(contentsOf: buffer[position..<bad.offset])
        output.append(contentsOf: replacementCharacter)
        count += 1
        if offsets.count < 16 { offsets.append(bad.offset) }
        position = bad.offset + bad.length
        next = firstInvalidSequence(in: buffer, from: position)
      }
      output.append(contentsOf: buffer[position...])
      return RepairedText(bytes: output, replacementCount: count, firstInvalidOffsets: offsets)
    }
  }

  /// Whether `bytes` are well-formed UTF-8.
  public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    firstInvalidSequence(in: bytes, from: 0) == nil
  }

  /// The first maximal ill-formed subsequence at or after `start`: its offset and length (≥ 1).
  static func firstInvalidSequence(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (offset: Int, length: Int)? {
    let count = bytes.count
    var index = start
    guard let base = bytes.baseAddress else { return nil }
    while index < count {
      // ASCII fast path, eight bytes at a time.
      while index + 8 <= count {
        let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
        if word & 0x8080_8080_8080_8080 != 0 { break }
        index += 8
      }
      guard index < count else { return nil }
      let lead = bytes[index]
      if lead < 0x80 {
        index += 1
        continue
      }
      // Table 3-7 of the Unicode Standard: allowed range of the second byte for each lead byte.
      let length: Int
      var secondLow: UInt8 = 0x80
      var secondHigh: UInt8 = 0xBF
      switch lead {
      case 0xC2...0xDF: length = 2
      case 0xE0: length = 3; secondLow = 0xA0
      case 0xE1...0xEC, 0xEE...0xEF: length = 3
      case 0xED: length = 3; secondHigh = 0x9F
      case 0xF0: length = 4; secondLow = 0x90
      case 0xF1...0xF3: length = 4
      case 0xF4: length = 4; secondHigh = 0x8F
      default: return (index, 1)
      }
      var valid = 1
      while valid < length {
        guard index + valid < count else { return (index, valid) }
        let byte = bytes[index + valid]
        let low: UInt8 = valid == 1 ? secondLow : 0x80
        let high: UInt8 = valid == 1 ? secondHigh : 0xBF
        guard byte >= low && byte <= high else { return (index, valid) }
        valid += 1
      }
      index += length
    }
    return nil
  }
}
