import Randomness

/// A count sketch (Charikar et al. 2002) of vectors of one dimension: coordinate i is added, with sign s(i), to bucket
/// h(i), both taken from a seeded hash of i (SplitMix64 seeded with seed ⊕ i·0x9E3779B97F4A7C15: h the first draw
/// modulo the size, s its top bit). Inner products and norms of sketches estimate those of the vectors (unbiased, with
/// a variance that shrinks with the size), and sketching is linear, so a rule can keep a fixed-size trace of each
/// client's updates whatever the model's size. The layout is hashed once per dimension.
struct CountSketch: Sendable {
  let size: Int
  let buckets: [Int32]
  let signs: [Float]

  init(size: Int, dimension: Int, seed: UInt64) {
    precondition(size >= 1, "a count sketch needs at least one bucket")
    self.size = size
    var buckets = [Int32](repeating: 0, count: dimension), signs = [Float](repeating: 1, count: dimension)
    for i in 0..<dimension {
      var generator = SplitMix64(seed: seed ^ (UInt64(i) &* 0x9E37_79B9_7F4A_7C15))
      let hash = generator.next()
      buckets[i] = Int32(hash % UInt64(size))
      signs[i] = (hash >> 63) == 0 ? 1 : -1
    }
    self.buckets = buckets
    self.signs = signs
  }

  var dimension: Int { buckets.count }

  func callAsFunction(_ x: [Float]) -> [Float] {
    precondition(x.count == dimension, "sketching \(x.count) scalars with a layout for \(dimension)")
    var result = [Float](repeating: 0, count: size)
    for i in 0..<x.count { result[Int(buckets[i])] += signs[i] * x[i] }
    return result
  }
}
