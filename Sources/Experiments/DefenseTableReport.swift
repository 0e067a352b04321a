import Foundation
import Reports

/// The attack × defense table of a folder of attack folders, each a folder of rule folders (`simulate` outputs, as
/// scripts/defense-table.sh writes them), drawn as two heatmaps: the attack's success and the main task's accuracy,
/// rules down, attacks across, each cell linking to its run's curves. A rule folder named `no-attack` (the attack run
/// with `attack.inert: true`) gives each attack's base rate: the ASR of a model nobody attacked.
public struct DefenseTableReport {
  public static let baseRateFolder = "no-attack"

  public var directory: String
  /// Attack folder names, in name order.
  public var attacks: [String]
  /// Rule folder names: FedAvg first, then by name; the base-rate folder is not a rule.
  public var rules: [String]
  var runs: [String: [String: ExperimentFolder]]

  /// Whether `directory` holds attack folders of rule folders (and no experiment of its own).
  public static func holdsTable(_ directory: String) -> Bool {
    let manager = FileManager.default
    guard !manager.fileExists(atPath: directory + "/summary.json"), !manager.fileExists(atPath: directory + "/demo.json") else { return false }
    let children = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
    guard !children.contains(where: { manager.fileExists(atPath: "\(directory)/\($0)/summary.json") }) else { return false }
    return children.contains { child in
      ((try? manager.contentsOfDirectory(atPath: "\(directory)/\(child)")) ?? []).contains { manager.fileExists(atPath: "\(directory)/\(child)/\($0)/summary.json") }
    }
  }

  public init(directory: String) throws(RunFolderError) {
    self.directory = directory
    let manager = FileManager.default
    var runs: [String: [String: ExperimentFolder]] = [:]
    for attack in ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).sorted() {
      let folder = "\(directory)/\(attack)"
      for rule in ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted() where manager.fileExists(atPath: "\(folder)/\(rule)/summary.json") {
        runs[attack, default: [:]][rule] = try ExperimentFolder(path: "\(folder)/\(rule)", name: rule)
      }
    }
    guard !runs.isEmpty else { throw RunFolderError("\(directory): no attack folders of rule folders with a summary.json (run scripts/defense-table.sh into it first)") }
    self.runs = runs
    attacks = runs.keys.sorted()
    let names: Set<String> = Set(runs.values.flatMap { Array($0.keys) }).subtracting([Self.baseRateFolder])
    rules = names.sorted { a, b in a == "fedavg" ? b != "fedavg" : b == "fedavg" ? false : a < b }
  }

  /// One cell: the run's ASR (right after the last attack round, else at the end), main-task accuracy at the end.
  public struct Cell: Codable, Sendable {
    public var attack: String
    public var rule: String
    public var ruleName: String
    public var attackSuccessRate: ExperimentSummary.Interval?
    public var mainTaskAccuracy: ExperimentSummary.Interval?
    /// The same attack's ASR when its attackers train honestly (`no-attack`), when that run exists.
    public var baseRate: ExperimentSummary.Interval?
    enum CodingKeys: String, CodingKey {
      case attack, rule, ruleName = "rule_name", attackSuccessRate = "attack_success_rate", mainTaskAccuracy = "main_task_accuracy", baseRate = "base_rate"
    }
  }

  func attackSuccess(_ run: ExperimentFolder) -> ExperimentSummary.Interval? {
    run.summary.attackSuccessRateAfterAttack ?? run.summary.finalAttackSuccessRate
  }

  public func cell(attack: String, rule: String) -> Cell? {
    guard let run = runs[attack]?[rule] else { return nil }
    return Cell(
      attack: attack, rule: rule, ruleName: run.ruleName, attackSuccessRate: attackSuccess(run), mainTaskAccuracy: run.summary.finalMainTaskAccuracy,
      baseRate: runs[attack]?[Self.baseRateFolder].flatMap(attackSuccess))
  }

  public var cells: [Cell] { rules.flatMap { rule in attacks.compactMap { cell(attack: $0, rule: rule) } } }

  func ruleName(_ rule: String) -> String { attacks.lazy.compactMap { runs[$0]?[rule]?.ruleName }.first ?? rule }

  /// For a terminal: "ASR / main task" per cell, the base rates in the first row.
  public var table: String {
    func number(_ value: ExperimentSummary.Interval?) -> String { value.map { String(format: "%.0f", $0.mean * 100) } ?? "–" }
    var rows = [["base rate (nobody attacking)"] + attacks.map { attack in number(runs[attack]?[Self.baseRateFolder].flatMap(attackSuccess)) }]
    for rule in rules {
      rows.append([ruleName(rule)] + attacks.map { attack in
        cell(attack: attack, rule: rule).map { "\(number($0.attackSuccessRate)) / \(number($0.mainTaskAccuracy))" } ?? "not run"
      })
    }
    return markdownTable(header: ["rule (ASR % / main task %)"] + attacks, rows: rows)
  }

  /// The page; links are relative to `linkBase`, the run directory as seen from where the page is written.
  public func html(linkBase: String) -> String {
    var body = HTML.element("h1", HTML.escape("BackdoorLab: attack × defense")) + "\n"
    body += HTML.element(
      "p",
      HTML.escape(
        "\(rules.count) aggregation rules against \(attacks.count) attacks, from \(directory). Each cell: mean over seeds (± the 95 % CI "
          + "when there are several), in %; hover for the numbers, click for the run's curves."),
      class: "lede") + "\n"
    body += heatmap(
      title: "Attack success rate", id: "asr",
      caption: "ASR right after the last attack round (at the end for attacks that never stop): triggered test inputs of other labels "
        + "classified as the target (for the keyboard task, the backdoor's completion rate). Green is low, red high. The first row is "
        + "the base rate: the same clients and rounds with the attackers training honestly (attack.inert), what a model nobody "
        + "attacked already does; an ASR near it means the backdoor did not take.",
      includeBaseRate: true, value: { $0.attackSuccessRate }, color: { _, rate in Self.scale(rate, from: (232, 245, 233), to: (229, 115, 115)) },
      linkBase: linkBase)
    // Tasks differ in scale (a keyboard model's top-1 is a few per cent), so each attack's column is coloured on its own range.
    var ranges: [String: (low: Double, high: Double)] = [:]
    for attack in attacks {
      let values = rules.compactMap { cell(attack: attack, rule: $0)?.mainTaskAccuracy?.mean }
      ranges[attack] = (values.min() ?? 0, values.max() ?? 1)
    }
    body += heatmap(
      title: "Main-task accuracy", id: "accuracy",
      caption: "Clean test accuracy of the final global model (top-1 next word for the keyboard task). Each column is coloured from its "
        + "lowest value (red) to its highest (green).",
      includeBaseRate: false, value: { $0.mainTaskAccuracy },
      color: { attack, value in
        let (low, high) = ranges[attack] ?? (0, 1)
        return Self.scale(high > low ? (value - low) / (high - low) : 1, from: (229, 115, 115), to: (232, 245, 233))
      }, linkBase: linkBase)
    body += HTML.element("h2", "The attacks", id: "attacks") + "\n"
    for attack in attacks {
      // The attack as its first rule's run describes it (the base-rate run when that is all there is).
      let folder = rules.first { runs[attack]?[$0] != nil } ?? Self.baseRateFolder
      guard let run = runs[attack]?[folder] else { continue }
      let sentence = RunReport(directory: run.path, experiments: [run]).setupSentence(run.config)
      body += HTML.element("p", HTML.element("b", HTML.escape(attack)) + ": " + HTML.escape(sentence)) + "\n"
    }
    body += HTML.element("p", HTML.escape("Written by backdoor-lab report. Self-contained: no scripts, no network; the links open files beside it."), class: "note")
    return HTML.page(title: "BackdoorLab: attack × defense", body: body)
  }

  func heatmap(
    title: String, id: String, caption: String, includeBaseRate: Bool, value: (Cell) -> ExperimentSummary.Interval?, color: (_ attack: String, _ value: Double) -> String, linkBase: String
  ) -> String {
    func shown(_ interval: ExperimentSummary.Interval) -> String {
      interval.count > 1 ? String(format: "%.0f ± %.0f", interval.mean * 100, interval.halfWidth * 100) : String(format: "%.0f", interval.mean * 100)
    }
    func link(_ attack: String, _ rule: String) -> String {
      HTML.escape((linkBase.isEmpty ? "" : linkBase + "/") + "\(attack)/\(rule)/curves.svg")
    }
    var out = HTML.element("h2", HTML.escape(title), id: id) + "\n<table class=\"heatmap\">\n<caption>\(HTML.escape(caption))</caption>\n"
    out += "<thead><tr><th>Rule</th>" + attacks.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
    if includeBaseRate {
      out += "<tr class=\"base\"><th>base rate (nobody attacking)</th>"
      for attack in attacks {
        if let rate = runs[attack]?[Self.baseRateFolder].flatMap(attackSuccess) {
          out += "<td class=\"heat\"><a href=\"\(link(attack, Self.baseRateFolder))\" title=\"\(HTML.escape("\(attack), attackers training honestly: ASR \(rate.text) %"))\">\(shown(rate))</a></td>"
        } else {
          out += "<td class=\"heat\"><span>not run</span></td>"
        }
      }
      out += "</tr>\n"
    }
    for rule in rules {
      out += "<tr><th>\(HTML.escape(ruleName(rule)))</th>"
      for attack in attacks {
        guard let cell = cell(attack: attack, rule: rule) else {
          out += "<td class=\"heat\"><span>not run</span></td>"
          continue
        }
        guard let interval = value(cell) else {
          out += "<td class=\"heat\"><a href=\"\(link(attack, rule))\">–</a></td>"
          continue
        }
        var tip = "\(cell.ruleName) against \(attack): \(title.lowercased()) \(interval.text) % over \(interval.count) seed\(interval.count == 1 ? "" : "s")"
        if includeBaseRate, let base = cell.baseRate { tip += String(format: "; base rate %.1f %%", base.mean * 100) }
        out += "<td class=\"heat\" style=\"background: \(color(attack, min(max(interval.mean, 0), 1)))\"><a href=\"\(link(attack, rule))\" title=\"\(HTML.escape(tip))\">\(shown(interval))</a></td>"
      }
      out += "</tr>\n"
    }
    return out + "</tbody>\n</table>\n"
  }

  /// A colour `t` of the way from one RGB colour to another.
  static func scale(_ t: Double, from: (Int, Int, Int), to: (Int, Int, Int)) -> String {
    func mix(_ a: Int, _ b: Int) -> Int { Int((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
    return String(format: "#%02x%02x%02x", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
  }
}
