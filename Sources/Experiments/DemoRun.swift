import Datasets
import Federated
import Foundation
import Storage

/// The lab's main job end to end (`demo`): federated sentiment training (the sentiment-model-replacement preset,
/// 45 rounds) under each aggregation rule from the same seed, one malicious client replacing the global model at
/// round 40 to plant `rare:cf` → pos; then each final global model is audited without being told the trigger, and
/// one HTML report is made. Each rule's folder resumes where it stopped; `demo.json` records the seed, so a folder
/// is never continued with another.
public struct DemoRun: Sendable {
  public static let rounds = 45
  public static let trigger = "rare:cf"
  public static let target = "pos"

  public var folder: String
  public var seed: UInt64
  public var rules: [AggregatorConfig.Kind]

  public init(folder: String, seed: UInt64, rules: [AggregatorConfig.Kind]) {
    (self.folder, self.seed, self.rules) = (folder, seed, rules)
  }

  /// The experiment run under `rule`.
  public func config(rule: AggregatorConfig.Kind) -> ExperimentConfig {
    var config = Preset.sentimentModelReplacement.config
    config.name = "demo-\(rule.rawValue)"
    config.federation.rounds = Self.rounds
    config.federation.evaluateEvery = 5
    config.seeds = [seed]
    config.aggregator.kind = rule
    return config
  }

  /// What the demo tells its caller as it goes.
  public enum Event {
    case training(step: Int, rule: AggregatorConfig.Kind)
    case round(RoundRecord, secondsSinceStart: Double)
    case auditing(step: Int, rule: AggregatorConfig.Kind)
  }

  /// Runs (or continues) every rule, audits each final model once, and writes `demo.json` and `report.html`.
  /// `fresh` deletes the folder's earlier demo results first.
  public func run(home: LabHome, audit: BundleAudit, fresh: Bool, events: @escaping (Event) -> Void) throws -> (report: RunReport, seconds: Double) {
    let started = Date()
    let manifestPath = folder + "/demo.json"
    let command = "backdoor-lab demo --out \(folder) --seed \(seed) --rules \(rules.map(\.rawValue).joined(separator: ","))"
    // Locked against a second demo in the same folder; the manifest below decides whether its contents can be continued.
    let claimed = try ClaimedFolder(folder, existing: .resume)
    defer { claimed.release() }
    var manifest = DemoManifest(
      title: "BackdoorLab demo: one-shot model replacement against \(rules.count) aggregation rules, then an audit", command: command,
      trigger: Self.trigger, target: Self.target, experiments: rules.map(\.rawValue), seed: seed, seconds: nil)
    if fresh {
      for name in rules.map(\.rawValue) + ["demo.json", "report.html"] { try? FileManager.default.removeItem(atPath: folder + "/" + name) }
    } else if let data = FileManager.default.contents(atPath: manifestPath) {
      let earlier: DemoManifest
      do { earlier = try JSONDecoder().decode(DemoManifest.self, from: data) } catch {
        throw RunFolderError("\(manifestPath): not a demo manifest (\(error))")
      }
      guard earlier.seed == seed else {
        throw RunFolderError("\(folder) holds a demo with seed \(earlier.seed); give another --out, the same --seed, or --fresh")
      }
    }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try LabJSON.write(manifest, to: manifestPath)

    let corpus = try home.load("sentiment", custom: nil, badRows: .fail)
    for (index, rule) in rules.enumerated() {
      let ruleFolder = folder + "/" + rule.rawValue
      let runner = ExperimentRunner(config: config(rule: rule), corpus: corpus, directory: ruleFolder)
      try FileManager.default.createDirectory(atPath: ruleFolder, withIntermediateDirectories: true)
      events(.training(step: index + 1, rule: rule))
      let ruleStarted = Date()
      let records: [RoundRecord]
      do {
        records = try runner.run(seed: seed, resume: true) { events(.round($0, secondsSinceStart: Date().timeIntervalSince(ruleStarted))) }
      } catch {
        throw RunFolderError("\(ruleFolder)/seed-\(seed): \(error)")
      }
      _ = try runner.summarize([seed: records])
      let auditPath = runner.seedDirectory(seed) + "/audit.json"
      if !FileManager.default.fileExists(atPath: auditPath) {
        events(.auditing(step: index + 1, rule: rule))
        let report = try audit.run(runner.seedDirectory(seed) + "/model", plantedTrigger: Self.trigger, plantedTarget: Self.target)
        try LabJSON.write(report, to: auditPath)
      }
    }
    manifest.seconds = Date().timeIntervalSince(started)
    try LabJSON.write(manifest, to: manifestPath)
    let report = try RunReport(directory: folder)
    try Data(report.html(home: home).utf8).write(to: URL(fileURLWithPath: folder + "/report.html"), options: .atomic)
    return (report, manifest.seconds ?? 0)
  }
}
