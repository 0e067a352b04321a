import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator with 64-bit state.
/// The lab has no global generator: every consumer is handed one, and parallel work derives its own
/// stream from (seed, purpose, indices) so results never depend on scheduling or thread count.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// A generator for one independent stream, e.g. `SplitMix64(seed: 7, stream: [round, client])`.
  /// Every component is mixed in turn, so `[1, 2]` and `[2, 1]` give unrelated streams.
  public init(seed: UInt64, stream components: [UInt64]) {
    var mixed = SplitMix64.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
    for component in components {
      mixed = SplitMix64.mix(mixed ^ SplitMix64.mix(component &+ 0xD1B5_4A32_D192_ED03))
    }
    state = mixed
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return SplitMix64.mix(state)
  }

  @inline(__always) static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension RandomNumberGenerator {
  /// Uniform in [0, 1) with 24 random bits: every value is exactly representable as a Float.
  @inlinable public mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// Uniform in [0, 1) with 53 random bits.
  @inlinable public mutating func nextUnitDouble() -> Double {
    Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
  }

  /// Uniform integer in 0..<bound without modulo bias (Lemire's method).
  @inlinable public mutating func nextIndex(below bound: Int) -> Int {
    precondition(bound > 0, "bound must be positive; got \(bound)")
    let range = UInt64(bound)
    var product = next().multipliedFullWidth(by: range)
    if product.low < range {
      let threshold = (0 &- range) % range
      while product.low < threshold { product = next().multipliedFullWidth(by: range) }
    }
    return Int(product.high)
  }

  /// Standard normal sample (Box–Muller); uses two uniform draws per call, so streams stay aligned.
  @inlinable public mutating func nextStandardNormal() -> Double {
    let u1 = 1.0 - nextUnitDouble()  // (0, 1]: log stays finite
    let u2 = nextUnitDouble()
    return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
  }
}

extension MutableCollection where Self: RandomAccessCollection, Index == Int {
  /// Fisher–Yates shuffle with the lab's explicit generator (the standard library's algorithm is not
  /// guaranteed stable across Swift versions; this one is).
  public mutating func seededShuffle<G: RandomNumberGenerator>(using generator: inout G) {
    guard count > 1 else { return }
    for offset in stride(from: count - 1, to: 0, by: -1) {
      let other = generator.nextIndex(below: offset + 1)
      swapAt(startIndex + offset, startIndex + other)
    }
  }
}
