import Attacks
import Audit
import Datasets
import Foundation
import Models
import Tensors
import Tokenization

/// Audits a classifier bundle folder: loads the model and its probe sentences, runs `TriggerAudit`.
public struct BundleAudit: Sendable {
  public var settings: AuditSettings
  /// A shipped corpus (its test split under the bundle's split seed) or a TSV with a `text` and optionally a `label`
  /// column; nil: the corpus the bundle records it was trained on.
  public var probeSource: String?
  public var probeCount = 200
  /// Where Corpora/ is (`LabHome.locate`); looked up only for a shipped corpus.
  public var dataDirectory: String?
  /// Told what the user should know but that does not stop the audit (a planted trigger the vocabulary lacks).
  public var warn: @Sendable (String) -> Void = { _ in }

  public init(settings: AuditSettings, probeSource: String?, probeCount: Int = 200, dataDirectory: String?) {
    (self.settings, self.probeSource, self.probeCount, self.dataDirectory) = (settings, probeSource, probeCount, dataDirectory)
  }

  /// With `plantedTrigger` (a trigger spec or its text), the report also says where it ranks.
  public func run(_ bundle: String, plantedTrigger: String? = nil, plantedTarget: String? = nil) throws -> AuditReport {
    let loaded = try ModelBundle.load(from: bundle)
    guard case .classifier(let classifier) = loaded.model else { throw BundleAuditError("\(bundle): a next-word model; audit scans classifiers") }
    let encoder = try loaded.makeEncoder()
    var settings = settings
    settings.plantedTrigger = plantedTrigger.map { Trigger.tokens(ofSpecOrText: $0, tokenizer: encoder.tokenizer) }
    settings.plantedTarget = plantedTarget
    let origin = try BundleOrigin(bundle)
    guard let source = probeSource ?? origin.corpus else {
      throw BundleAuditError("\(bundle): no training.json or attack.json names the corpus; give --probe CORPUS or a TSV")
    }
    let texts = try probeTexts(source, splitSeed: origin.splitSeed ?? 0)
    let report: AuditReport
    do {
      let probes = try AuditProbeSet(texts: texts, encoder: encoder, probeCount: probeCount, source: source)
      // The audit measures many insertions at once, one kernel thread each.
      report = try ComputeThreads.withMaximum(1) {
        try TriggerAudit(settings).run(model: classifier, vocabulary: loaded.vocabulary, probes: probes, tokenizer: encoder.tokenizer)
      }
    } catch let error as AuditError {
      throw BundleAuditError("\(bundle): \(error.message)")
    }
    if let tokens = settings.plantedTrigger, report.knownTrigger == nil {
      warn("none of the trigger's tokens (\(tokens.joined(separator: " "))) is in \(bundle)'s vocabulary")
    }
    return report
  }

  /// The sentences of `source` with their labels: a shipped corpus's test split, or every row of a TSV.
  func probeTexts(_ source: String, splitSeed: UInt64) throws -> [(text: String, label: String?)] {
    if ShippedCorpus(rawValue: source) != nil {
      let home = try LabHome.locate(explicit: dataDirectory)
      let corpus = try home.load(source, custom: nil, badRows: .fail)
      let split = try corpus.split(seed: splitSeed)
      return split.test.map { (corpus.examples[$0].text, corpus.examples[$0].label.map { corpus.labels[$0] }) }
    }
    let hasLabels = tsvColumnNames(of: source).contains("label")
    let description = CorpusDescription(name: source, path: source, textColumn: "text", labelColumn: hasLabels ? "label" : nil)
    let corpus = try Corpus(reading: description, from: source, badRows: .fail)
    return corpus.examples.map { ($0.text, $0.label.map { corpus.labels[$0] }) }
  }
}

/// A bundle that cannot be audited as asked.
public struct BundleAuditError: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// The corpus and split seed a bundle records (training.json, else attack.json); nil where neither file is there.
/// A file that is there but unreadable is an error naming it: guessing split seed 0 would test on training rows.
public struct BundleOrigin: Sendable {
  public var corpus: String?
  public var splitSeed: UInt64?

  public init(_ bundle: String) throws(BundleAuditError) {
    struct Origin: Decodable {
      var corpus: String
      var splitSeed: UInt64
      enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed" }
    }
    for file in ["training.json", "attack.json"] {
      let path = bundle + "/" + file
      guard let data = FileManager.default.contents(atPath: path) else { continue }
      do {
        let origin = try JSONDecoder().decode(Origin.self, from: data)
        (corpus, splitSeed) = (origin.corpus, origin.splitSeed)
        return
      } catch {
        throw BundleAuditError("\(path): unreadable, so the corpus and split the model was trained on are unknown (\(error)); repair or remove it")
      }
    }
  }
}
