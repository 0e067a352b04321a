import ArgumentParser
import Foundation
import Layers
import Models
import Randomness
import Tensors
import Tokenization

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Benchmarks that print one JSON line each, for side-by-side runs with the reference scripts.",
    subcommands: [TokenizeBench.self, GEMMBench.self, GRUBench.self, TrainBench.self, FederatedRoundBench.self, AggregationBench.self])

  struct TokenizeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tokenize",
      abstract: "Word tokenisation throughput, file in, token strings out.",
      discussion: prose("""
        Reads FILE, cuts it into ~64 KB chunks at line ends (as `tokenize` does), and times making every
        token's String, with normalisation off and with the default NFKC_Casefold; median of --repeats.
        MB = 10^6 bytes of UTF-8 input. Compare with scripts/bench-tokenize.sh, which runs ICU's raw C loop
        (benchmarks/reference/icu_wordbreak.c) on the same file in the same run.
        Example:
          backdoor-lab bench tokenize Corpora/keyboard/shakespeare_lines_by_character.tsv --repeats 3
        """))

    @Argument(help: "A UTF-8 text file (e.g. 20 MB of English).")
    var file: String
    @Option(help: "Timed repetitions per mode.")
    var repeats = 5

    func run() throws {
      var reader = try orFail { try TextChunkReader(path: file) }
      var chunks: [[UInt8]] = []
      while let chunk = try orFail({ try reader.nextChunk() }) { chunks.append(chunk) }
      reader.closeFile()
      if let warning = reader.replacementWarning { writeToStandardError("warning: \(warning)\n") }
      let bytes = chunks.reduce(0) { $0 + $1.count }
      var result: [String: Any] = ["bench": "tokenize", "file": file, "bytes": bytes, "repeats": repeats, "icu_version": icuVersion]
      for (key, normalize) in [("no_normalize", TokenizerOptions.Normalization.none), ("nfkc_casefold", .nfkcCasefold)] {
        let tokenizer = try orFail { try Tokenizer(options: TokenizerOptions(normalize: normalize)) }
        var seconds: [Double] = []
        var tokenCount = 0
        for _ in 0..<max(1, repeats) {
          var strings: [String] = []
          strings.reserveCapacity(1 << 15)
          tokenCount = 0
          let start = DispatchTime.now().uptimeNanoseconds
          for chunk in chunks {
            chunk.withUnsafeBufferPointer { buffer in
              tokenizer.forEachToken(in: buffer) { _, _, text in strings.append(String(decoding: text, as: UTF8.self)) }
            }
            tokenCount += strings.count
            strings.removeAll(keepingCapacity: true)
          }
          seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let median = seconds.sorted()[seconds.count / 2]
        result["\(key)_mb_per_s"] = (Double(bytes) / median / 1e6 * 100).rounded() / 100
        result["\(key)_tokens_per_s"] = (Double(tokenCount) / median).rounded()
        result["\(key)_tokens"] = tokenCount
      }
      // Segmentation alone (no String made): how much of the time is ICU and the shim.
      do {
        let tokenizer = try orFail { try Tokenizer(options: TokenizerOptions(normalize: .none)) }
        var seconds: [Double] = []
        for _ in 0..<max(1, repeats) {
          var count = 0
          let start = DispatchTime.now().uptimeNanoseconds
          for chunk in chunks {
            chunk.withUnsafeBufferPointer { buffer in tokenizer.forEachToken(in: buffer) { _, _, _ in count += 1 } }
          }
          seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        result["segment_only_mb_per_s"] = (Double(bytes) / seconds.sorted()[seconds.count / 2] / 1e6 * 100).rounded() / 100
      }
      result["loadavg"] = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? ""
      let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }
}

/// Median seconds per call of `body` over `repeats` timed blocks of about `blockSeconds` each
/// (calls per block calibrated first), after `warmup` untimed calls: the reference scripts' method.
func medianSecondsPerCall(blockSeconds: Double = 0.3, repeats: Int = 5, warmup: Int = 2, _ body: () -> Void) -> Double {
  func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
  for _ in 0..<warmup { body() }
  var calls = 1
  while true {
    let start = now()
    for _ in 0..<calls { body() }
    let elapsed = now() - start
    if elapsed >= blockSeconds / 4 || calls >= 1 << 20 {
      calls = max(1, Int(Double(calls) * blockSeconds / max(elapsed, 1e-9)))
      break
    }
    calls *= 2
  }
  var perCall: [Double] = []
  for _ in 0..<repeats {
    let start = now()
    for _ in 0..<calls { body() }
    perCall.append((now() - start) / Double(calls))
  }
  return perCall.sorted()[perCall.count / 2]
}

/// A comma-separated list of positive integers (`--threads 1,2`), every entry checked: a typo is an error, not a
/// silently dropped entry.
func positiveIntegers(_ list: String, option: String) throws -> [Int] {
  let values = list.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
  guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
    throw ValidationError("\(option): expected comma-separated positive integers, got '\(list)'")
  }
  return values.map { $0! }
}

func printJSONLine(_ object: [String: Any]) throws {
  var object = object
  object["loadavg"] = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? ""
  print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
}

extension BenchCommand {
  struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gemm",
      abstract: "Square fp32 matrix multiply C = A·B in GFLOP/s (2n³ per product), one JSON line per size and thread count.",
      discussion: prose("""
        Compare with benchmarks/reference/gemm_bench.py (numpy/OpenBLAS) via scripts/bench-gemm.sh.
        Example:
          backdoor-lab bench gemm --sizes 256,512
        """))

    @Option(help: "Comma-separated sizes n.")
    var sizes = "64,128,256,512"
    @Option(help: "Comma-separated thread counts.")
    var threads = "1"
    @Option(help: "Timed blocks per size.")
    var repeats = 5
    @Option(help: ArgumentHelp("A rectangular product instead of the squares: MxNxK, op(A) M×K, op(B) K×N (e.g. the LM's logit gradient 512x128x10000).", valueName: "MxNxK"))
    var shape: String?
    @Flag(help: "With --shape: A is stored K×M (op(A) = Aᵀ).")
    var transposeA = false
    @Flag(help: "With --shape: B is stored N×K (op(B) = Bᵀ).")
    var transposeB = false

    func validate() throws {
      if shape == nil && (transposeA || transposeB) { throw ValidationError("--transpose-a and --transpose-b need --shape") }
      _ = try positiveIntegers(threads, option: "--threads")
      _ = try positiveIntegers(sizes, option: "--sizes")
      _ = try shape.map(parseShape)
    }

    func run() throws {
      let threadCounts = try positiveIntegers(threads, option: "--threads")
      if let shape {
        let (m, n, k) = try parseShape(shape)
        for threadCount in threadCounts {
          let seconds = secondsPerProduct(m: m, n: n, k: k, threads: threadCount)
          let milliseconds: Double = (seconds * 1e4).rounded() / 10
          let gflops: Double = (2 * Double(m * n * k) / seconds / 1e8).rounded() / 10
          try printJSONLine(["bench": "gemm", "shape": shape, "transpose_a": transposeA, "transpose_b": transposeB, "threads": threadCount,
                             "ms": milliseconds, "gflops": gflops])
        }
        return
      }
      for threadCount in threadCounts {
        for n in try positiveIntegers(sizes, option: "--sizes") {
          let seconds = secondsPerProduct(m: n, n: n, k: n, threads: threadCount)
          try printJSONLine(["bench": "gemm", "n": n, "threads": threadCount, "gflops": (2 * pow(Double(n), 3) / seconds / 1e9 * 10).rounded() / 10])
        }
      }
    }

    func parseShape(_ shape: String) throws -> (Int, Int, Int) {
      let sides = shape.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
      guard sides.count == 3, let m = sides[0], let n = sides[1], let k = sides[2], m > 0, n > 0, k > 0 else {
        throw ValidationError("--shape: expected MxNxK with positive sides, got '\(shape)'")
      }
      return (m, n, k)
    }

    /// Median seconds of C = op(A)·op(B) on random matrices stored as `--transpose-a` / `--transpose-b` say.
    func secondsPerProduct(m: Int, n: Int, k: Int, threads: Int) -> Double {
      var generator = SplitMix64(seed: 0)
      let a = Tensor.normal([m * k], using: &generator).scalars, b = Tensor.normal([k * n], using: &generator).scalars
      var c = [Float](repeating: 0, count: m * n)
      return medianSecondsPerCall(repeats: repeats) {
        GEMM.multiply(m: m, n: n, k: k, a: a, lda: transposeA ? m : k, transposeA: transposeA, b: b, ldb: transposeB ? k : n,
                      transposeB: transposeB, c: &c, ldc: n, accumulate: false, threads: threads)
      }
    }
  }

  struct GRUBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gru",
      abstract: "Fused GRU forward + backward over [batch, time, input] → hidden, as in gru_classifier_train.py's setting.",
      discussion: prose("""
        Prints one JSON line: milliseconds per forward+backward and per forward. Compare with scripts/bench-gru.sh.
        Example:
          backdoor-lab bench gru --batch 32 --time 48
        """))

    @Option var batch = 32
    @Option var time = 48
    @Option var input = 64
    @Option var hidden = 128
    @Option(help: "Threads for the kernels.")
    var threads = 1

    func validate() throws {
      guard batch >= 1, time >= 1, input >= 1, hidden >= 1, threads >= 1 else {
        throw ValidationError("--batch, --time, --input, --hidden and --threads must be positive")
      }
    }

    func run() throws {
      var generator = SplitMix64(seed: 0)
      let bound = 1 / Float(hidden).squareRoot()
      struct GRUWeights: Parameterized {
        var input: Tensor, inputWeight: Tensor, recurrentWeight: Tensor, inputBias: Tensor, recurrentBias: Tensor
        var parameterPaths: [(name: String, path: WritableKeyPath<GRUWeights, Tensor>)] {
          [("input", \.input), ("weight_ih", \.inputWeight), ("weight_hh", \.recurrentWeight), ("bias_ih", \.inputBias), ("bias_hh", \.recurrentBias)]
        }
      }
      let weights = GRUWeights(
        input: Tensor.normal([batch, time, input], using: &generator),
        inputWeight: Tensor.uniform([3 * hidden, input], in: -bound...bound, using: &generator),
        recurrentWeight: Tensor.uniform([3 * hidden, hidden], in: -bound...bound, using: &generator),
        inputBias: Tensor.uniform([3 * hidden], in: -bound...bound, using: &generator),
        recurrentBias: Tensor.uniform([3 * hidden], in: -bound...bound, using: &generator))
      func forward(_ w: GRUWeights) -> Tensor {
        gruSequence(w.input, inputWeight: w.inputWeight, recurrentWeight: w.recurrentWeight, inputBias: w.inputBias, recurrentBias: w.recurrentBias)
      }
      let training = medianSecondsPerCall { _ = valueWithGradient(at: weights) { w, _ in forward(w).mean() } }
      let inference = medianSecondsPerCall { _ = forward(weights) }
      try printJSONLine([
        "bench": "gru_forward_backward", "batch": batch, "time": time, "input": input, "hidden": hidden, "threads": threads,
        "forward_backward_ms": (training * 1e5).rounded() / 100, "forward_ms": (inference * 1e5).rounded() / 100,
      ])
    }
  }
}

extension BenchCommand {
  struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train",
      abstract: "Training and inference throughput of the lab's models in the reference scripts' shapes.",
      discussion: prose("""
        gru: Embedding(20000, 64) → GRU(64→128) → mean → Linear(128, 2), batch 32 × 48 tokens
             (benchmarks/reference/gru_classifier_train.py);
        attention: Embedding(20000, 64) + positions(48) → one pre-norm block (--heads, FFN 128) → mean → Linear(64, 2)
             (attention_classifier_train.py; the lab's block adds a final LayerNorm);
        lm: Embedding(10000, 64) → GRU(64→128) → Linear(128, 10000), full softmax at all 32 positions, batch 16
             (gru_lm_train.py).
        A training step is forward, loss, backward and an Adam step that, like PyTorch's, updates every
        embedding row (--optimizer lazy-adam measures the cheaper lazy update instead). No dropout, random
        token ids without padding, median of 5 blocks of ~1 s. One JSON line per thread count.
        Examples (scripts/bench-train.sh runs them beside the PyTorch scripts):
          backdoor-lab bench train --model gru
          backdoor-lab bench train --model attention --heads 4
        """))

    @Option(help: "gru, attention or lm.")
    var model = "gru"
    @Option(help: "Attention heads.")
    var heads = 4
    @Option(help: "Comma-separated thread counts.")
    var threads = "1"
    @Option(help: "adam or lazy-adam.")
    var optimizer = "adam"

    func validate() throws {
      guard ["gru", "attention", "lm"].contains(model) else { throw ValidationError("--model must be gru, attention or lm") }
      guard ["adam", "lazy-adam"].contains(optimizer) else { throw ValidationError("--optimizer must be adam or lazy-adam") }
      _ = try positiveIntegers(threads, option: "--threads")
    }

    func run() throws {
      var generator = SplitMix64(seed: 0)
      let isLanguageModel = model == "lm"
      let (vocabulary, batchSize, length) = isLanguageModel ? (10_000, 16, 32) : (20_000, 32, 48)
      // Random token ids in 1..<vocabulary: no position is padding, as in the reference (which has no padding).
      let batches: [Batch] = (0..<16).map { _ in
        Batch((0..<batchSize).map { _ in
          EncodedExample(ids: (0..<length).map { _ in 1 + generator.nextIndex(below: vocabulary - 1) }, label: generator.nextIndex(below: 2))
        })
      }
      let targets: [[Int]] = batches.map { _ in (0..<(batchSize * length)).map { _ in 1 + generator.nextIndex(below: vocabulary - 1) } }
      for threadCount in try positiveIntegers(threads, option: "--threads") {
        try ComputeThreads.withMaximum(threadCount) {
          var step = 0
          let (train, infer): (Double, Double)
          if isLanguageModel {
            var lm = NextWordModel(config: ModelConfig(architecture: .gruLanguageModel, vocabularySize: vocabulary, embeddingDimension: 64, hiddenSize: 128,
                                                       maximumLength: length, dropout: 0), using: &generator)
            var adam = Adam(for: lm, learningRate: 1e-3)
            var lazy = LazyAdam(for: lm, learningRate: 1e-3)
            var context = ForwardContext(training: true)
            func loss(_ model: NextWordModel, _ index: Int, _ context: inout ForwardContext) -> Tensor {
              model.loss(batches[index], targets: targets[index], context: &context)
            }
            train = medianSecondsPerCall(blockSeconds: 1) {
              step = (step + 1) % batches.count
              let (_, gradient) = valueWithGradient(at: lm) { model, _ in loss(model, step, &context) }
              if optimizer == "adam" { adam.update(&lm, along: gradient) } else { lazy.update(&lm, along: gradient) }
            }
            var inference = ForwardContext.inference
            infer = medianSecondsPerCall(blockSeconds: 1) {
              step = (step + 1) % batches.count
              _ = loss(lm, step, &inference).scalar
            }
          } else {
            let config = ModelConfig(architecture: model == "gru" ? .gru : .attention, vocabularySize: vocabulary, embeddingDimension: 64, hiddenSize: 128,
                                     labels: ["a", "b"], maximumLength: length, headCount: heads, feedForwardSize: 128, dropout: 0)
            var classifier = TextClassifier(config: config, using: &generator)
            var adam = Adam(for: classifier, learningRate: 1e-3)
            var lazy = LazyAdam(for: classifier, learningRate: 1e-3)
            var context = ForwardContext(training: true)
            train = medianSecondsPerCall(blockSeconds: 1) {
              step = (step + 1) % batches.count
              let batch = batches[step]
              let (_, gradient) = valueWithGradient(at: classifier) { model, _ in model.loss(batch, context: &context) }
              if optimizer == "adam" { adam.update(&classifier, along: gradient) } else { lazy.update(&classifier, along: gradient) }
            }
            var inference = ForwardContext.inference
            infer = medianSecondsPerCall(blockSeconds: 1) {
              step = (step + 1) % batches.count
              _ = classifier.logits(batches[step], context: &inference)
            }
          }
          let items = Double(isLanguageModel ? batchSize * length : batchSize)
          let unit = isLanguageModel ? "tokens" : "samples"
          try printJSONLine([
            "bench": "train_\(model)", "model": model, "heads": model == "attention" ? heads : 0, "threads": threadCount, "optimizer": optimizer,
            "train_\(unit)_per_s": (items / train).rounded(), (isLanguageModel ? "eval_tokens_per_s" : "infer_samples_per_s"): (items / infer).rounded(),
            "train_ms_per_step": (train * 1e5).rounded() / 100,
          ])
        }
      }
    }
  }
}

extension BenchCommand.GRUBench: UsesComputeThreads { var computeThreads: Int { threads } }
