import Foundation
import Tokenization

/// One row of a corpus.
public struct Example: Sendable, Equatable {
  public var text: String
  /// Index into `Corpus.labels`; nil for unlabelled corpora.
  public var label: Int?
  /// Index into `Corpus.clients`; nil without a client column.
  public var client: Int?
  /// 1-based line in the file (the header is line 1).
  public var line: Int

  public init(text: String, label: Int? = nil, client: Int? = nil, line: Int) {
    self.text = text
    self.label = label
    self.client = client
    self.line = line
  }
}

/// What happens to a malformed row (wrong column count, empty text, unknown or empty label or client).
public enum BadRowPolicy: Sendable {
  /// The first bad row is an error naming file and line.
  case fail
  /// Bad rows are skipped and counted; the first few are listed in the report.
  case skip
}

public struct ReadReport: Sendable, Codable, Equatable {
  public struct SkippedRow: Sendable, Codable, Equatable {
    public var line: Int
    public var reason: String
  }
  public var dataRows = 0
  public var skippedRowCount = 0
  /// The first 20 skipped rows.
  public var skippedRows: [SkippedRow] = []
  /// Rows left out on purpose because of their label (e.g. `neu`), by label.
  public var excludedRows: [String: Int] = [:]
  public var invalidUTF8Replacements = 0
  /// Lines holding the first few invalid UTF-8 sequences.
  public var invalidUTF8Lines: [Int] = []
}

public enum CorpusError: Error, Equatable, CustomStringConvertible {
  case unknownCorpus(String)
  case unreadable(path: String, reason: String)
  case missingColumn(path: String, column: String, header: [String])
  case badRow(path: String, line: Int, reason: String)
  case empty(path: String)

  public var description: String {
    switch self {
    case .unknownCorpus(let name):
      "unknown corpus '\(name)': use one of \(ShippedCorpus.allCases.map(\.rawValue).joined(separator: ", ")) or a path to a .tsv file"
    case .unreadable(let path, let reason): "\(path): \(reason)"
    case .missingColumn(let path, let column, let header):
      "\(path):1: no column '\(column)' in the header (columns: \(header.joined(separator: ", ")))"
    case .badRow(let path, let line, let reason): "\(path):\(line): \(reason)"
    case .empty(let path): "\(path): no data rows"
    }
  }
}

/// A corpus in memory: examples, label and client names, and how reading went.
public struct Corpus: Sendable {
  public var description: CorpusDescription
  /// The file that was read.
  public var path: String
  public var examples: [Example]
  public var labels: [String]
  public var clients: [String]
  public var report: ReadReport

  /// Reads a TSV file: a header line, then one row per line, fields separated by tabs, no quoting.
  /// Invalid UTF-8 is replaced (and counted in the report); a trailing `\r` is dropped.
  public init(reading description: CorpusDescription, from path: String, badRows: BadRowPolicy = .fail) throws(CorpusError) {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
    }
    try self.init(parsing: [UInt8](data), description: description, path: path, badRows: badRows)
  }

  /// Parses TSV bytes; `path` names the source in errors.
  public init(parsing bytes: [UInt8], description: CorpusDescription, path: String, badRows: BadRowPolicy = .fail) throws(CorpusError) {
    self.description = description
    self.path = path
    var report = ReadReport()
    let repaired = UTF8Repair.repair(bytes)
    report.invalidUTF8Replacements = repaired.replacementCount
    report.invalidUTF8Lines = repaired.firstInvalidOffsets.map { offset in
      1 + bytes[..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
    // A UTF-8 byte-order mark (what some Windows editors put first) is not part of the first column's name.
    let text = repaired.bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(repaired.bytes.dropFirst(3)) : repaired.bytes
    var lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    guard let headerLine = lines.first else { throw .empty(path: path) }
    let header = Self.fields(of: headerLine)
    func column(_ name: String) throws(CorpusError) -> Int {
      guard let index = header.firstIndex(of: name) else { throw .missingColumn(path: path, column: name, header: header) }
      guard header.lastIndex(of: name) == index else {
        throw .badRow(path: path, line: 1, reason: "column '\(name)' appears \(header.count { $0 == name }) times in the header; which one to read is unclear")
      }
      return index
    }
    let textIndex = try column(description.textColumn)
    let labelIndex = try description.labelColumn.map { (name: String) throws(CorpusError) in try column(name) }
    let clientIndex = try description.clientColumn.map { (name: String) throws(CorpusError) in try column(name) }

    let fixedLabels = description.labels.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, $0) }) }
    var labelNames: [String] = description.labels ?? []
    var labelIDs: [String: Int] = fixedLabels ?? [:]
    var clientNames: [String] = []
    var clientIDs: [String: Int] = [:]
    var examples: [Example] = []
    examples.reserveCapacity(lines.count)

    for (offset, line) in lines.enumerated().dropFirst() {
      let lineNumber = offset + 1
      let fields = Self.fields(of: line)
      func reject(_ reason: String) throws(CorpusError) {
        if badRows == .fail { throw .badRow(path: path, line: lineNumber, reason: reason) }
        report.skippedRowCount += 1
        if report.skippedRows.count < 20 { report.skippedRows.append(.init(line: lineNumber, reason: reason)) }
      }
      report.dataRows += 1
      guard fields.count == header.count else {
        try reject("expected \(header.count) tab-separated fields, found \(fields.count)")
        continue
      }
      let text = fields[textIndex]
      guard !text.allSatisfy(\.isWhitespace) else {
        try reject("empty text")
        continue
      }
      var label: Int?
      if let labelIndex {
        let name = fields[labelIndex]
        if description.excludedLabels[name] != nil {
          report.excludedRows[name, default: 0] += 1
          continue
        }
        if let id = labelIDs[name] {
          label = id
        } else if name.isEmpty {
          try reject("empty label")
          continue
        } else if fixedLabels != nil {
          try reject("unknown label '\(name)' (expected one of \(labelNames.joined(separator: ", ")))")
          continue
        } else {
          labelIDs[name] = labelNames.count
          label = labelNames.count
          labelNames.append(name)
        }
      }
      var client: Int?
      if let clientIndex {
        let name = fields[clientIndex]
        guard !name.isEmpty else {
          try reject("empty client")
          continue
        }
        if let id = clientIDs[name] {
          client = id
        } else {
          clientIDs[name] = clientNames.count
          client = clientNames.count
          clientNames.append(name)
        }
      }
      examples.append(Example(text: text, label: label, client: client, line: lineNumber))
    }
    guard !examples.isEmpty else { throw .empty(path: path) }

    // Discovered labels get ids in byte order, so the same file always gives the same ids.
    if fixedLabels == nil, !labelNames.isEmpty {
      let sorted = labelNames.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      let newID = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
      let remap = labelNames.map { newID[$0]! }
      for index in examples.indices { examples[index].label = examples[index].label.map { remap[$0] } }
      labelNames = sorted
    }
    self.examples = examples
    self.labels = labelNames
    self.clients = clientNames
    self.report = report
  }

  static func fields(of line: ArraySlice<UInt8>) -> [String] {
    var line = line
    if line.last == 0x0D { line.removeLast() }
    return line.split(separator: 0x09, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Examples per label, in label-id order.
  public var labelCounts: [Int] {
    var counts = Array(repeating: 0, count: labels.count)
    for example in examples { if let label = example.label { counts[label] += 1 } }
    return counts
  }
}
