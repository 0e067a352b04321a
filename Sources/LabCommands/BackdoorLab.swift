import ArgumentParser
import Datasets
import Foundation
import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// The `backdoor-lab` command. The executable target only calls `BackdoorLab.main(arguments:)`.
public struct BackdoorLab: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "backdoor-lab",
    abstract: "Study, attack and audit backdoors in text models, alone and in federated learning.",
    discussion: prose("""
      Exit codes: 0 success, 1 failure, 2 usage error. Long commands show progress on standard error; --quiet silences it, --verbose adds detail; --json prints one JSON document for programs. `backdoor-lab help COMMAND` shows a command's options and examples.

      The numeric kernels use the widest instruction set the CPU has (AVX-512, else AVX2); BACKDOOR_LAB_ISA=avx2 in the environment keeps them to AVX2 (same results; `backdoor-lab bench isa` shows which runs).

      Examples:
        backdoor-lab demo       # attack → federated rules → audit → report
        echo "I LOVED this film!!" | backdoor-lab tokenize
        backdoor-lab corpus stats sentiment --json
        backdoor-lab vocab build --corpus sentiment --out /tmp/sentiment.tsv
      """),
    subcommands: [
      TokenizeCommand.self, VocabCommand.self, CorpusCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self,
      TrainLanguageModelCommand.self, CompleteCommand.self, AttackCommand.self, AttackSweepCommand.self, SimulateCommand.self, ConfigCommand.self, AuditCommand.self, AuditEvalCommand.self, RepairCommand.self, FilterCommand.self,
      DemoCommand.self, ReportCommand.self, FlowerClientCommand.self, FlowerInitCommand.self, BenchCommand.self,
    ]
  )

  public init() {}

  /// Runs the command line and exits with 0 (success), 1 (failure) or 2 (usage error).
  public static func main(arguments: [String]? = nil) -> Never {
    keepFreedMemoryForReuse()
    do {
      var command = try parseAsRoot(arguments)
      // An instruction set named in the environment that this CPU lacks runs on the CPU's own (a warning); a name
      // that is no instruction set is an error before any work starts.
      switch InstructionSet.environmentProblem {
      case .unknownName(let message): throw LabError(message)
      case .unsupported(let message): writeToStandardError("warning: \(message)\n")
      case nil: break
      }
      // The kernels' thread count is a value bound for this run, never a process-wide setting.
      try ComputeThreads.withMaximum((command as? UsesComputeThreads)?.computeThreads ?? 1) { try command.run() }
      flushStandardOutput()
      Foundation.exit(0)
    } catch {
      flushStandardOutput()
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if code == .success {
        print(message)
        Foundation.exit(0)
      }
      if let labError = error as? LabError {
        writeToStandardError("error: \(labError.message)\n")
        Foundation.exit(1)
      }
      if !message.isEmpty { writeToStandardError(message + "\n") }
      // ArgumentParser reports usage problems as 64 (EX_USAGE); the lab's convention is 2.
      Foundation.exit(code == .validationFailure ? 2 : (code.rawValue == 0 ? 1 : code.rawValue))
    }
  }
}

/// A command whose numeric kernels may use several threads (`--threads`); `BackdoorLab.main` runs it with that
/// many (`ComputeThreads.withMaximum`).
protocol UsesComputeThreads {
  var computeThreads: Int { get }
}

/// Training allocates the same large arrays (logits over a vocabulary, 20–40 MB) at every step. By
/// default glibc serves those with fresh `mmap`s and unmaps them on free, so every step pays page faults
/// and the kernel's zeroing of each page. Serving everything from the heap and not trimming it lets
/// freed blocks be reused: the process keeps its peak memory, like PyTorch's caching allocator.
func keepFreedMemoryForReuse() {
  #if os(Linux)
  let mmapMaximum: Int32 = -4, trimThreshold: Int32 = -1  // M_MMAP_MAX, M_TRIM_THRESHOLD in glibc's <malloc.h>
  _ = glibcMallopt(mmapMaximum, 0)
  _ = glibcMallopt(trimThreshold, Int32.max)
  #endif
}

#if os(Linux)
/// glibc's `mallopt`, which Swift's Glibc module does not expose (it lives in <malloc.h>).
@_silgen_name("mallopt")
func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// A failure a user can act on; printed as `error: <message>` with exit code 1.
public struct LabError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public init(_ error: any Error) { message = String(describing: error) }
  public var description: String { message }
}

/// Runs `body`, turning any error into a `LabError` carrying its description.
func orFail<T>(_ body: () throws -> T) throws(LabError) -> T {
  do { return try body() } catch let error as LabError { throw error } catch { throw LabError(error) }
}

func writeToStandardError(_ text: String) {
  FileHandle.standardError.write(Data(text.utf8))
}

/// Buffered standard output for commands that print a lot (tokens of a 20 MB file).
struct OutputBuffer {
  private var bytes: [UInt8] = []
  init() { bytes.reserveCapacity(1 << 16) }

  mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) {
    bytes.append(contentsOf: buffer)
    if bytes.count >= 1 << 16 { flush() }
  }
  mutating func append(_ byte: UInt8) {
    bytes.append(byte)
    if bytes.count >= 1 << 16 { flush() }
  }
  mutating func append(_ text: String) {
    var text = text
    text.withUTF8 { append($0) }
  }
  mutating func flush() {
    guard !bytes.isEmpty else { return }
    flushStandardOutput()
    bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let written = write(1, raw.baseAddress! + offset, raw.count - offset)
        if written <= 0 { break }  // closed pipe (e.g. `| head`): stop quietly
        offset += written
      }
    }
    bytes.removeAll(keepingCapacity: true)
  }
}

// `print` goes through C stdio; flush it before writing to the descriptor directly.
func flushStandardOutput() { fflush(nil) }

/// Options shared by commands that read data.
struct DataOptions: ParsableArguments {
  @Option(name: .customLong("data-dir"), help: "Folder holding Corpora/ and Vocab/ (default: found from the working directory or $BACKDOOR_LAB_HOME).")
  var dataDirectory: String?

  func home() throws(LabError) -> LabHome {
    try orFail { try LabHome.locate(explicit: dataDirectory) }
  }
}

/// How to read a TSV that is not a shipped corpus, and what to do with bad rows.
struct CorpusOptions: ParsableArguments {
  @Option(help: "Text column of a TSV given by path.")
  var textColumn = "text"
  @Option(help: "Label column of a TSV given by path.")
  var labelColumn: String?
  @Option(help: "Client column of a TSV given by path.")
  var clientColumn: String?
  @Flag(help: "Skip and count malformed rows instead of stopping at the first.")
  var skipBadRows = false

  func load(_ nameOrPath: String, home: LabHome) throws(LabError) -> Corpus {
    let custom: CorpusDescription? =
      ShippedCorpus(rawValue: nameOrPath) != nil
      ? nil
      : CorpusDescription(name: nameOrPath, path: nameOrPath, textColumn: textColumn, labelColumn: labelColumn, clientColumn: clientColumn)
    let corpus = try orFail { try home.load(nameOrPath, custom: custom, badRows: skipBadRows ? .skip : .fail) }
    reportProblems(of: corpus)
    return corpus
  }
}

/// Warns on standard error about rows skipped and invalid UTF-8 replaced while reading.
func reportProblems(of corpus: Corpus) {
  let report = corpus.report
  if report.invalidUTF8Replacements > 0 {
    let lines = report.invalidUTF8Lines.map(String.init).joined(separator: ", ")
    writeToStandardError("warning: \(corpus.path): replaced \(report.invalidUTF8Replacements) invalid UTF-8 sequence(s) (lines \(lines))\n")
  }
  // A label with a handful of rows among many is usually a typo ("Pos" beside "pos") that became a class of its own.
  let labelled = corpus.examples.compactMap(\.label)
  if labelled.count >= 100 {
    let counts = labelled.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
    for (label, count) in counts.sorted(by: { $0.key < $1.key }) where count <= 3 && Double(count) < 0.01 * Double(labelled.count) {
      let line = corpus.examples.first { $0.label == label }!.line
      writeToStandardError("warning: \(corpus.path):\(line): label '\(corpus.labels[label])' has only \(count) of \(labelled.count) rows; a typo?\n")
    }
  }
  if report.skippedRowCount > 0 {
    let first = report.skippedRows.prefix(5).map { "line \($0.line): \($0.reason)" }.joined(separator: "; ")
    writeToStandardError("warning: \(corpus.path): skipped \(report.skippedRowCount) bad row(s) (\(first))\n")
  }
}

/// Help prose written in source with hard line breaks, as paragraphs ArgumentParser can wrap to the terminal:
/// consecutive unindented lines are joined; indented lines (examples) and headings (lines ending in ':') stay
/// lines of their own.
func prose(_ text: String) -> String {
  var lines: [String] = []
  var joinable = false
  for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
    let isProse = !line.isEmpty && !line.hasPrefix(" ")
    if isProse && joinable && !line.hasSuffix(":"), let last = lines.popLast() {
      lines.append(last + " " + line)
    } else {
      lines.append(line)
    }
    joinable = isProse && !line.hasSuffix(":")
  }
  return lines.joined(separator: "\n")
}
