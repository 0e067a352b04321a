import ArgumentParser
import Foundation
import Tokenization

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Benchmarks that print one JSON line each, for side-by-side runs with the reference scripts.",
    subcommands: [TokenizeBench.self])

  struct TokenizeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tokenize",
      abstract: "Word tokenisation throughput, file in, token strings out.",
      discussion: """
        Reads FILE, cuts it into ~64 KB chunks at line ends (as `tokenize` does), and times making every
        token's String, with normalisation off and with the default NFKC_Casefold; median of --repeats.
        MB = 10^6 bytes of UTF-8 input. Compare with scripts/bench-tokenize.sh, which runs ICU's raw C loop
        (../shared/reference/icu_wordbreak.c) on the same file in the same run.
        """)

    @Argument(help: "A UTF-8 text file (e.g. 20 MB of English).")
    var file: String
    @Option(help: "Timed repetitions per mode.")
    var repeats = 5

    func run() throws {
      var reader = try TextChunkReader(path: file)
      var chunks: [[UInt8]] = []
      while let chunk = try reader.nextChunk() { chunks.append(chunk) }
      reader.closeFile()
      reader.warnAboutReplacements()
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
