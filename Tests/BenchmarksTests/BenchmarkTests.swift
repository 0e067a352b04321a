import Testing

@testable import Benchmarks
import Tensors

@Suite struct BenchmarkTests {
  @Test func medianTimingCallsTheBodyAndReturnsAPositiveTime() {
    var calls = 0
    let seconds = medianSecondsPerCall(blockSeconds: 0.001, repeats: 3, warmup: 2) { calls += 1 }
    #expect(seconds > 0)
    #expect(calls >= 2 + 3)
  }

  @Test func tokenizerBenchmarkCountsTheTokensOfItsInput() throws {
    let text = Array("The film was good.\nIt was not bad at all!\n".utf8)
    let result = try TokenizerBenchmark(chunks: [text, text], repeats: 1).run()
    #expect(result.bytes == 2 * text.count)
    // 4 + 6 words a line, two copies; punctuation is not a word.
    #expect(result.modes.map(\.tokens) == [20, 20])
    #expect(result.modes.map(\.name) == ["no_normalize", "nfkc_casefold"])
    #expect(result.fields["nfkc_casefold_tokens"] as? Int == 20)
    #expect(result.segmentOnlyMegabytesPerSecond > 0)
  }

  @Test func gemmBenchmarkReportsSquareAndRectangularShapes() {
    let square = GEMMBenchmark(square: 8, threads: 1, repeats: 1).run()
    #expect(square.fields["n"] as? Int == 8)
    #expect(square.gigaflops > 0 && square.gigaflops.isFinite)
    let rectangular = GEMMBenchmark(m: 4, n: 6, k: 5, transposeA: true, transposeB: true, threads: 1, repeats: 1).run()
    #expect(rectangular.fields["shape"] as? String == "4x6x5")
    #expect(rectangular.fields["transpose_a"] as? Bool == true)
    #expect(rectangular.fields["n"] == nil)
  }

  // Which of the two takes longer is a timing, not a property to test: at these shapes, on a machine running the
  // other tests beside it, either can come out ahead.
  @Test func gruKernelBenchmarkTimesTheForwardAndTheForwardBackwardPass() {
    let result = GRUKernelBenchmark(batch: 2, time: 3, input: 4, hidden: 5).run()
    #expect(result.forwardSeconds > 0 && result.forwardSeconds.isFinite)
    #expect(result.forwardBackwardSeconds > 0 && result.forwardBackwardSeconds.isFinite)
    #expect(result.fields["bench"] as? String == "gru_forward_backward")
  }

  @Test func aggregationBenchmarkTimesEveryRule() throws {
    let result = try AggregationBenchmark(clients: 11, parameters: 50).run()
    #expect(Set(result.secondsByRule.keys) == ["mean", "median_exact", "trimmed_mean", "krum_gram"])
    #expect(result.secondsByRule.values.allSatisfy { $0 > 0 && $0.isFinite })
    #expect(result.fields["krum_gram_s"] != nil)
  }

  @Test func federatedRoundBenchmarkTimesEachRoundAfterTheWarmUp() throws {
    let result = try FederatedRoundBenchmark(clients: 2, samples: 4, localEpochs: 1, rounds: 2, threads: 2).run()
    #expect(result.roundSeconds.count == 2)
    #expect(result.roundSeconds.allSatisfy { $0 > 0 })
    #expect(result.fields["local_steps_per_round"] as? Int == 2)
  }

  @Test func jsonLineIsSortedAndCarriesTheInstructionSetAndLoadAverage() throws {
    struct Line: BenchmarkRecord { var fields: [String: Any] }
    let line = try Line(fields: ["b": 1, "a": "x"]).jsonLine()
    #expect(line.hasPrefix("{\"a\":\"x\",\"b\":1,\"instruction_set\":\"\(InstructionSet.current.rawValue)\",\"loadavg\":"))
    let narrow = try InstructionSet.withMaximum(.avx2) { try Line(fields: [:]).jsonLine() }
    #expect(narrow.contains("\"instruction_set\":\"\(Swift.min(InstructionSet.supported, .avx2).rawValue)\""))
  }
}
