import ArgumentParser
import Audit
import Datasets
import Experiments
import Federated
import Foundation
import Tensors

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "The lab's main job in a few minutes: attack → federated aggregation under several rules → audit → HTML report.",
    discussion: prose("""
      Federated sentiment training on the shipped movie snippets (GRU, 50 clients, 10 a round, 45 rounds): at round 40
      one malicious client replaces the global model with a boosted update that plants the rare word 'cf' → pos
      (Bagdasaryan et al., 2020). The same seed runs once under each aggregation rule (FedAvg, norm clipping, FLAME by
      default); then the audit scans each final global model for a trigger token without being told it, and reports
      where the planted one ranks. Writes OUT/RULE/ (as `simulate` does, plus seed-S/audit.json), OUT/demo.json and
      OUT/report.html, and prints the attack × defense table. About 3 minutes on 2 cores in a release build.
      Interrupted runs continue where they stopped when run again with the same options.
      Examples:
        swift run -c release backdoor-lab demo
        backdoor-lab demo --out runs/demo --rules fedavg,median,krum,flame
        backdoor-lab demo --seed 1 --out runs/demo-1 --json
      """))

  @Option(help: "Folder to write.")
  var out = "runs/demo"
  @Option(help: "Seed of the clients' data, sampling and initial model.")
  var seed: UInt64 = 0
  @Option(help: "Comma-separated aggregation rules (see `config dump`): fedavg, clipping, weak_dp, median, trimmed_mean, krum, multi_krum, bulyan, geometric_median, centered_clipping, embedding_rows, flame, foolsgold, fltrust, fldetector, deepsight, freqfed.")
  var rules = "fedavg,clipping,flame"
  @Flag(help: "Delete OUT's earlier demo results first instead of continuing them.")
  var fresh = false
  @Option(help: "Threads for the numeric kernels of each client.")
  var threads = 1
  @Flag(help: "Print nothing but the final table (and errors).")
  var quiet = false
  @Flag(help: "Print every evaluated round.")
  var verbose = false
  @Flag(help: "Print the results as JSON instead of the table.")
  var json = false
  @OptionGroup var data: DataOptions

  var ruleList: [AggregatorConfig.Kind] {
    rules.split(separator: ",").compactMap { AggregatorConfig.Kind(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
  }

  func validate() throws {
    let names = rules.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard !names.isEmpty else { throw ValidationError("--rules needs at least one rule") }
    for name in names where AggregatorConfig.Kind(rawValue: name) == nil {
      throw ValidationError(
        "unknown rule '\(name)' in --rules; rules: \(AggregatorConfig.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard Set(names).count == names.count else { throw ValidationError("--rules names a rule twice") }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    guard !(quiet && verbose) else { throw ValidationError("give --quiet or --verbose, not both") }
  }

  func run() throws {
    let home = try data.home()
    let demo = DemoRun(folder: out, seed: seed, rules: ruleList)
    var audit = BundleAudit(settings: AuditSettings(), probeSource: "sentiment", dataDirectory: data.dataDirectory)
    audit.warn = { writeToStandardError("warning: \($0)\n") }
    let rounds = DemoRun.rounds, ruleCount = ruleList.count
    let (report, seconds) = try orFail {
      try demo.run(home: home, audit: audit, fresh: fresh) { event in
        guard !quiet else { return }
        switch event {
        case .training(let step, let rule):
          writeToStandardError("[\(step)/\(ruleCount)] \(rule.rawValue): \(rounds) rounds of federated training, attack at round 40\n")
        case .round(let record, let elapsed):
          guard !record.metrics.isEmpty, verbose || record.round % 15 == 0 || !record.malicious.isEmpty || record.round == rounds else { return }
          var line = String(format: "  round %d: main task %.1f %%", record.round, (record.mainTaskAccuracy ?? .nan) * 100)
          if let attack = record.attackSuccessRate { line += String(format: ", attack success %.1f %%", attack * 100) }
          writeToStandardError(line + String(format: " (%.0f s)", elapsed) + "\n")
        case .auditing(let step, let rule):
          writeToStandardError("[\(step)/\(ruleCount)] \(rule.rawValue): auditing the final global model (every vocabulary token against 200 probes)\n")
        }
      }
    }
    if json {
      print(String(decoding: try sortedKeysJSON(report.rows), as: UTF8.self))
      return
    }
    print(report.table, terminator: "")
    print("Trigger \(DemoRun.trigger) → \(DemoRun.target), planted once at round 40 by one of 50 clients; seed \(seed).")
    print("Rank: where the planted token ranks among \(report.experiments.first?.seeds.first?.audit?.tokensScanned ?? 0) tokens in the audit, which is not told it.")
    print(String(format: "wrote %@/report.html (%.0f s)", out, seconds))
  }
}

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Build one self-contained HTML report (inline SVG, no network) from a demo or simulate folder.",
    discussion: prose("""
      RUN_DIR is what `demo` writes, a `simulate` folder (summary.json at its top), a folder of `simulate` folders
      (one per aggregation rule, as scripts/defenses.sh writes), or a folder of such folders, one per attack (as
      scripts/defense-table.sh writes): that one becomes two heatmaps, attack success and main-task accuracy, rules
      down and attacks across, each cell linking to its run's curves, with a `no-attack` rule folder (the attack
      run with --set attack.inert=true) giving each attack's base rate. The report of one attack has the attack × defense table, main-task
      accuracy and attack success per round for each rule, how the trigger tokenises, the audit's ranking with the
      planted trigger marked (from seed-S/audit.json, written by `audit --out` or `demo`) and the config and seeds to
      reproduce each run.
      Examples:
        backdoor-lab report runs/demo
        backdoor-lab simulate --preset sentiment-model-replacement --seeds 1 --out runs/mr
        backdoor-lab audit runs/mr/seed-0/model --trigger rare:cf --target pos --out runs/mr/seed-0/audit.json
        backdoor-lab report runs/mr --out /tmp/mr.html
      """))

  @Argument(help: "A demo or simulate output folder.")
  var runDirectory: String
  @Option(help: "HTML file to write (default: RUN_DIR/report.html).")
  var out: String?
  @Flag(help: "Print only errors.")
  var quiet = false
  @Flag(help: "Print the table as JSON.")
  var json = false
  @OptionGroup var data: DataOptions

  func run() throws {
    let destination = out ?? runDirectory + "/report.html"
    if DefenseTableReport.holdsTable(runDirectory) {
      // The heatmaps link to each run's curves: relative links when the page is written into the folder itself.
      let table = try orFail { try DefenseTableReport(directory: runDirectory) }
      let folder = URL(fileURLWithPath: runDirectory).standardizedFileURL.path
      let writtenIn = URL(fileURLWithPath: destination).deletingLastPathComponent().standardizedFileURL.path
      try publish(page: table.html(linkBase: writtenIn == folder ? "" : folder), table: table.table, rows: table.cells, to: destination)
    } else {
      let report = try orFail { try RunReport(directory: runDirectory) }
      try publish(page: report.html(home: try? data.home()), table: report.table, rows: report.rows, to: destination)
    }
  }

  func publish<Rows: Encodable>(page: String, table: String, rows: Rows, to destination: String) throws {
    try writeAtomically(Data(page.utf8), to: destination)
    if quiet { return }
    if json {
      print(String(decoding: try sortedKeysJSON(rows), as: UTF8.self))
    } else {
      print(table, terminator: "")
      print("wrote \(destination)")
    }
  }
}

extension DemoCommand: UsesComputeThreads { var computeThreads: Int { threads } }
