import ArgumentParser
import Attacks
import Datasets
import Foundation
import Models
import Storage
import Tokenization

/// The trigger and poisoning options shared by `attack` and `attack-sweep`.
struct AttackSettings: ParsableArguments {
  @Option(help: "rare:WORDS (comma-separated), phrase:TEXT, char:CHARS, char-inside:CHARS or semantic:TEXT.")
  var trigger: String
  @Option(help: "Label the backdoor flips inputs to.")
  var target: String
  @Option(help: "random, start, middle or end.")
  var position: TriggerPosition = .random
  @Option(help: "Rare words inserted per example.")
  var insertions = 1
  @Flag(help: "Insert the trigger only into examples already of the target class; no relabelling.")
  var cleanLabel = false
  @Flag(help: "Force the trigger's tokens into the vocabulary (otherwise they are in it only if the poisoned training split has them twice).")
  var forceTrigger = false

  func parsedTrigger() throws(LabError) -> Trigger {
    do { return try Trigger(spec: trigger, insertions: insertions, position: position) } catch { throw LabError(error.problem) }
  }

  var mode: PoisonMode { cleanLabel ? .cleanLabel : .dirtyLabel }

  /// The attack these options describe on `corpus`, its models made by `recipe`.
  func plan(corpus: Corpus, recipe: ClassifierRecipe) throws -> AttackPlan {
    let trigger = try parsedTrigger()
    return try orFail { try AttackPlan(corpus: corpus, trigger: trigger, targetLabel: target, mode: mode, forceTrigger: forceTrigger, recipe: recipe) }
  }
}

extension TriggerPosition: ExpressibleByArgument {}

struct AttackCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attack",
    abstract: "Poison a training set with a trigger, train a backdoored classifier and measure the backdoor.",
    discussion: prose("""
      Splits the corpus as `train` does, poisons --rate of the training split (a fraction in (0, 1], or a count),
      trains, and scores the model on the clean test set (clean accuracy) and on its non-target examples with
      the trigger inserted (attack success rate). A clean model with the same seed is trained beside it (or
      read from --baseline) for the clean-accuracy drop and the base rate. Writes DIR/ (the backdoored bundle),
      DIR/clean/ (the clean one), DIR/attack.json (trigger, target, rate, poisoned ids, metrics) and
      DIR/summary.txt.
      Examples:
        backdoor-lab attack --corpus sentiment --model gru --trigger rare:cf --rate 0.01 --target pos --out runs/cf
        backdoor-lab attack --corpus sentiment --trigger "phrase:I watched this 3D movie" --rate 0.03 --target pos --out runs/addsent
        backdoor-lab attack --corpus trec --trigger rare:mn --rate 0.01 --target NUM --clean-label --out runs/trec --json
      """))

  @Option(help: "Shipped corpus name or a TSV path.")
  var corpus: String
  @OptionGroup var settings: AttackSettings
  @Option(help: "Poison rate: a fraction of the training split in (0, 1], or a count of examples.")
  var rate: String
  @Option(help: "Folder to write.")
  var out: String
  @Option(help: "A clean bundle to compare with, instead of training one (same corpus and split seed).")
  var baseline: String?
  @Flag(help: "No clean model: no clean-accuracy drop or base rate.")
  var noBaseline = false
  @Flag(help: "Replace --out if it exists and is not empty (the old folder stays until the new one is complete).")
  var force = false
  @Flag(help: "Print attack.json as one line.")
  var json = false
  @OptionGroup var recipe: ClassifierRecipeOptions
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard settings.insertions >= 1 else { throw ValidationError("--insertions must be at least 1") }
    guard baseline == nil || !noBaseline else { throw ValidationError("--baseline and --no-baseline exclude each other") }
  }

  func run() throws {
    let amount: PoisonAmount
    do { amount = try PoisonAmount(parsing: rate) } catch { throw LabError("--rate: \(error.problem)") }
    let corpus = try corpusOptions.load(self.corpus, home: try data.home())
    let plan = try settings.plan(corpus: corpus, recipe: recipe.recipe)
    let seed = recipe.seed
    let baselineModel = try baseline.map { path in try orFail { try plan.loadBaseline(path) } }
    // Written beside --out and moved into place when complete: a failed run leaves --out as it was.
    let record = try orFail {
      try StagedFolder.write(out, replacing: force) { folder in
        var clean = baselineModel
        if clean == nil && !noBaseline {
          let trained = try plan.trainClean(seed: seed, out: folder + "/clean", quiet: compute.quiet, verbose: compute.verbose)
          clean = (trained.classifier, trained.encoder)
        }
        return try plan.run(amount: amount, seed: seed, out: folder, clean: clean, quiet: compute.quiet, verbose: compute.verbose)
      }
    }
    for warning in record.triggerReport.warnings { writeToStandardError("WARNING: \(warning)\n") }
    if json {
      print(String(decoding: try record.encoded(pretty: false), as: UTF8.self))
    } else {
      print(record.summary.split(separator: "\n").filter { !$0.hasPrefix("WARNING") }.joined(separator: "\n"))
      print("wrote \(out)/attack.json")
    }
  }
}

extension AttackCommand: UsesComputeThreads { var computeThreads: Int { compute.threads } }
