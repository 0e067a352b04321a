import ArgumentParser
import Datasets
import Foundation
import Tokenization

struct CorpusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "corpus",
    abstract: "List the shipped corpora and describe one.",
    subcommands: [List.self, Stats.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the shipped corpora's short names, files and tasks.")
    @OptionGroup var data: DataOptions

    func run() throws {
      let home = try? data.home()
      for corpus in ShippedCorpus.allCases {
        let description = corpus.description
        let path = home.map { $0.corporaDirectory + "/" + description.path } ?? "Corpora/" + description.path
        let present = FileManager.default.fileExists(atPath: path) ? "" : "  (missing: \(path))"
        print("\(corpus.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) Corpora/\(description.path)\(present)")
        print("             \(description.summary)")
      }
    }
  }

  struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Rows, labels, clients, tokens, types and the OOV rate against the corpus's vocabulary.",
      discussion: prose("""
        The OOV rate is measured over all rows against Vocab/<name>.tsv (built from the training split),
        or against --vocab. Examples:
          backdoor-lab corpus stats sentiment
          backdoor-lab corpus stats my.tsv --label-column label --json
        """))

    @Argument(help: "Shipped corpus name or a TSV path.")
    var corpus: String
    @Option(help: "Vocabulary for the OOV rate (default: Vocab/<name>.tsv for a shipped corpus).")
    var vocab: String?
    @Flag(help: "Print one JSON object.")
    var json = false
    @OptionGroup var corpusOptions: CorpusOptions
    @OptionGroup var data: DataOptions

    func run() throws {
      let home = try data.home()
      let corpus = try corpusOptions.load(self.corpus, home: home)
      let vocabularyPath = vocab ?? ShippedCorpus(rawValue: self.corpus).map { home.vocabularyPath(for: $0) }
      let vocabulary = try vocabularyPath.map { (path: String) throws(LabError) in try orFail { try Vocabulary.load(from: path) } }
      let tokenizer = try orFail { try Tokenizer() }
      let statistics = CorpusStatistics(corpus: corpus, tokenizer: tokenizer, vocabulary: vocabulary)
      if json {
        print(String(decoding: try sortedKeysJSON(statistics), as: UTF8.self))
        return
      }
      print("corpus        \(statistics.corpus) (\(corpus.path))")
      print("rows          \(statistics.rows) (\(statistics.examples) examples)")
      if !statistics.labels.isEmpty {
        print("labels        " + corpus.labels.map { "\($0) \(statistics.labels[$0] ?? 0)" }.joined(separator: ", "))
      }
      for (label, count) in statistics.excludedRows.sorted(by: { $0.key < $1.key }) {
        print("excluded      \(count) '\(label)' rows: \(corpus.description.excludedLabels[label] ?? "")")
      }
      if statistics.clients > 0 { print("clients       \(statistics.clients)") }
      print("tokens        \(statistics.tokens) (\(String(format: "%.1f", statistics.meanTokensPerExample)) per example)")
      print("types         \(statistics.types) (type/token \(String(format: "%.4f", statistics.typeTokenRatio)))")
      if let rate = statistics.outOfVocabularyRate, let size = statistics.vocabularySize, let vocabularyPath {
        print("OOV rate      \(String(format: "%.2f", rate * 100)) % against \(vocabularyPath) (\(size) entries)")
      }
      if statistics.skippedRows > 0 { print("skipped rows  \(statistics.skippedRows)") }
      if statistics.invalidUTF8Replacements > 0 { print("invalid UTF-8 \(statistics.invalidUTF8Replacements) replaced") }
    }
  }
}
