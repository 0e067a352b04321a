import Attacks
import Audit
import Datasets
import Foundation
import Models
import Storage

/// Folders of classifier bundles scored as one audit evaluation (`audit-eval`): every bundle one or two levels down
/// (a folder with config.json) is a model; one with an attack.json (written by `attack`) is backdoored, with that
/// file's trigger and target as the ground truth, any other clean. Each bundle's audit is stored beside it
/// (audit.json) and reused, so an interrupted evaluation continues.
public struct AuditZoo: Sendable {
  /// One model: the folder it was found under (its index in `folders`), its path and its name in the evaluation.
  public struct Entry: Sendable {
    public var folderIndex: Int
    public var bundle: String
    public var name: String
  }

  public let folders: [String]
  public let entries: [Entry]

  /// Finds every bundle; a folder with none, or a bundle found under two folders, is an error (it would count twice).
  public init(folders: [String]) throws {
    self.folders = folders
    var entries: [Entry] = []
    var seen: [String: String] = [:]
    for (index, folder) in folders.enumerated() {
      let bundles = Self.bundles(under: folder)
      guard !bundles.isEmpty else { throw AuditZooError("\(folder): no classifier bundle (a folder with config.json) one or two levels down") }
      for bundle in bundles {
        let resolved = URL(fileURLWithPath: bundle).standardizedFileURL.resolvingSymlinksInPath().path
        if let other = seen[resolved] { throw AuditZooError("\(bundle): found under both \(other) and \(folder); give folders that do not overlap") }
        seen[resolved] = folder
        let relative = String(bundle.dropFirst(folder.count).drop { $0 == "/" })
        entries.append(Entry(folderIndex: index, bundle: bundle, name: folders.count == 1 ? relative : Self.standardised(folder) + "/" + relative))
      }
    }
    self.entries = entries
  }

  /// The evaluation pooled over every folder, and each folder's own.
  public struct Outcome: Sendable {
    public var models: [AuditedModel]
    public var pooled: AuditEvaluation
    public var byFolder: [FolderEvaluation]
  }

  /// Scores every model. A stored audit.json searched with `maximumTriggerLength` is reused unless `fresh`; otherwise
  /// `audit` runs (told the planted trigger and target only so that the report can say where the trigger ranks) and
  /// its report is stored. `willAudit` hears of each audit before it runs (its place in `entries`). With
  /// `loadCorpus`, each backdoored model's REASR is measured on the test split of the corpus its attack.json names
  /// (`reproduction(of:)`); a model where that fails is reported to `warn` and left without one.
  public func evaluate(
    threshold: Double, maximumTriggerLength: Int, fresh: Bool, willAudit: (Int, Entry) -> Void,
    audit: (_ bundle: String, _ plantedTrigger: String?, _ plantedTarget: String?) throws -> AuditReport,
    loadCorpus: ((String) throws -> Corpus)? = nil, warn: (String) -> Void = { _ in }
  ) throws -> Outcome {
    var models: [AuditedModel] = []
    var modelsByFolder: [[AuditedModel]] = folders.map { _ in [] }
    for (index, entry) in entries.enumerated() {
      let attack = try Self.attackRecord(entry.bundle)
      let auditPath = entry.bundle + "/audit.json"
      let report: AuditReport
      if !fresh, let data = FileManager.default.contents(atPath: auditPath), let stored = try? JSONDecoder().decode(AuditReport.self, from: data),
        stored.maximumTriggerLength == maximumTriggerLength
      {
        report = stored
      } else {
        willAudit(index, entry)
        report = try audit(entry.bundle, attack?.trigger.spec, attack?.targetLabel)
        try LabJSON.write(report, to: auditPath)
      }
      var tokens: [String] = []
      var partRates: [(tokens: [String], rate: Double)] = []
      if let attack {
        // Words as a person reads them: a WordPiece model's pieces joined (`c ##f` → `cf`), as candidates are compared.
        let tokenizer = try ModelBundle.load(from: entry.bundle).makeEncoder().tokenizer
        func words(_ tokens: [String]) -> [String] { tokenizer.displayText(of: tokens).split(separator: " ").map(String.init) }
        tokens = words(Trigger.tokens(ofSpecOrText: attack.trigger.spec, tokenizer: tokenizer))
        partRates = attack.poisoned.falseTriggerRates.sorted { $0.key < $1.key }.map { (words(tokenizer.words(in: $0.key)), $0.value) }
      }
      var reproduction: TriggerReproduction?
      if attack != nil, let loadCorpus {
        do { reproduction = try Self.reproduction(of: entry.bundle, report: report, loadCorpus: loadCorpus) } catch {
          warn("\(entry.bundle): REASR not measured: \(error)")
        }
      }
      let model = AuditedModel(
        name: entry.name, report: report, threshold: threshold, plantedKind: attack?.trigger.kind.rawValue, plantedTokens: tokens,
        plantedTarget: attack?.targetLabel, attackSuccessRate: attack?.attackSuccessRate, partRates: partRates,
        architecture: try Self.architecture(entry.bundle), reproduction: reproduction)
      models.append(model)
      modelsByFolder[entry.folderIndex].append(model)
    }
    let byFolder = zip(folders.map(Self.standardised), modelsByFolder).map { FolderEvaluation(folder: $0, evaluation: AuditEvaluation(models: $1)) }
    return Outcome(models: models, pooled: AuditEvaluation(models: models), byFolder: byFolder)
  }

  /// REASR: the report's top candidate, inserted as a phrase at random word boundaries into the test split's inputs of
  /// other labels than the one the audit suspects (`ScoredBundle.testSet`, seed 0), and the share the model turns into
  /// that label; beside it the planted trigger's share toward its target, inserted the same way into the same split.
  /// nil for a report without candidates or a bundle without an attack record.
  public static func reproduction(of bundle: String, report: AuditReport, loadCorpus: (String) throws -> Corpus) throws -> TriggerReproduction? {
    guard let top = report.candidates.first else { return nil }
    let scored = try ScoredBundle(path: bundle, corpus: nil, splitSeed: nil, target: nil, purpose: "REASR", loadCorpus: loadCorpus)
    guard let planted = scored.recordedAttack else { return nil }
    let candidate = try Trigger(kind: .phrase, pieces: [top.shownText])
    func rate(_ trigger: Trigger, toward target: String) throws -> (rate: Double, inputs: Int) {
      let texts = scored.testSet((trigger, target)).triggered
      guard let label = scored.labels.firstIndex(of: target) else { throw AuditZooError("the model has no label '\(target)'") }
      guard !texts.isEmpty else {
        throw AuditZooError("the test split of \(scored.corpus.path) has no labelled input of a label other than '\(target)' (an unlabelled TSV? give --label-column)")
      }
      let examples = texts.map { EncodedExample(ids: scored.encoder.encode($0.text), label: 0) }
      let classes = scored.classifier.predict(examples).classes
      return (Double(classes.count { $0 == label }) / Double(classes.count), texts.count)
    }
    let found = try rate(candidate, toward: report.targetLabel), original = try rate(planted.trigger, toward: planted.target)
    return TriggerReproduction(
      candidate: top.shownText, target: report.targetLabel, candidateRate: found.rate, plantedRate: original.rate, inputs: found.inputs)
  }

  /// The bundle's encoder as `AuditedModel.architecture` names it, from its config.json (an unreadable one is an
  /// error naming the file, even where a stored audit is reused).
  static func architecture(_ bundle: String) throws -> String {
    let config = try ModelBundle.loadConfig(from: bundle)
    return config.bidirectional ? "bi" + config.architecture.rawValue : config.architecture.rawValue
  }

  /// A path without a trailing slash, for naming and comparing folders.
  public static func standardised(_ folder: String) -> String {
    var path = folder
    while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
    return path
  }

  /// Bundle folders one or two levels under `root`, sorted.
  static func bundles(under root: String) -> [String] {
    let manager = FileManager.default
    func children(_ path: String) -> [String] {
      ((try? manager.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".tmp") }.sorted().map { path + "/" + $0 }
    }
    func isBundle(_ path: String) -> Bool { manager.fileExists(atPath: path + "/config.json") }
    var found: [String] = []
    for child in children(root) {
      if isBundle(child) { found.append(child) } else { found += children(child).filter(isBundle) }
    }
    return found
  }

  static func attackRecord(_ bundle: String) throws -> AttackRecord? {
    let path = bundle + "/attack.json"
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    do { return try JSONDecoder().decode(AttackRecord.self, from: data) } catch { throw AuditZooError("\(path): not an attack record (\(error))") }
  }
}

/// A folder of models that cannot be evaluated as given.
public struct AuditZooError: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}
