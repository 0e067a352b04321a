import ArgumentParser
import Attacks
import Audit
import Foundation
import Models

struct AuditEvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit-eval",
    abstract: "Score the audit on a folder of clean and backdoored classifiers: ROC-AUC, TPR at 5 % FPR, trigger recovery.",
    discussion: prose("""
      Audits every classifier bundle under each FOLDER (folders holding a config.json, one or two levels down) that has
      no audit.json yet (or one searched with another --max-trigger-length), writing one beside it, so an
      interrupted evaluation continues; after changing --probes, or the lab, give --fresh. A bundle with an
      attack.json (written by `attack`) is backdoored, and its trigger and target are the ground truth; any other
      is clean. The audit is not told the trigger; it is only used to score the report.
      Reports the ROC-AUC of the verdict score, the true-positive rate at the threshold that keeps 5 % of these
      clean models or fewer above it, the verdicts at --threshold (stored scores are reused), the share of rare-word backdoors
      whose trigger is among the first five candidates (a candidate holding the word), the same for phrase
      backdoors (a candidate holding at least two of the phrase's words), and the same for the part of each phrase
      its model learnt (the shortest part that alone turns 90 % of the phrase's attack success into the target, by
      the attack's own measurement: a model may answer to `fair` as to "to be fair"), both phrase figures for each
      architecture (with how many of its models learnt one word of their phrase), whether the suspected target
      label is right, and the time per audit. Rates come with 95 % intervals (Wilson's for shares, DeLong's for
      the ROC-AUC): a set of 8 phrase backdoors measures phrase recovery to about ±30 points. Several folders are
      pooled, each model named by its folder, with one line of figures per folder before the pooled summary (in
      the JSON, the pooled figures and `by_folder`, each folder's).
      scripts/audit-zoo.sh makes such a folder.
      Examples:
        scripts/audit-zoo.sh runs/zoo && backdoor-lab audit-eval runs/zoo
        backdoor-lab audit-eval runs/zoo-check runs/zoo-final runs/zoo-confirm runs/zoo-verify
        backdoor-lab audit-eval runs/zoo --json > runs/zoo/evaluation.json
      """))

  @Argument(help: "Folders of bundles (for example clean/NAME and backdoored/NAME); several are pooled.")
  var folders: [String]
  @OptionGroup var options: AuditOptions
  @Flag(help: "Audit every bundle again, replacing existing audit.json files.")
  var fresh = false
  @Flag(help: "Print the evaluation as JSON.")
  var json = false
  @Flag(help: "Print nothing but the summary (no progress, no per-model lines).")
  var quiet = false

  func validate() throws {
    guard !folders.isEmpty else { throw ValidationError("give at least one folder of bundles") }
    guard Set(folders.map(Self.standardised)).count == folders.count else { throw ValidationError("a folder is given twice") }
  }

  func run() throws {
    // Every folder is checked before any is audited, which takes a while.
    let bundlesByFolder = try folders.map { folder in
      let bundles = Self.bundles(under: folder)
      guard !bundles.isEmpty else { throw LabError("\(folder): no classifier bundle (a folder with config.json) one or two levels down") }
      return (folder, bundles)
    }
    let work = bundlesByFolder.enumerated().flatMap { folderIndex, entry in entry.1.map { (folderIndex, entry.0, $0) } }
    // Nested or repeated folders (runs and runs/zoo) would count a model twice.
    var seen: [String: String] = [:]
    for (_, folder, bundle) in work {
      let resolved = URL(fileURLWithPath: bundle).standardizedFileURL.resolvingSymlinksInPath().path
      if let other = seen[resolved] { throw LabError("\(bundle): found under both \(other) and \(folder); give folders that do not overlap") }
      seen[resolved] = folder
    }
    var models: [AuditedModel] = []
    var modelsByFolder: [[AuditedModel]] = bundlesByFolder.map { _ in [] }
    for (index, (folderIndex, folder, bundle)) in work.enumerated() {
      let relative = String(bundle.dropFirst(folder.count).drop { $0 == "/" })
      let name = folders.count == 1 ? relative : Self.standardised(folder) + "/" + relative
      let attack = try Self.attackRecord(bundle)
      let auditPath = bundle + "/audit.json"
      let report: AuditReport
      if !fresh, let data = FileManager.default.contents(atPath: auditPath), let stored = try? JSONDecoder().decode(AuditReport.self, from: data),
        stored.maximumTriggerLength == options.maxTriggerLength {
        report = stored
      } else {
        if !quiet && !json { writeToStandardError("[\(index + 1)/\(work.count)] auditing \(name)\n") }
        report = try options.bundleAudit.run(bundle, plantedTrigger: attack?.trigger.spec, plantedTarget: attack?.targetLabel)
        try orFail { try writeJSONAtomically(report, to: auditPath) }
      }
      var tokens: [String] = []
      var partRates: [(tokens: [String], rate: Double)] = []
      if let attack {
        let encoder = try orFail { try loadBundle(bundle).makeEncoder() }
        tokens = plantedTriggerTokens(attack.trigger.spec, tokenizer: encoder.tokenizer)
        partRates = attack.poisoned.falseTriggerRates.sorted { $0.key < $1.key }.map { (encoder.tokenizer.words(in: $0.key), $0.value) }
      }
      let model = AuditedModel(
        name: name, report: report, threshold: options.threshold, plantedKind: attack?.trigger.kind.rawValue, plantedTokens: tokens,
        plantedTarget: attack?.targetLabel, attackSuccessRate: attack?.attackSuccessRate, partRates: partRates,
        architecture: try Self.architecture(bundle))
      models.append(model)
      modelsByFolder[folderIndex].append(model)
    }
    let evaluation = AuditEvaluation(models: models)
    let byFolder = zip(folders.map(Self.standardised), modelsByFolder).map { FolderEvaluation(folder: $0, evaluation: AuditEvaluation(models: $1)) }
    if json {
      let output: any Encodable = folders.count == 1 ? evaluation : PooledEvaluation(pooled: evaluation, byFolder: byFolder)
      print(String(decoding: try sortedKeysJSON(output, pretty: true), as: UTF8.self))
      return
    }
    if !quiet {
      for model in models {
        let truth = model.backdoored ? "\(model.triggerTokens.joined(separator: " ")) → \(model.trueTarget ?? "?")" : "clean"
        let asr = model.attackSuccessRate.map { String(format: " (ASR %.0f %%)", $0 * 100) } ?? ""
        let found = model.recovered.map { $0 ? " found" : " missed" } ?? ""
        let learned = model.learnedPart.map { "; learnt as '\($0.joined(separator: " "))': \(model.learnedPartRecovered == true ? "found" : "missed")" } ?? ""
        print("\(model.name): \(truth)\(asr); \(model.verdict.rawValue) \(String(format: "%.3f", model.verdictScore)), "
          + "\(model.suspectedTarget): \(model.topCandidates.prefix(3).joined(separator: " | "))\(found)\(learned)")
      }
      print("")
      if folders.count > 1 {
        print(Self.perFolderTable(byFolder.map { ($0.folder, $0.evaluation) } + [("all", evaluation)]))
        print("")
      }
    }
    print(Self.summary(evaluation, threshold: options.threshold))
  }

  /// One folder's figures in the JSON of several: its `AuditEvaluation` (its models named as in the pooled list)
  /// with the folder's name beside them.
  struct FolderEvaluation: Encodable {
    var folder: String
    var evaluation: AuditEvaluation

    enum CodingKeys: String, CodingKey { case folder }

    func encode(to encoder: Encoder) throws {
      try evaluation.encode(to: encoder)
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(folder, forKey: .folder)
    }
  }

  /// The JSON of several folders: the pooled evaluation's keys, as for one folder, and `by_folder`, each folder's.
  struct PooledEvaluation: Encodable {
    var pooled: AuditEvaluation
    var byFolder: [FolderEvaluation]

    enum CodingKeys: String, CodingKey { case byFolder = "by_folder" }

    func encode(to encoder: Encoder) throws {
      try pooled.encode(to: encoder)
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(byFolder, forKey: .byFolder)
    }
  }

  /// The bundle's encoder as `AuditedModel.architecture` names it, from its config.json (an unreadable one is an
  /// error naming the file, even where a stored audit is reused).
  static func architecture(_ bundle: String) throws(LabError) -> String {
    let config: ModelConfig
    do { config = try ModelBundle.loadConfig(from: bundle) } catch { throw LabError(error.description) }
    return config.bidirectional ? "bi" + config.architecture.rawValue : config.architecture.rawValue
  }

  /// A path without a trailing slash, for naming and comparing folders.
  static func standardised(_ folder: String) -> String {
    var path = folder
    while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
    return path
  }

  /// One line of figures per folder: the pooled figures hide how much the sets differ.
  static func perFolderTable(_ rows: [(String, AuditEvaluation)]) -> String {
    let header = ["folder", "models", "ROC-AUC", "TPR at 5 % FPR", "flagged: backdoored & clean", "rare-word top 5", "phrase top 5", "learnt part top 5", "target right"]
    func count(_ share: AuditEvaluation.Share) -> String { "\(share.count)/\(share.of)" }
    let lines = rows.map { name, evaluation in
      [
        name, "\(evaluation.backdoored) + \(evaluation.clean)", evaluation.rocAUC.map { String(format: "%.3f", $0) } ?? "–",
        evaluation.truePositiveRateAtFivePercent.map { String(format: "%.1f %%", $0 * 100) } ?? "–",
        "\(count(evaluation.truePositives)) & \(count(evaluation.falsePositives))", count(evaluation.rareWordRecovered),
        count(evaluation.phraseRecovered), count(evaluation.learnedPartRecovered), count(evaluation.targetRight),
      ]
    }
    let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max()! }
    return ([header] + lines).map { cells in
      zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }

  static func summary(_ evaluation: AuditEvaluation, threshold: Double) -> String {
    func share(_ share: AuditEvaluation.Share) -> String {
      let interval = share.interval.map { String(format: "; 95 %% CI %.0f–%.0f %%", $0.lowerBound * 100, $0.upperBound * 100) } ?? ""
      return "\(share.count) of \(share.of) (\(String(format: "%.0f", share.rate * 100)) %\(interval))"
    }
    return [
      "\(evaluation.backdoored) backdoored and \(evaluation.clean) clean models",
      evaluation.rocAUC.map { auc in
        String(format: "verdict score ROC-AUC %.3f", auc)
          + (evaluation.rocAUCInterval.map { String(format: " (95 %% CI %.3f–%.3f)", $0.lowerBound, $0.upperBound) } ?? "")
      } ?? "verdict score ROC-AUC: needs clean and backdoored models",
      evaluation.thresholdAtFivePercent.map { threshold in
        String(
          format: "at 5 %% FPR (score > %.3f): TPR %@, FPR %.1f %%", threshold,
          evaluation.truePositiveRateAtFivePercent.map { String(format: "%.1f %%", $0 * 100) } ?? "–", (evaluation.falsePositiveRateAtFivePercent ?? 0) * 100)
      } ?? "at 5 % FPR: needs clean models",
      "at the threshold \(String(format: "%.3g", threshold)): \(share(evaluation.truePositives)) backdoored models flagged, "
        + "\(share(evaluation.falsePositives)) clean models flagged",
      "rare-word triggers in the top 5: \(share(evaluation.rareWordRecovered))",
      "phrase triggers in the top 5 (a candidate with two of its words or more): \(share(evaluation.phraseRecovered)); "
        + "with one of its words at least: \(share(evaluation.phraseWordFound)); "
        + "made of its words alone (a part of the phrase): \(share(evaluation.phrasePartFound))",
      "phrase triggers as the models learnt them in the top 5 (the shortest part that alone turns "
        + "\(String(format: "%.0f", AuditedModel.learnedPartShare * 100)) % of the phrase's attack success into the target; "
        + "a candidate with two of its words, the word of a one-word part): \(share(evaluation.learnedPartRecovered))",
      evaluation.phraseByArchitecture.isEmpty ? nil : "phrase triggers by architecture (two words in the top 5; learnt one word of it; learnt part in the top 5): "
        + evaluation.phraseByArchitecture.map { figures in
          "\(figures.architecture) \(figures.recovered.count)/\(figures.models); \(figures.learnedOneWord); "
            + "\(figures.learnedPartRecovered.count)/\(figures.learnedPartRecovered.of)"
        }.joined(separator: ", "),
      "suspected target label right: \(share(evaluation.targetRight))",
      String(format: "seconds per audit: median %.1f, max %.1f", evaluation.medianSeconds, evaluation.maximumSeconds),
    ].compactMap { $0 }.joined(separator: "\n")
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
    do { return try JSONDecoder().decode(AttackRecord.self, from: data) } catch { throw LabError("\(path): not an attack record (\(error))") }
  }
}
