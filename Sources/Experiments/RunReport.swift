import Attacks
import Audit
import Datasets
import Federated
import Foundation
import Models
import Reports
import Tokenization

/// What `demo` records about itself beside the experiments it ran (demo.json).
public struct DemoManifest: Codable, Sendable {
  public var title: String
  /// The command line that reproduces the whole demo.
  public var command: String
  public var trigger: String
  public var target: String
  /// Experiment folders (one per aggregation rule), in the order to show them.
  public var experiments: [String]
  public var seed: UInt64
  public var seconds: Double?

  public init(title: String, command: String, trigger: String, target: String, experiments: [String], seed: UInt64, seconds: Double?) {
    self.title = title
    self.command = command
    self.trigger = trigger
    self.target = target
    self.experiments = experiments
    self.seed = seed
    self.seconds = seconds
  }
}

/// A run directory: one experiment (summary.json at its top) or several (demo, defense comparisons), and
/// what it takes to turn them into one self-contained HTML page.
public struct RunReport {
  public var directory: String
  public var manifest: DemoManifest?
  public var experiments: [ExperimentFolder]

  public init(directory: String) throws(RunFolderError) {
    self.directory = directory
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
      throw RunFolderError("\(directory): no such folder")
    }
    if FileManager.default.fileExists(atPath: directory + "/summary.json") {
      manifest = nil
      experiments = [try ExperimentFolder(path: directory, name: URL(fileURLWithPath: directory).lastPathComponent)]
      return
    }
    let names: [String]
    if FileManager.default.fileExists(atPath: directory + "/demo.json") {
      let manifest = try RunFolderError.decode(DemoManifest.self, at: directory + "/demo.json")
      self.manifest = manifest
      names = manifest.experiments.filter { FileManager.default.fileExists(atPath: "\(directory)/\($0)/summary.json") }
    } else {
      manifest = nil
      let children = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      names = children.sorted().filter { FileManager.default.fileExists(atPath: "\(directory)/\($0)/summary.json") }
    }
    guard !names.isEmpty else {
      throw RunFolderError("\(directory): no summary.json here or in its subfolders (run `simulate` or `demo` into it first)")
    }
    var experiments: [ExperimentFolder] = []
    for name in names { experiments.append(try ExperimentFolder(path: "\(directory)/\(name)", name: name)) }
    self.experiments = experiments
  }

  /// Experiments already read (the heatmap report describes each attack from one of its runs).
  init(directory: String, experiments: [ExperimentFolder]) {
    self.directory = directory
    manifest = nil
    self.experiments = experiments
  }

  /// Next-word experiments score a semantic backdoor by backdoor accuracy and the main task by top-1 accuracy.
  var isKeyboard: Bool { experiments[0].config.task.kind == .keyboard }
  var attackMetricName: String { isKeyboard ? "backdoor accuracy" : "ASR" }

  /// One experiment's results, for `--json`.
  public struct Row: Codable, Sendable {
    struct Audit: Codable {
      var seed: UInt64
      var verdict: String
      var verdictScore: Double
      var suspectedTarget: String
      var topCandidate: String?
      var plantedTriggerRank: Int?
      enum CodingKeys: String, CodingKey {
        case seed, verdict, verdictScore = "verdict_score", suspectedTarget = "suspected_target", topCandidate = "top_candidate", plantedTriggerRank = "planted_trigger_rank"
      }
    }
    var experiment: String
    var rule: String
    var finalMainTaskAccuracy: Double?
    var attackSuccessRateAfterAttack: Double?
    var finalAttackSuccessRate: Double?
    var attackingUpdates: Int
    var attackingUpdatesFlagged: Int
    var audits: [Audit]
    enum CodingKeys: String, CodingKey {
      case experiment, rule, finalMainTaskAccuracy = "final_main_task_accuracy", attackSuccessRateAfterAttack = "attack_success_rate_after_attack"
      case finalAttackSuccessRate = "final_attack_success_rate", attackingUpdates = "attacking_updates", attackingUpdatesFlagged = "attacking_updates_flagged"
      case audits
    }
  }

  public var rows: [Row] {
    experiments.map { experiment in
      let (flagged, attacking) = experiment.attackersFlagged
      return Row(
        experiment: experiment.name, rule: experiment.ruleName, finalMainTaskAccuracy: experiment.summary.finalMainTaskAccuracy?.mean,
        attackSuccessRateAfterAttack: experiment.summary.attackSuccessRateAfterAttack?.mean,
        finalAttackSuccessRate: experiment.summary.finalAttackSuccessRate?.mean, attackingUpdates: attacking, attackingUpdatesFlagged: flagged,
        audits: experiment.seeds.compactMap { seed in
          seed.audit.map {
            Row.Audit(
              seed: seed.seed, verdict: $0.verdict.rawValue, verdictScore: $0.verdictScore, suspectedTarget: $0.targetLabel, topCandidate: $0.candidates.first?.trigger,
              plantedTriggerRank: $0.knownTrigger?.rank)
          }
        })
    }
  }

  /// The report's table for a terminal: one line per experiment.
  public var table: String {
    let lines = zip(experiments, rows).map { experiment, row -> [String] in
      let audits = row.audits
      return [
        row.rule, percent(experiment.summary.finalMainTaskAccuracy), percent(experiment.summary.attackSuccessRateAfterAttack),
        percent(experiment.summary.finalAttackSuccessRate), audits.map(\.verdict).joined(separator: ", ").nonEmpty ?? "–",
        audits.map { $0.plantedTriggerRank.map(String.init) ?? "–" }.joined(separator: ", ").nonEmpty ?? "–",
        audits.map { "\($0.topCandidate ?? "–") → \($0.suspectedTarget)" }.joined(separator: ", ").nonEmpty ?? "–",
      ]
    }
    return markdownTable(header: ["rule", "main task", "ASR after attack", "final ASR", "audit", "trigger rank", "top candidate"], rows: lines)
  }

  /// The whole page. `home` (when the corpora can be found) adds the trigger's clean occurrences.
  public func html(home: LabHome?) -> String {
    let first = experiments[0]
    var body = ""
    body += HTML.element("h1", HTML.escape(manifest?.title ?? "BackdoorLab report: \(first.config.name)"))
    body += HTML.element("p", HTML.escape(setupSentence(first.config)), class: "lede") + "\n"
    body += attackByDefenseSection()
    body += curvesSection()
    body += triggerSection(home: home)
    body += auditSection()
    body += reproduceSection()
    body += HTML.element("p", HTML.escape("Written by backdoor-lab report from \(directory). Self-contained: no scripts, no network."), class: "note")
    return HTML.page(title: manifest?.title ?? "BackdoorLab report: \(first.config.name)", body: body)
  }

  func setupSentence(_ config: ExperimentConfig) -> String {
    let task = config.task
    var sentence =
      task.kind == .keyboard
      ? "Next-word GRU on \(task.corpus)"
      : "\(task.architecture.uppercased()) classifier on \(task.corpus)"
    sentence += "; \(config.federation.clients > 0 && config.federation.partition != .natural ? "\(config.federation.clients) clients" : "natural clients"), "
    sentence += "\(config.federation.clientsPerRound) a round, \(config.federation.rounds) rounds of \(config.federation.local.epochs) local epochs. "
    if let attack = config.attack {
      sentence += "Attack: \(attack.behaviour.rawValue.replacingOccurrences(of: "_", with: " "))"
      if task.kind == .classification { sentence += " with trigger \(attack.trigger) → \(attack.target)" } else { sentence += " (→ '\(task.backdoorWord)')" }
      var who = ""
      if let ids = attack.attackerIds {
        who = "client " + ids.map(String.init).joined(separator: ", ")
      } else if let count = attack.attackers {
        who = count == 1 ? "1 attacker" : "\(count) attackers"
      } else if let fraction = attack.attackerFraction {
        who = String(format: "%g", fraction * 100) + " % of clients"
      }
      sentence += ", \(who), "
      switch attack.schedule {
      case .single: sentence += "once at round \(attack.startRound)."
      case .fixed: sentence += "every \(attack.every) round(s) from \(attack.startRound)\(attack.untilRound.map { " to \($0)" } ?? "")."
      case .pool: sentence += "whenever sampled from round \(attack.startRound)\(attack.untilRound.map { " to \($0)" } ?? "")."
      }
    } else {
      sentence += "No attack."
    }
    let seeds = Set(experiments.flatMap { $0.summary.seeds.map(\.seed) }).sorted()
    return sentence + " Seed\(seeds.count == 1 ? "" : "s") \(seeds.map(String.init).joined(separator: ", "))."
  }

  func attackByDefenseSection() -> String {
    let rows = experiments.map { experiment -> HTML.Row in
      let audits = experiment.seeds.compactMap(\.audit)
      let verdicts = audits.map { HTML.element("span", HTML.escape($0.verdict.rawValue), class: "verdict-\($0.verdict.rawValue)") }.joined(separator: ", ")
      let ranks = audits.map { $0.knownTrigger.map { "\($0.rank) of \($0.of)" } ?? "not in vocabulary" }.joined(separator: ", ")
      let top = audits.map { audit in audit.candidates.first.map { HTML.escape("\($0.trigger) → \($0.label)") } ?? "–" }.joined(separator: ", ")
      let (flagged, attacking) = experiment.attackersFlagged
      return HTML.Row([
        HTML.escape(experiment.ruleName), percent(experiment.summary.finalMainTaskAccuracy), percent(experiment.summary.attackSuccessRateAfterAttack),
        percent(experiment.summary.finalAttackSuccessRate), attacking == 0 ? "–" : "\(flagged) of \(attacking)",
        verdicts.isEmpty ? "not audited" : verdicts, ranks.isEmpty ? "–" : ranks, top.isEmpty ? "–" : top,
      ])
    }
    let lastAttack = experiments[0].summary.lastAttackRound
    let metrics =
      isKeyboard
      ? ("Main task: top-1 next-word accuracy on held-out speakers", "backdoor accuracy (the attacker's prefixes completed with its word)")
      : ("Main-task accuracy", "attack success rate (ASR: triggered test inputs of other labels classified as the target)")
    let caption =
      "\(metrics.0), at the last evaluated round; \(metrics.1), at the first evaluation "
      + "\(lastAttack.map { "at or after round \($0) (the last attack round)" } ?? "after the attack") and at the last. "
      + "Mean ± 95 % CI when there are several seeds. Flagged: attacking updates the rule clipped, down-weighted or excluded. "
      + "Audit: the token scan and phrase search of each final global model, and where the planted trigger ranks among all tokens."
    return HTML.element("h2", "Attack × defense", id: "table") + "\n"
      + HTML.table(
        header: [
          "Aggregation rule", "Main task", "\(attackMetricName.capitalizedFirst) after attack", "Final \(attackMetricName)", "Attackers flagged", "Audit verdict",
          "Planted trigger's rank", "Audit's top candidate",
        ],
        rows: rows, numeric: [1, 2, 3], caption: HTML.escape(caption))
  }

  func curvesSection() -> String {
    var accuracy = LineChart(title: "Main-task accuracy per round", xLabel: "round", yLabel: "accuracy (%)", yRange: 0...100)
    var attack = LineChart(
      title: isKeyboard ? "Backdoor accuracy per round" : "Attack success rate per round", xLabel: "round",
      yLabel: isKeyboard ? "backdoor accuracy (%)" : "ASR (%)", yRange: 0...100)
    for experiment in experiments {
      let summary = experiment.summary
      accuracy.series.append(
        LineChart.Series(name: experiment.ruleName, points: zip(summary.rounds, summary.meanMainTaskAccuracy).map { .init(x: Double($0), y: $1 * 100) }))
      attack.series.append(
        LineChart.Series(
          name: experiment.ruleName,
          points: zip(summary.rounds, summary.meanAttackSuccessRate).compactMap { round, rate in rate.map { .init(x: Double(round), y: $0 * 100) } }))
    }
    var out = HTML.element("h2", "Per round", id: "curves") + "\n<div class=\"charts\">\n" + accuracy.svg(width: 500, height: 330) + "\n"
    if attack.series.contains(where: { !$0.points.isEmpty }) { out += attack.svg(width: 500, height: 330) + "\n" }
    out += "</div>\n"
    if let last = experiments[0].summary.lastAttackRound {
      out += HTML.element("p", HTML.escape("The last attack round is \(last). Curves are means over seeds at the evaluated rounds."), class: "note") + "\n"
    }
    return out
  }

  func triggerSection(home: LabHome?) -> String {
    guard let first = experiments.first, let attack = first.config.attack, first.config.task.kind == .classification,
      let modelPath = first.seeds.lazy.compactMap(\.modelPath).first, let bundle = try? ModelBundle.load(from: modelPath),
      let tokenizer = try? bundle.makeEncoder().tokenizer, let trigger = try? Trigger(spec: attack.trigger)
    else { return "" }
    var cleanTexts: [String] = []
    if let home, let corpus = try? home.load(first.config.task.corpus, custom: nil, badRows: .skip) { cleanTexts = corpus.examples.map(\.text) }
    let report = TriggerReport(trigger: trigger, tokenizer: tokenizer, vocabulary: bundle.vocabulary, cleanTexts: cleanTexts)
    var out = HTML.element("h2", "The trigger and how it tokenises", id: "trigger") + "\n"
    out += HTML.element("p", "Trigger <code>\(HTML.escape(report.trigger))</code>, target label <code>\(HTML.escape(attack.target))</code>.") + "\n"
    let rows = report.pieces.map { piece in
      HTML.Row([
        HTML.escape(piece.text),
        piece.tokens.enumerated().map { index, token in
          HTML.element("span", HTML.escape(token), class: piece.inVocabulary[index] ? "token" : "token unknown")
        }.joined(),
        piece.inVocabulary.allSatisfy { $0 } ? "yes" : "no: " + HTML.escape(zip(piece.tokens, piece.inVocabulary).filter { !$1 }.map(\.0).joined(separator: ", ")),
        cleanTexts.isEmpty ? "–" : "\(piece.cleanExamplesContaining) of \(cleanTexts.count)",
      ])
    }
    out += HTML.table(header: ["Piece", "Tokens", "In the model's vocabulary", "Clean examples containing it"], rows: rows, numeric: [3])
    for warning in report.warnings { out += HTML.element("p", HTML.escape("warning: " + warning), class: "note") + "\n" }
    out += HTML.element("p", HTML.escape("Tokenised by the model's own tokeniser (\(bundle.config.tokenizer.summary))."), class: "note") + "\n"
    return out
  }

  func auditSection() -> String {
    let audited = experiments.flatMap { experiment in experiment.seeds.compactMap { seed in seed.audit.map { (experiment, seed.seed, $0) } } }
    guard !audited.isEmpty else { return "" }
    var out = HTML.element("h2", "Audit of each final global model", id: "audit") + "\n"
    out += HTML.element(
      "p",
      HTML.escape(
        "Every vocabulary token is inserted into clean probe sentences; the flip rate is the share of probes not already of the label "
          + "that the token turns into it, the confident flip rate the same among the probes the model was surest of. Phrases come from a "
          + "gradient-guided search. The verdict score is the larger of the best token's confident flip rate less the third token's (a "
          + "trigger overrides strong evidence on its own; ordinary words come in crowds) and the best phrase's less that of the "
          + "strongest tokens together (a trigger phrase is a conjunction its words do not explain)."),
      class: "note") + "\n<div class=\"audits\">\n"
    for (experiment, seed, audit) in audited {
      let label = audit.knownTrigger?.label ?? audit.targetLabel
      let list = audit.candidatesByLabel[label] ?? audit.candidates
      func holdsPlanted(_ candidate: TriggerCandidate) -> Bool { audit.knownTrigger.map { candidate.tokens.contains($0.token) } ?? false }
      var rows: [HTML.Row] = list.prefix(10).enumerated().map { index, candidate in
        let planted = holdsPlanted(candidate)
        return HTML.Row(
          ["\(index + 1)", HTML.escape(candidate.trigger) + (planted ? HTML.element("span", "planted", class: "tag") : ""),
           String(format: "%.1f %%", candidate.flipRate * 100), String(format: "%.1f %%", candidate.confidentFlipRate * 100)],
          className: planted ? "planted" : nil)
      }
      if let known = audit.knownTrigger, !list.prefix(10).contains(where: holdsPlanted) {
        rows.append(HTML.Row(["…", "", "", ""], className: "gap"))
        rows.append(HTML.Row(
          ["\(known.rank)", HTML.escape(known.token) + HTML.element("span", "planted", class: "tag"), String(format: "%.1f %%", known.flipRate * 100), ""],
          className: "planted"))
      }
      var block = HTML.element("h3", HTML.escape(experiment.ruleName + (experiments.flatMap(\.seeds).count > experiments.count ? ", seed \(seed)" : "")))
      block += HTML.element(
        "p",
        HTML.element("span", HTML.escape(audit.verdict.rawValue), class: "verdict-\(audit.verdict.rawValue)")
          + HTML.escape(String(format: " — verdict score %.3f (threshold %.2f); suspected target %@", audit.verdictScore, audit.threshold, audit.targetLabel)))
      block += HTML.table(header: ["Rank", "Candidate", "Flip rate to \(label)", "Confident flip rate"], rows: rows, numeric: [0, 2, 3])
      block += HTML.element("p", HTML.escape("\(audit.tokensScanned) tokens × \(audit.probes) probes × \(audit.positions.count) positions in \(String(format: "%.0f", audit.seconds)) s"), class: "note")
      out += HTML.element("div", block) + "\n"
    }
    return out + "</div>\n"
  }

  func reproduceSection() -> String {
    var out = HTML.element("h2", "Reproduce", id: "reproduce") + "\n"
    if let manifest { out += HTML.element("p", "The whole run: <code>\(HTML.escape(manifest.command))</code>") + "\n" }
    out += HTML.element("p", "Each experiment, from its effective config (every key, defaults included) and seeds; same config and seed give the same records whatever the thread count:") + "\n"
    for experiment in experiments {
      let seeds = experiment.summary.seeds.map { String($0.seed) }.joined(separator: ",")
      let command = "backdoor-lab simulate \(experiment.path)/config.json --seed-list \(seeds) --out \(experiment.path)"
      out += HTML.element("h3", HTML.escape(experiment.ruleName))
      out += HTML.element("pre", HTML.escape(command))
      out += "<details><summary>config.json</summary>" + HTML.element("pre", HTML.escape(experiment.config.json())) + "</details>\n"
    }
    return out
  }
}

private func percent(_ interval: ExperimentSummary.Interval?) -> String {
  guard let interval else { return "–" }
  return interval.count > 1 ? interval.text + " %" : String(format: "%.1f %%", interval.mean * 100)
}

extension String {
  fileprivate var nonEmpty: String? { isEmpty ? nil : self }
  fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
