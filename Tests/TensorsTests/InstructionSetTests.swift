import Randomness
@testable import Tensors
import Testing

private func uniform(_ count: Int, seed: UInt64) -> [Float] {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform([count], in: -1...1, using: &generator).scalars
}

/// Where two arrays first differ, bit for bit ("count" when their lengths do); nil when they are identical.
func firstDifference(_ left: [Float], _ right: [Float]) -> String? {
  guard left.count == right.count else { return "count \(left.count) vs \(right.count)" }
  guard let index = left.indices.first(where: { left[$0].bitPattern != right[$0].bitPattern }) else { return nil }
  let differing = zip(left, right).filter { $0.bitPattern != $1.bitPattern }.count
  return "\(differing) of \(left.count) differ; first at \(index): \(left[index]) vs \(right[index])"
}

@Test func instructionSetRequestsAreFollowedOnlyWithinWhatTheCPUSupports() {
  #expect(InstructionSet.resolve(request: "avx2", supported: .avx512) == (.avx2, nil))
  #expect(InstructionSet.resolve(request: "AVX512", supported: .avx512) == (.avx512, nil))
  #expect(InstructionSet.resolve(request: "", supported: .avx2) == (.avx2, nil))
  let tooWide = InstructionSet.resolve(request: "avx512", supported: .avx2)
  #expect(tooWide.level == .avx2)
  #expect(tooWide.problem == .unsupported("BACKDOOR_LAB_ISA=avx512: this CPU supports avx2 at most; using avx2"))
  let unknown = InstructionSet.resolve(request: "sse4", supported: .avx512)
  #expect(unknown.level == .avx512)
  #expect(unknown.problem == .unknownName("BACKDOOR_LAB_ISA=sse4 is not an instruction set of this build (one of: avx2, avx512)"))
  // The x86-64 build has no level below AVX2; elsewhere `portable` is the only one.
  #expect(InstructionSet.resolve(request: "portable", supported: .avx2).problem?.message.contains("one of: avx2, avx512") == true)
  #expect(InstructionSet.resolve(request: "portable", supported: .portable) == (.portable, nil))
}

@Test func aScopeLowersTheInstructionSetAndNeverRaisesIt() {
  let outside = InstructionSet.current
  InstructionSet.withMaximum(.avx2) {
    #expect(InstructionSet.current == Swift.min(outside, .avx2))
  }
  InstructionSet.withMaximum(.avx512) {
    #expect(InstructionSet.current == outside)
  }
  #expect(InstructionSet.current <= InstructionSet.supported)
}

/// Both tiles run each element's fused multiply-adds over depth in the same order, so AVX-512 and AVX2 give the same
/// bits: shapes with whole 12×32 tiles, 7–11 rows left over (a partial wide tile) or fewer (narrow tiles), columns left
/// over, several depth slices, C accumulated, A read in place, B packed once, and two threads.
@Test(.enabled(if: InstructionSet.supported == .avx512, "this CPU has no AVX-512"),
      arguments: [(12, 32, 7), (25, 70, 300), (96, 64, 256), (100, 130, 513), (5, 40, 9), (40, 8, 33), (20, 64, 40), (31, 96, 70)])
func avx512GEMMGivesTheAVX2Bits(m: Int, n: Int, k: Int) {
  for transposeA in [false, true] {
    for transposeB in [false, true] {
      let a = uniform(m * k, seed: UInt64(m * 7 + k)), b = uniform(k * n, seed: UInt64(n * 13 + k))
      let start = uniform(m * n, seed: 5)
      func product(_ level: InstructionSet, threads: Int, accumulate: Bool) -> [Float] {
        var c = start
        InstructionSet.withMaximum(level) {
          GEMM.multiply(m: m, n: n, k: k, a: a, lda: transposeA ? m : k, transposeA: transposeA,
                        b: b, ldb: transposeB ? k : n, transposeB: transposeB, c: &c, ldc: n, accumulate: accumulate, threads: threads)
        }
        return c
      }
      for accumulate in [false, true] {
        let narrow = product(.avx2, threads: 1, accumulate: accumulate)
        #expect(firstDifference(product(.avx512, threads: 1, accumulate: accumulate), narrow) == nil, "m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB)")
        #expect(firstDifference(product(.avx512, threads: 2, accumulate: accumulate), narrow) == nil)
      }
      let packed = GEMM.PackedMatrix(b, rows: k, columns: n, ldb: transposeB ? k : n, transposed: transposeB)
      func packedProduct(_ level: InstructionSet) -> [Float] {
        var c = start
        InstructionSet.withMaximum(level) {
          GEMM.multiply(m: m, a: a, lda: transposeA ? m : k, transposeA: transposeA, packed: packed, c: &c, ldc: n, accumulate: true)
        }
        return c
      }
      #expect(firstDifference(packedProduct(.avx512), packedProduct(.avx2)) == nil)
    }
  }
}

@Test(.enabled(if: InstructionSet.supported == .avx512, "this CPU has no AVX-512"))
func avx512GEMMReadsARowMajorAInPlaceWithTheAVX2Bits() {
  // 31 rows: two whole tiles and a partial one of 7, whose missing rows must not be read past the end of A.
  let (m, n, k) = (31, 75, 600)
  let a = uniform(m * k, seed: 21), b = uniform(k * n, seed: 22)
  func product(_ level: InstructionSet) -> [Float] {
    var c = [Float](repeating: 0.25, count: m * n)
    InstructionSet.withMaximum(level) {
      GEMM.multiply(m: m, n: n, k: k, a: a, lda: k, transposeA: false, b: b, ldb: n, transposeB: false, c: &c, ldc: n, accumulate: true, threads: 1)
    }
    return c
  }
  #expect(firstDifference(product(.avx512), product(.avx2)) == nil)
}
