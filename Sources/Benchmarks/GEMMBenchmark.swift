import Randomness
import Tensors

/// C = op(A)·op(B) on random fp32 matrices, A stored K×M when `transposeA`, B stored N×K when `transposeB`.
public struct GEMMBenchmark {
  public var m: Int, n: Int, k: Int
  public var transposeA = false, transposeB = false
  public var threads = 1
  public var repeats = 5

  public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false, threads: Int = 1, repeats: Int = 5) {
    (self.m, self.n, self.k) = (m, n, k)
    self.transposeA = transposeA
    self.transposeB = transposeB
    self.threads = threads
    self.repeats = repeats
  }

  /// A square product n×n×n.
  public init(square n: Int, threads: Int, repeats: Int) { self.init(m: n, n: n, k: n, threads: threads, repeats: repeats) }

  public struct Result: BenchmarkRecord {
    public var benchmark: GEMMBenchmark
    public var seconds: Double
    /// 2·M·N·K floating-point operations per product.
    public var gigaflops: Double { 2 * Double(benchmark.m) * Double(benchmark.n) * Double(benchmark.k) / seconds / 1e9 }
    public var isSquare: Bool { benchmark.m == benchmark.n && benchmark.n == benchmark.k && !benchmark.transposeA && !benchmark.transposeB }

    public var fields: [String: Any] {
      let b = benchmark
      if isSquare { return ["bench": "gemm", "n": b.n, "threads": b.threads, "gflops": rounded(gigaflops, digits: 1)] }
      return [
        "bench": "gemm", "shape": "\(b.m)x\(b.n)x\(b.k)", "transpose_a": b.transposeA, "transpose_b": b.transposeB, "threads": b.threads,
        "ms": rounded(seconds * 1000, digits: 1), "gflops": rounded(gigaflops, digits: 1),
      ]
    }
  }

  public func run() -> Result {
    var generator = SplitMix64(seed: 0)
    let a = Tensor.normal([m * k], using: &generator).scalars, b = Tensor.normal([k * n], using: &generator).scalars
    var c = [Float](repeating: 0, count: m * n)
    let seconds = medianSecondsPerCall(repeats: repeats) {
      GEMM.multiply(m: m, n: n, k: k, a: a, lda: transposeA ? m : k, transposeA: transposeA, b: b, ldb: transposeB ? k : n,
                    transposeB: transposeB, c: &c, ldc: n, accumulate: false, threads: threads)
    }
    return Result(benchmark: self, seconds: seconds)
  }
}
