import Foundation

/// Where a corpus lives and how to read it: one TSV file with a header line.
public struct CorpusDescription: Sendable, Codable, Equatable {
  public var name: String
  /// Absolute, or relative to the lab's `Corpora/` folder.
  public var path: String
  public var textColumn: String
  public var labelColumn: String?
  public var clientColumn: String?
  /// The label set and its order (label ids); nil: the labels found in the file, in byte order.
  /// With a fixed set, any other label that is not excluded is a bad row.
  public var labels: [String]?
  /// Labels whose rows are deliberately left out, with the reason (e.g. VADER's few `neu` rows in
  /// the binary sentiment sets); their counts are reported, never silently lost.
  public var excludedLabels: [String: String]
  public var summary: String

  public init(
    name: String, path: String, textColumn: String = "text", labelColumn: String? = nil, clientColumn: String? = nil,
    labels: [String]? = nil, excludedLabels: [String: String] = [:], summary: String = ""
  ) {
    self.name = name
    self.path = path
    self.textColumn = textColumn
    self.labelColumn = labelColumn
    self.clientColumn = clientColumn
    self.labels = labels
    self.excludedLabels = excludedLabels
    self.summary = summary
  }
}

/// The corpora shipped in `Corpora/` (provenance in Corpora/README.md), by their CLI short names.
public enum ShippedCorpus: String, CaseIterable, Sendable {
  case sentiment, tweets, trec, spam, shakespeare, english

  public var description: CorpusDescription {
    let binaryNeutral = "neutral (mean rating exactly 0): the task is binary pos/neg"
    switch self {
    case .sentiment:
      return CorpusDescription(
        name: rawValue, path: "sentiment/vader_movieReviewSnippets.tsv", labelColumn: "label", labels: ["neg", "pos"],
        excludedLabels: ["neu": binaryNeutral],
        summary: "Rotten Tomatoes movie-review snippets (Pang & Lee 2005) with VADER's human ratings; binary sentiment")
    case .tweets:
      return CorpusDescription(
        name: rawValue, path: "sentiment/vader_tweets.tsv", labelColumn: "label", labels: ["neg", "pos"],
        excludedLabels: ["neu": binaryNeutral],
        summary: "tweets with VADER's human ratings (Hutto & Gilbert 2014); binary sentiment")
    case .trec:
      return CorpusDescription(
        name: rawValue, path: "intent/trec_questions.tsv", labelColumn: "coarse",
        labels: ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"],
        summary: "TREC/UIUC questions (Li & Roth 2002), 6 coarse classes; the lab's intent task")
    case .spam:
      return CorpusDescription(
        name: rawValue, path: "spam/sms_spam.tsv", labelColumn: "label", labels: ["ham", "spam"],
        summary: "SMS Spam Collection (Almeida & Hidalgo 2011); binary spam")
    case .shakespeare:
      return CorpusDescription(
        name: rawValue, path: "keyboard/shakespeare_lines_by_character.tsv", clientColumn: "client",
        summary: "Shakespeare's lines grouped by speaking character (play/character = one client); next-word task")
    case .english:
      return CorpusDescription(
        name: rawValue, path: "english/general_english.tsv",
        summary: "general English (film dialogue, editorials, product reviews, WordNet's definitions and examples); ONION's language model")
    }
  }
}

/// The column names of a TSV's first line (empty when unreadable; reading it as a corpus reports the problem).
public func tsvColumnNames(of path: String) -> [String] {
  guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: 65_536) else { return [] }
  let line = String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
  return line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
}
