import Foundation
import Randomness
import Tensors
import Testing
import TestSupport

/// Thousands of mutated safetensors files: each is read or refused with a `SafetensorsError`, never a crash.
@Test func mutatedSafetensorsFilesAreReadOrRefused() throws {
  var generator = SplitMix64(seed: 5)
  let valid = try Safetensors.encode(
    [("embedding.weight", Tensor.normal([6, 4], using: &generator)), ("head.bias", Tensor.normal([3], using: &generator))], metadata: ["format": "pt"])
  var mutator = Mutator(seed: 1)
  var refused = 0, read = 0
  for _ in 0..<Mutator.iterations(standard: 3000) {
    // Mutations aimed at the JSON header half the time: that is where the parser's decisions are.
    var bytes = valid
    if mutator.below(2) == 0 {
      let headerLength = Int(valid[0]) | Int(valid[1]) << 8
      let header = mutator.mutate(Array(valid[8..<(8 + headerLength)]))
      let length = UInt64(header.count)
      bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + header + valid[(8 + headerLength)...]
    } else {
      bytes = mutator.mutate(valid)
    }
    do {
      let file = try Safetensors.decode(bytes)
      for (_, tensor) in file.tensors { #expect(tensor.scalars.count == tensor.shape.reduce(1, *)) }
      read += 1
    } catch {
      #expect(!error.description.isEmpty)
      refused += 1
    }
  }
  #expect(refused > 0 && read + refused == Mutator.iterations(standard: 3000))
}
