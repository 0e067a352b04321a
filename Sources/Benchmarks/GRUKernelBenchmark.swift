import Layers
import Randomness
import Tensors

/// The fused GRU over [batch, time, input] → hidden states: forward + backward (gradient of the mean output with
/// respect to the input and every weight), and forward alone; PyTorch's initialisation bounds.
public struct GRUKernelBenchmark {
  public var batch = 32, time = 48, input = 64, hidden = 128
  public var threads = 1

  public init(batch: Int = 32, time: Int = 48, input: Int = 64, hidden: Int = 128, threads: Int = 1) {
    (self.batch, self.time, self.input, self.hidden, self.threads) = (batch, time, input, hidden, threads)
  }

  public struct Result: BenchmarkRecord {
    public var benchmark: GRUKernelBenchmark
    public var forwardBackwardSeconds: Double
    public var forwardSeconds: Double

    public var fields: [String: Any] {
      let b = benchmark
      return [
        "bench": "gru_forward_backward", "batch": b.batch, "time": b.time, "input": b.input, "hidden": b.hidden, "threads": b.threads,
        "forward_backward_ms": rounded(forwardBackwardSeconds * 1000, digits: 2), "forward_ms": rounded(forwardSeconds * 1000, digits: 2),
      ]
    }
  }

  struct Weights: Parameterized {
    var input: Tensor, inputWeight: Tensor, recurrentWeight: Tensor, inputBias: Tensor, recurrentBias: Tensor
    var parameterPaths: [(name: String, path: WritableKeyPath<Weights, Tensor>)] {
      [("input", \.input), ("weight_ih", \.inputWeight), ("weight_hh", \.recurrentWeight), ("bias_ih", \.inputBias), ("bias_hh", \.recurrentBias)]
    }
  }

  /// Times with `threads` kernel threads bound for the calls.
  public func run() -> Result {
    var generator = SplitMix64(seed: 0)
    let bound = 1 / Float(hidden).squareRoot()
    let weights = Weights(
      input: Tensor.normal([batch, time, input], using: &generator),
      inputWeight: Tensor.uniform([3 * hidden, input], in: -bound...bound, using: &generator),
      recurrentWeight: Tensor.uniform([3 * hidden, hidden], in: -bound...bound, using: &generator),
      inputBias: Tensor.uniform([3 * hidden], in: -bound...bound, using: &generator),
      recurrentBias: Tensor.uniform([3 * hidden], in: -bound...bound, using: &generator))
    func forward(_ w: Weights) -> Tensor {
      gruSequence(w.input, inputWeight: w.inputWeight, recurrentWeight: w.recurrentWeight, inputBias: w.inputBias, recurrentBias: w.recurrentBias)
    }
    return ComputeThreads.withMaximum(threads) {
      let training = medianSecondsPerCall { _ = valueWithGradient(at: weights) { w, _ in forward(w).mean() } }
      let inference = medianSecondsPerCall { _ = forward(weights) }
      return Result(benchmark: self, forwardBackwardSeconds: training, forwardSeconds: inference)
    }
  }
}
