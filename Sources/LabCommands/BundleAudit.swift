import Attacks
import Audit
import Datasets
import Foundation
import Models
import Tensors
import Tokenization

/// Audits a classifier bundle folder: loads the model and its probe sentences, runs `TriggerAudit`.
struct BundleAudit {
  var settings: AuditSettings
  /// A shipped corpus (its test split under the bundle's split seed) or a TSV with a `text` and optionally a `label`
  /// column; nil: the corpus the bundle records it was trained on.
  var probeSource: String?
  var probeCount = 200
  /// Where Corpora/ is (`LabHome.locate`); looked up only for a shipped corpus.
  var dataDirectory: String?

  /// With `plantedTrigger` (a trigger spec or its text), the report also says where it ranks.
  func run(_ bundle: String, plantedTrigger: String? = nil, plantedTarget: String? = nil) throws -> AuditReport {
    let loaded = try loadBundle(bundle)
    guard case .classifier(let classifier) = loaded.model else { throw LabError("\(bundle): a next-word model; audit scans classifiers") }
    let encoder = try orFail { try loaded.makeEncoder() }
    var settings = settings
    settings.plantedTrigger = plantedTrigger.map { plantedTriggerTokens($0, tokenizer: encoder.tokenizer) }
    settings.plantedTarget = plantedTarget
    let origin = recordedOrigin(bundle)
    guard let source = probeSource ?? origin.corpus else {
      throw LabError("\(bundle): no training.json or attack.json names the corpus; give --probe CORPUS or a TSV")
    }
    let texts = try probeTexts(source, splitSeed: origin.splitSeed ?? 0)
    let report: AuditReport
    do {
      let probes = try AuditProbeSet(texts: texts, encoder: encoder, probeCount: probeCount, source: source)
      // The audit measures many insertions at once, one kernel thread each.
      report = try ComputeThreads.withMaximum(1) {
        try TriggerAudit(settings).run(model: classifier, vocabulary: loaded.vocabulary, probes: probes)
      }
    } catch let error as AuditError {
      throw LabError("\(bundle): \(error.message)")
    }
    if let tokens = settings.plantedTrigger, report.knownTrigger == nil {
      writeToStandardError("warning: none of the trigger's tokens (\(tokens.joined(separator: " "))) is in \(bundle)'s vocabulary\n")
    }
    return report
  }

  /// The sentences of `source` with their labels: a shipped corpus's test split, or every row of a TSV.
  func probeTexts(_ source: String, splitSeed: UInt64) throws -> [(text: String, label: String?)] {
    if ShippedCorpus(rawValue: source) != nil {
      let home = try orFail { try LabHome.locate(explicit: dataDirectory) }
      let corpus = try orFail { try home.load(source, custom: nil, badRows: .fail) }
      let split = try orFail { try corpus.split(seed: splitSeed) }
      return split.test.map { (corpus.examples[$0].text, corpus.examples[$0].label.map { corpus.labels[$0] }) }
    }
    let hasLabels = tsvHeader(of: source).contains("label")
    let description = CorpusDescription(name: source, path: source, textColumn: "text", labelColumn: hasLabels ? "label" : nil)
    let corpus = try orFail { try Corpus(reading: description, from: source, badRows: .fail) }
    return corpus.examples.map { ($0.text, $0.label.map { corpus.labels[$0] }) }
  }
}

/// The tokens a planted trigger becomes: a spec (rare:cf, phrase:…) or plain text.
func plantedTriggerTokens(_ trigger: String, tokenizer: Tokenizer) -> [String] {
  let pieces = (try? Trigger(spec: trigger))?.pieces ?? [trigger]
  return pieces.flatMap { tokenizer.words(in: $0) }
}


/// The corpus and split seed a bundle records (training.json, else attack.json).
func recordedOrigin(_ bundle: String) -> (corpus: String?, splitSeed: UInt64?) {
  struct Origin: Decodable {
    var corpus: String?
    var splitSeed: UInt64?
    enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed" }
  }
  for file in ["training.json", "attack.json"] {
    if let data = FileManager.default.contents(atPath: bundle + "/" + file), let origin = try? JSONDecoder().decode(Origin.self, from: data) {
      return (origin.corpus, origin.splitSeed)
    }
  }
  return (nil, nil)
}

/// The column names of a TSV's first line (empty when unreadable; reading it properly reports the problem).
func tsvHeader(of path: String) -> [String] {
  guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: 65_536) else { return [] }
  let line = String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
  return line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
}
