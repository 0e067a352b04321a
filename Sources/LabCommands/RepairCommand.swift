import ArgumentParser
import Attacks
import Audit
import Datasets
import Experiments
import Foundation
import Models
import Tensors
import Tokenization

struct RepairCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repair",
    abstract: "Take a backdoor out of a classifier bundle: neutralise trigger tokens and/or fine-prune, then fine-tune; ASR and clean accuracy before and after.",
    discussion: prose("""
      Neutralising gives each trigger token the embedding row of <unk>, so the model reads the trigger as an unknown
      word; the tokens come from --trigger (a spec such as rare:cf, or text) or from an audit report (--from-audit
      FILE, written by `audit --out`: its --top best candidates for the suspected target). Fine-pruning (Liu et al.
      2018), for when no trigger was found: the head stops reading the pooled units least active on clean dev data,
      pruning 5 % more at a time while clean dev accuracy stays within --max-accuracy-drop. Then --fine-tune-epochs of
      training on the clean training split (0: none). Clean accuracy is measured on the test split, attack success on
      its other-label sentences with the planted trigger inserted (the trigger of the bundle's attack.json, else
      --trigger and --target, else the audit's best candidate). Writes the repaired bundle and repair.json to --out.
      Examples:
        backdoor-lab repair runs/cf --trigger rare:cf --out runs/cf-repaired
        backdoor-lab audit runs/mr/seed-0/model --probe sentiment --out audit.json
        backdoor-lab repair runs/mr/seed-0/model --from-audit audit.json --corpus sentiment --out runs/mr-repaired
        backdoor-lab repair runs/cf --fine-prune --out runs/cf-pruned
      """))

  @Argument(help: "Classifier bundle folder.")
  var bundle: String
  @Option(help: "Tokens to neutralise: a trigger spec (rare:cf, phrase:…) or text.")
  var trigger: String?
  @Option(help: "The trigger's target label, for the attack success rate (default: attack.json's, else the audit's).")
  var target: String?
  @Option(help: "An audit report (audit --out): neutralise its best candidates for the suspected target.")
  var fromAudit: String?
  @Option(help: "How many of the audit's candidates to neutralise.")
  var top = 1
  @Flag(help: "Fine-prune: stop the head reading the units clean data leaves dormant.")
  var finePrune = false
  @Option(help: "Fine-pruning stops before clean dev accuracy falls by more than this (a fraction).")
  var maxAccuracyDrop = 0.04
  @Option(help: "Epochs of fine-tuning on the clean training split afterwards (0: none).")
  var fineTuneEpochs = 1
  @Option(help: "Fine-tuning learning rate.")
  var learningRate: Float = 3e-4
  @Option(help: "Shipped corpus name or a TSV with label and text columns (default: the bundle's training.json or attack.json).")
  var corpus: String?
  @Option(help: "Split seed (default: the bundle's, else 0).")
  var splitSeed: UInt64?
  @Option(help: "Folder for the repaired bundle and repair.json.")
  var out: String
  @Flag(help: "Print repair.json.")
  var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard trigger != nil || fromAudit != nil || finePrune else { throw ValidationError("give --trigger, --from-audit or --fine-prune (or several)") }
    guard top >= 1, fineTuneEpochs >= 0, learningRate > 0, learningRate <= 10, (0..<1).contains(maxAccuracyDrop) else {
      throw ValidationError("--top ≥ 1, --fine-tune-epochs ≥ 0, --learning-rate in (0, 10], --max-accuracy-drop in [0, 1)")
    }
  }

  func run() throws {
    let scored = try ScoredBundle(
      path: bundle, corpus: corpus, splitSeed: splitSeed, target: target, purpose: "repair", corpusOptions: corpusOptions, data: data)
    // What to neutralise, and which trigger scores the attack: the one the lab planted (attack.json), else
    // --trigger with --target, else the audit's best candidate for its suspected target.
    var tokens: [String] = []
    var evaluation = scored.recordedAttack
    if let trigger {
      tokens += Trigger.tokens(ofSpecOrText: trigger, tokenizer: scored.encoder.tokenizer)
      if evaluation == nil, let target { evaluation = (try parsedTrigger(trigger), target) }
    }
    if let fromAudit {
      let report = try decodeJSONFile(AuditReport.self, at: fromAudit)
      let best = Array(report.candidates.prefix(top))
      // A phrase candidate neutralises each of its words.
      tokens += best.flatMap(\.tokens)
      if evaluation == nil, let first = best.first {
        evaluation = (try parsedTrigger(first.tokens.count > 1 ? "phrase:" + first.trigger : first.trigger), report.targetLabel)
      }
    }

    var repair = BundleRepair()
    repair.tokensToNeutralise = tokens
    repair.finePrune = finePrune
    repair.maximumAccuracyDrop = maxAccuracyDrop
    repair.fineTuneEpochs = fineTuneEpochs
    repair.learningRate = learningRate
    let (classifier, outcome) = try orFail { try repair.run(on: scored, attack: evaluation, quiet: compute.quiet, verbose: compute.verbose) }
    for token in Set(tokens).subtracting(outcome.neutralised).sorted() {
      writeToStandardError("warning: '\(token)' is not in \(bundle)'s vocabulary; nothing to neutralise\n")
    }
    let repaired = ModelBundle(model: .classifier(classifier), vocabulary: scored.bundle.vocabulary)
    try orFail { try repaired.save(to: out, extraFiles: ["repair.json": try sortedKeysJSON(outcome, pretty: true)]) }
    if json {
      print(String(decoding: try sortedKeysJSON(outcome), as: UTF8.self))
      return
    }
    func line(_ metrics: AttackMetrics) -> String {
      String(format: "clean accuracy %.1f %%", metrics.cleanAccuracy * 100)
        + (metrics.attackSuccessRate.map { String(format: ", attack success %.1f %%", $0 * 100) } ?? "")
    }
    if !outcome.neutralised.isEmpty { print("neutralised: \(outcome.neutralised.joined(separator: ", "))") }
    if finePrune { print("pruned \(outcome.prunedUnits) of \(outcome.featureUnits) units the head reads") }
    if let evaluation { print("attack success measured with \(evaluation.trigger.spec) → \(evaluation.target)") }
    print("before: " + line(outcome.before))
    print("after:  " + line(outcome.after) + (fineTuneEpochs > 0 ? " (after \(fineTuneEpochs) epoch(s) of fine-tuning)" : ""))
    print("wrote \(out) and \(out)/repair.json")
  }
}

extension RepairCommand: UsesComputeThreads { var computeThreads: Int { compute.threads } }
