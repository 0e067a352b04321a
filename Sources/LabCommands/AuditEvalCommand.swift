import ArgumentParser
import Audit
import Datasets
import Experiments
import Foundation

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
      the ROC-AUC): a set of 8 phrase backdoors measures phrase recovery to about ±30 points. The verdict figures
      and trigger recovery are also given for each architecture and each kind of trigger. REASR: the top
      candidate inserted into the test split of the corpus the attack record names (split as the attack split it),
      and the share of the other labels' inputs it turns into the suspected label, against the planted trigger's
      share on the same inputs; it reproduces the backdoor at 0.9 of that or more. P(backdoored): the verdict
      score through a Platt calibration fitted on the other models of the evaluation (leave-one-out), scored by
      cross-entropy and Brier score beside a constant guess; the calibration fitted on all of them is printed for
      use on other models. Several folders are
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
  @OptionGroup(title: "Corpora the attack records name by path (for REASR)") var corpus: CorpusOptions

  func validate() throws {
    guard !folders.isEmpty else { throw ValidationError("give at least one folder of bundles") }
    guard Set(folders.map(AuditZoo.standardised)).count == folders.count else { throw ValidationError("a folder is given twice") }
  }

  func run() throws {
    // Every folder is checked before any is audited, which takes a while.
    let zoo = try orFail { try AuditZoo(folders: folders) }
    let audit = options.bundleAudit
    let home = try options.data.home()
    var corpora: [String: Corpus] = [:]
    let corpusOptions = corpus
    let outcome = try orFail {
      try zoo.evaluate(
        threshold: options.threshold, maximumTriggerLength: options.maxTriggerLength, fresh: fresh,
        willAudit: { index, entry in if !quiet && !json { writeToStandardError("[\(index + 1)/\(zoo.entries.count)] auditing \(entry.name)\n") } },
        audit: { try audit.run($0, plantedTrigger: $1, plantedTarget: $2) },
        loadCorpus: { name in
          if let loaded = corpora[name] { return loaded }
          let loaded = try corpusOptions.load(name, home: home)
          corpora[name] = loaded
          return loaded
        },
        warn: { writeToStandardError("warning: \($0)\n") })
    }
    if json {
      let output: any Encodable = folders.count == 1 ? outcome.pooled : PooledEvaluation(pooled: outcome.pooled, byFolder: outcome.byFolder)
      print(String(decoding: try sortedKeysJSON(output, pretty: true), as: UTF8.self))
      return
    }
    if !quiet {
      for model in outcome.models {
        let truth = model.backdoored ? "\(model.triggerTokens.joined(separator: " ")) → \(model.trueTarget ?? "?")" : "clean"
        let asr = model.attackSuccessRate.map { String(format: " (ASR %.0f %%)", $0 * 100) } ?? ""
        let found = model.recovered.map { $0 ? " found" : " missed" } ?? ""
        let learned = model.learnedPart.map { "; learnt as '\($0.joined(separator: " "))': \(model.learnedPartRecovered == true ? "found" : "missed")" } ?? ""
        let reasr = model.reproduction.map { String(format: "; REASR %.0f %% (planted %.0f %%)", $0.candidateRate * 100, $0.plantedRate * 100) } ?? ""
        let probability = model.probabilityBackdoored.map { String(format: ", P %.2f", $0) } ?? ""
        print("\(model.name): \(truth)\(asr); \(model.verdict.rawValue) \(String(format: "%.3f", model.verdictScore))\(probability), "
          + "\(model.suspectedTarget): \(model.topCandidates.prefix(3).joined(separator: " | "))\(found)\(learned)\(reasr)")
      }
      print("")
      if folders.count > 1 {
        print(AuditEvaluation.perFolderTable(outcome.byFolder.map { ($0.folder, $0.evaluation) } + [("all", outcome.pooled)]))
        print("")
      }
    }
    print(outcome.pooled.summary(threshold: options.threshold))
  }
}
