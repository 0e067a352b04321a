import Tokenization

/// Word tokenisation throughput over chunks of UTF-8 text (cut at line ends, as `tokenize` reads a file): making
/// every token's String with normalisation off and with NFKC_Casefold, and segmentation alone (no String made).
public struct TokenizerBenchmark {
  public var chunks: [[UInt8]]
  public var repeats: Int

  public init(chunks: [[UInt8]], repeats: Int) {
    self.chunks = chunks
    self.repeats = repeats
  }

  public struct Result: BenchmarkRecord {
    public var bytes: Int
    public var repeats: Int
    /// Per normalisation ("no_normalize", "nfkc_casefold"): MB/s (10^6 bytes of input), tokens/s, tokens.
    public var modes: [(name: String, megabytesPerSecond: Double, tokensPerSecond: Double, tokens: Int)]
    public var segmentOnlyMegabytesPerSecond: Double

    public var fields: [String: Any] {
      var fields: [String: Any] = [
        "bench": "tokenize", "bytes": bytes, "repeats": repeats, "icu_version": icuVersion,
        "segment_only_mb_per_s": rounded(segmentOnlyMegabytesPerSecond, digits: 2),
      ]
      for mode in modes {
        fields["\(mode.name)_mb_per_s"] = rounded(mode.megabytesPerSecond, digits: 2)
        fields["\(mode.name)_tokens_per_s"] = mode.tokensPerSecond.rounded()
        fields["\(mode.name)_tokens"] = mode.tokens
      }
      return fields
    }
  }

  public func run() throws -> Result {
    let bytes = chunks.reduce(0) { $0 + $1.count }
    var modes: [(String, Double, Double, Int)] = []
    for (name, normalize) in [("no_normalize", TokenizerOptions.Normalization.none), ("nfkc_casefold", .nfkcCasefold)] {
      let tokenizer = try Tokenizer(options: TokenizerOptions(normalize: normalize))
      var tokenCount = 0
      var strings: [String] = []
      strings.reserveCapacity(1 << 15)
      let seconds = medianSeconds(repeats: repeats) {
        tokenCount = 0
        for chunk in chunks {
          chunk.withUnsafeBufferPointer { buffer in
            tokenizer.forEachToken(in: buffer) { _, _, text in strings.append(String(decoding: text, as: UTF8.self)) }
          }
          tokenCount += strings.count
          strings.removeAll(keepingCapacity: true)
        }
      }
      modes.append((name, Double(bytes) / seconds / 1e6, Double(tokenCount) / seconds, tokenCount))
    }
    let tokenizer = try Tokenizer(options: TokenizerOptions(normalize: .none))
    let segmentSeconds = medianSeconds(repeats: repeats) {
      var count = 0
      for chunk in chunks {
        chunk.withUnsafeBufferPointer { buffer in tokenizer.forEachToken(in: buffer) { _, _, _ in count += 1 } }
      }
    }
    return Result(
      bytes: bytes, repeats: max(1, repeats), modes: modes.map { (name: $0.0, megabytesPerSecond: $0.1, tokensPerSecond: $0.2, tokens: $0.3) },
      segmentOnlyMegabytesPerSecond: Double(bytes) / segmentSeconds / 1e6)
  }
}
