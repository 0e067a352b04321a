import Audit
import Datasets
import Foundation
import Randomness

/// `audit --scorer "COMMAND"`: the token scan and phrase search of a model the lab can only query. Probes come from a shipped
/// corpus's test split (split seed 0) or a TSV with a `text` column, shuffled with the white-box audit's seed; the
/// candidates from a file (one word a line) or, by default, every two-letter lowercase string, the probes' words
/// and the shipped corpora's vocabularies.
public struct BlackBoxAudit {
  public var scan = BlackBoxTokenScan()
  /// nil, or `maximumLength` 1: the token scan only.
  public var phraseSearch: BlackBoxPhraseSearch? = BlackBoxPhraseSearch()
  public var probeSource: String
  public var probeCount = 200
  public var candidatesFile: String?
  public var dataDirectory: String?
  /// Seconds to wait for any one line from the scorer.
  public var scorerTimeout: TimeInterval = 60

  public init(probeSource: String) { self.probeSource = probeSource }

  public func run(command: String, target: String? = nil, knownTrigger: String? = nil, progress: (String) -> Void = { _ in }) throws -> BlackBoxTokenScan.Report {
    let home = try LabHome.locate(explicit: dataDirectory)
    let probes = try probeTexts(home: home)
    let candidates: [String]
    if let candidatesFile {
      guard let data = FileManager.default.contents(atPath: candidatesFile) else { throw AuditError("--candidates: cannot read \(candidatesFile)") }
      candidates = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
      guard !candidates.isEmpty else { throw AuditError("--candidates: \(candidatesFile) lists no word") }
    } else {
      let vocabularies = ShippedCorpus.allCases.compactMap { corpus -> [String]? in
        guard let data = FileManager.default.contents(atPath: home.vocabularyPath(for: corpus)) else { return nil }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { $0.split(separator: "\t").first.map(String.init) }
      }
      candidates = BlackBoxTokenScan.defaultCandidates(probes: probes, vocabularies: vocabularies)
    }
    let scorer = try ScorerProcess(command: command, timeout: scorerTimeout)
    defer { scorer.stop() }
    return try scan.run(
      scorer: scorer, probes: probes, candidates: candidates, phraseSearch: phraseSearch, target: target, knownTrigger: knownTrigger, progress: progress)
  }

  /// `probeCount` texts of the probe source, shuffled with a fixed seed.
  func probeTexts(home: LabHome) throws -> [String] {
    var texts: [String]
    if ShippedCorpus(rawValue: probeSource) != nil {
      let corpus = try home.load(probeSource, custom: nil, badRows: .fail)
      texts = try corpus.split(seed: 0).test.map { corpus.examples[$0].text }
    } else {
      let description = CorpusDescription(name: probeSource, path: probeSource, textColumn: "text", labelColumn: nil)
      texts = try Corpus(reading: description, from: probeSource, badRows: .fail).examples.map(\.text)
    }
    var generator = SplitMix64(seed: 0, stream: [0x5052_4F42])  // "PROB", as the white-box audit draws its probes
    texts.seededShuffle(using: &generator)
    let probes = texts.filter { !$0.split(whereSeparator: \.isWhitespace).isEmpty }.prefix(probeCount)
    guard probes.count >= 2 else { throw AuditError("\(probeSource): fewer than 2 probe texts") }
    return Array(probes)
  }
}
