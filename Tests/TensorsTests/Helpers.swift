import Randomness

struct SplitMix64ForTests {
  var generator: SplitMix64
  init(seed: UInt64) { generator = SplitMix64(seed: seed) }
}
