import Foundation

/// Seeded byte-level mutations of a valid input, for tests that feed parsers thousands of near-valid inputs: a
/// parser must answer each with a clear error or a valid result, never a crash or a hang. Each mutation is one of:
/// flip a bit, set a byte to an interesting value, insert or delete a run, duplicate a run, truncate, or splice in a
/// token parsers often mishandle (huge or negative numbers, NaN, NUL, quotes, separators).
public struct Mutator {
  private var state: UInt64

  /// `FUZZ_SEED` from the environment, when set, is mixed in: another run tries other inputs.
  public init(seed: UInt64) {
    let extra = ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap(UInt64.init) ?? 0
    state = (seed ^ (extra &* 0xD6E8_FEB8_6659_FD93)) &+ 0x9E37_79B9_7F4A_7C15
  }

  /// How many inputs a fuzz test tries: `FUZZ_ITERATIONS` from the environment (scripts/fuzz.sh sets it high), else
  /// `standard`.
  public static func iterations(standard: Int) -> Int {
    ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"].flatMap(Int.init) ?? standard
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  public mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

  static let tokens: [[UInt8]] = [
    "-1", "0", "1e309", "-1e309", "NaN", "inf", "9223372036854775807", "18446744073709551616", "\u{0}", "\"", "\\", "\t", "\n", "\r\n",
    "{", "}", "[", "]", ":", ",", "null", "true", "<pad>", "\u{FEFF}", "é", "\u{FFFD}", "99999999999999999999999999",
  ].map { Array($0.utf8) }

  /// `input` with 1–4 mutations applied.
  public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    for _ in 0..<(1 + below(4)) {
      let position = below(bytes.count + 1)
      switch below(7) {
      case 0 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] ^= UInt8(1) << UInt8(below(8))
      case 1 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] = [0, 0x7F, 0x80, 0xFF, 0x0A, 0x09, 0x22, 0x30][below(8)]
      case 2: bytes.insert(contentsOf: (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: next()) }, at: position)
      case 3 where !bytes.isEmpty:
        let end = min(bytes.count, position + 1 + below(16))
        bytes.removeSubrange(min(position, bytes.count - 1)..<end)
      case 4 where !bytes.isEmpty:
        let start = min(position, bytes.count - 1), end = min(bytes.count, start + 1 + below(32))
        bytes.insert(contentsOf: bytes[start..<end], at: below(bytes.count + 1))
      case 5: bytes.removeSubrange(position..<bytes.count)
      default: bytes.insert(contentsOf: Self.tokens[below(Self.tokens.count)], at: position)
      }
    }
    return bytes
  }
}
