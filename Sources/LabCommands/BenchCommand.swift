import ArgumentParser
import Benchmarks
import Foundation
import Models
import Tensors
import Tokenization

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Benchmarks that print one JSON line each, for side-by-side runs with the reference scripts.",
    subcommands: [InstructionSetBench.self, TokenizeBench.self, GEMMBench.self, GRUBench.self, TrainBench.self, FederatedRoundBench.self, AggregationBench.self])

  struct InstructionSetBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "isa",
      abstract: "The vector instruction set the kernels run on, and those this CPU supports.",
      discussion: prose("""
        The kernels use the widest instruction set the CPU supports (avx512, else avx2; portable off x86-64), unless
        BACKDOOR_LAB_ISA names a narrower one. Every bench line carries the set it ran on as "instruction_set".
        --list prints the sets this CPU can run, narrowest first, for scripts that run a benchmark on each.
        Examples:
          backdoor-lab bench isa
          BACKDOOR_LAB_ISA=avx2 backdoor-lab bench gemm --sizes 256
        """))

    @Flag(help: "Print the instruction sets this CPU supports, narrowest first, separated by spaces.")
    var list = false

    func run() throws {
      if list {
        print(InstructionSet.runnable.map(\.rawValue).joined(separator: " "))
        return
      }
      var fields: [String: Any] = ["bench": "isa", "supported": InstructionSet.supported.rawValue]
      fields["environment"] = InstructionSet.requestedInEnvironment ?? NSNull()
      try printJSONLine(fields)
    }
  }

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

    func validate() throws { guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") } }

    func run() throws {
      var reader = try orFail { try TextChunkReader(path: file) }
      var chunks: [[UInt8]] = []
      while let chunk = try orFail({ try reader.nextChunk() }) { chunks.append(chunk) }
      reader.closeFile()
      if let warning = reader.replacementWarning { writeToStandardError("warning: \(warning)\n") }
      var fields = try orFail { try TokenizerBenchmark(chunks: chunks, repeats: repeats).run() }.fields
      fields["file"] = file
      try printJSONLine(fields)
    }
  }

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
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
      _ = try positiveIntegers(threads, option: "--threads")
      _ = try positiveIntegers(sizes, option: "--sizes")
      if let shape { _ = try positiveIntegers(shape, separator: "x", count: 3, option: "--shape") }
    }

    func run() throws {
      for threadCount in try positiveIntegers(threads, option: "--threads") {
        if let shape {
          let sides = try positiveIntegers(shape, separator: "x", count: 3, option: "--shape")
          let benchmark = GEMMBenchmark(
            m: sides[0], n: sides[1], k: sides[2], transposeA: transposeA, transposeB: transposeB, threads: threadCount, repeats: repeats)
          try printJSONLine(benchmark.run().fields)
        } else {
          for n in try positiveIntegers(sizes, option: "--sizes") {
            try printJSONLine(GEMMBenchmark(square: n, threads: threadCount, repeats: repeats).run().fields)
          }
        }
      }
    }
  }

  struct GRUBench: ParsableCommand, UsesComputeThreads {
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
    var computeThreads: Int { threads }

    func validate() throws {
      guard batch >= 1, time >= 1, input >= 1, hidden >= 1, threads >= 1 else {
        throw ValidationError("--batch, --time, --input, --hidden and --threads must be positive")
      }
    }

    func run() throws {
      try printJSONLine(GRUKernelBenchmark(batch: batch, time: time, input: input, hidden: hidden, threads: threads).run().fields)
    }
  }

  struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train",
      abstract: "Training and inference throughput of the lab's models in the reference scripts' shapes.",
      discussion: prose("""
        gru: Embedding(20000, 64) → GRU(64→128) → mean → Linear(128, 2), batch 32 × 48 tokens
             (benchmarks/reference/gru_classifier_train.py); lstm and cnn (filter widths 3, 4, 5, 100 each) in
             the same shapes (its --cell lstm and --cell cnn);
        attention: Embedding(20000, 64) + positions(48) → one pre-norm block (--heads, FFN 128) → mean → Linear(64, 2)
             (attention_classifier_train.py; the lab's block adds a final LayerNorm); transformer: PyTorch's
             post-norm layer in the same shapes (its --torch-layer);
        lm: Embedding(10000, 64) → GRU(64→128) → Linear(128, 10000), full softmax at all 32 positions, batch 16
             (gru_lm_train.py).
        A training step is forward, loss, backward and an Adam step that, like PyTorch's, updates every
        embedding row (--optimizer lazy-adam measures the cheaper lazy update instead). No dropout, random
        token ids without padding, median of 5 blocks of ~1 s. One JSON line per thread count.
        Examples (scripts/bench-train.sh runs them beside the PyTorch scripts):
          backdoor-lab bench train --model gru
          backdoor-lab bench train --model attention --heads 4
        """))

    @Option(help: "The model, in the reference scripts' shapes (above).")
    var model: TrainingBenchmark.Model = .gru
    @Option(help: "Attention heads.")
    var heads = 4
    @Option(help: "Comma-separated thread counts.")
    var threads = "1"
    @Option(help: "adam or lazy-adam.")
    var optimizer: OptimizerChoice = .adam

    func validate() throws {
      guard heads >= 1 else { throw ValidationError("--heads must be at least 1") }
      _ = try positiveIntegers(threads, option: "--threads")
    }

    func run() throws {
      for threadCount in try positiveIntegers(threads, option: "--threads") {
        try printJSONLine(TrainingBenchmark(model: model, heads: heads, optimizer: optimizer, threads: threadCount).run().fields)
      }
    }
  }

  struct FederatedRoundBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "fl-round",
      abstract: "Seconds per federated round in the shape of benchmarks/reference/fl_round.py.",
      discussion: prose("""
        --clients clients × --samples random sequences of 48 tokens (vocabulary 20000), GRU classifier
        (E 64, H 128, mean pool, 2 classes), --local-epochs epochs of plain SGD (lr 0.05, batch 16) per client,
        FedAvg weighted by examples; median over --rounds rounds after one warm-up round. With N threads the
        lab trains N clients at once (one kernel thread each); PyTorch uses N intra-op threads.
        Example (scripts/bench-federated.sh runs it beside fl_round.py):
          backdoor-lab bench fl-round --clients 20 --rounds 3
        """))
    @Option var clients = 20
    @Option var samples = 200
    @Option var localEpochs = 2
    @Option var rounds = 3
    @Option(help: "Comma-separated thread counts.")
    var threads = "1"

    func validate() throws {
      guard clients >= 1, samples >= 1, localEpochs >= 1, rounds >= 1 else {
        throw ValidationError("--clients, --samples, --local-epochs and --rounds must be positive")
      }
      _ = try positiveIntegers(threads, option: "--threads")
    }

    func run() throws {
      for threadCount in try positiveIntegers(threads, option: "--threads") {
        let benchmark = FederatedRoundBenchmark(clients: clients, samples: samples, localEpochs: localEpochs, rounds: rounds, threads: threadCount)
        try printJSONLine(try orFail { try benchmark.run() }.fields)
      }
    }
  }

  struct AggregationBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "aggregate",
      abstract: "Seconds per aggregation over --clients updates of --params scalars (fl_round.py's aggregator timings).",
      discussion: prose("""
        Mean (FedAvg), coordinate-wise median (exact), trimmed mean (β 0.2) and Krum (f 4, Gram matrix); median of 5 calls, one thread.
        Example (scripts/bench-aggregate.sh runs it beside fl_round.py's aggregators):
          backdoor-lab bench aggregate --clients 20
        """))
    @Option var clients = 20
    @Option var params = 1_354_370

    func validate() throws {
      guard clients >= 11, params >= 1 else { throw ValidationError("--clients must be at least 11 (Krum with f = 4) and --params positive") }
    }

    func run() throws {
      try printJSONLine(try orFail { try AggregationBenchmark(clients: clients, parameters: params).run() }.fields)
    }
  }
}

extension TrainingBenchmark.Model: ExpressibleByArgument {}

/// A list of positive integers (`--threads 1,2`, `--shape 512x128x10000`), every entry checked: a typo is an error,
/// not a silently dropped entry.
func positiveIntegers(_ list: String, separator: Character = ",", count: Int? = nil, option: String) throws -> [Int] {
  let values = list.split(separator: separator, omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
  guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }), count.map({ $0 == values.count }) ?? true else {
    let expected = count == 3 && separator == "x" ? "MxNxK with positive sides" : "\(separator == "," ? "comma" : "'\(separator)'")-separated positive integers"
    throw ValidationError("\(option): expected \(expected), got '\(list)'")
  }
  return values.map { $0! }
}

/// One benchmark line on standard output, with the machine's load average beside the figures.
func printJSONLine(_ fields: [String: Any]) throws {
  struct Line: BenchmarkRecord { var fields: [String: Any] }
  print(try Line(fields: fields).jsonLine())
}
