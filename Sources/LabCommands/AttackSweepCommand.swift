import ArgumentParser
import Attacks
import Datasets
import Foundation
import Models

struct AttackSweepCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attack-sweep",
    abstract: "Attack success against poison rate, over several seeds: a table, JSON and an SVG plot.",
    discussion: prose("""
      Trains one clean model per seed (DIR/clean-seed-S) and one backdoored model per rate and seed
      (DIR/rate-R-seed-S, each a full `attack` folder), then writes DIR/sweep.json, DIR/sweep.md (mean ± sd
      over seeds) and DIR/asr_vs_rate.svg. An interrupted sweep continues with --resume, keeping its finished runs.
      Runs go --jobs at a time, one thread each; results do not depend on --jobs.
      Example:
        backdoor-lab attack-sweep --corpus sentiment --model gru --trigger rare:cf --target pos \\
          --rates 0.001,0.003,0.01,0.03,0.1 --seeds 0,1,2 --jobs 2 --out runs/sweep-gru
      """))

  @Option(help: "Shipped corpus name or a TSV path.")
  var corpus: String
  @OptionGroup var settings: AttackSettings
  @Option(help: "Comma-separated poison rates, each in (0, 1].")
  var rates = "0.001,0.003,0.01,0.03,0.1"
  @Option(help: "Comma-separated seeds.")
  var seeds = "0,1,2"
  @Option(help: "Runs at a time.")
  var jobs = 2
  @Option(help: "Folder to write.")
  var out: String
  @OptionGroup var recipe: ClassifierRecipeOptions
  @Flag(help: "Continue the sweep in --out (only the same corpus, trigger, target and model options; rates and seeds may be added).")
  var resume = false
  @Flag(help: "Delete what --out holds first and start again.")
  var force = false
  @Flag(help: "No progress output.")
  var quiet = false
  @Flag(help: "Also every run's training progress, as plain lines.")
  var verbose = false
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func parsedRates() throws(ValidationError) -> [Double] {
    let values = rates.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0.map { $0 > 0 && $0 <= 1 } == true }) else {
      throw ValidationError("--rates must be comma-separated fractions in (0, 1]; got '\(rates)'")
    }
    return Array(Set(values.map { $0! })).sorted()
  }

  func parsedSeeds() throws(ValidationError) -> [UInt64] {
    let values = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw ValidationError("--seeds must be comma-separated whole numbers; got '\(seeds)'") }
    return Array(Set(values.map { $0! })).sorted()
  }

  func validate() throws {
    _ = try parsedRates()
    _ = try parsedSeeds()
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    guard !(quiet && verbose) else { throw ValidationError("give --quiet or --verbose, not both") }
    guard settings.insertions >= 1 else { throw ValidationError("--insertions must be at least 1") }
    guard !(resume && force) else { throw ValidationError("give --resume or --force, not both") }
  }

  func run() throws {
    let corpus = try corpusOptions.load(self.corpus, home: try data.home())
    let plan = try settings.plan(corpus: corpus, recipe: recipe.recipe)
    let sweep = AttackSweep(plan: plan, rates: try parsedRates(), seeds: try parsedSeeds(), jobs: jobs, folder: out)
    let quiet = quiet
    let summary = try orFail { try sweep.run(existing: resume ? .resume : force ? .replace : .refuse, verbose: verbose) { line in if !quiet { writeToStandardError(line + "\n") } } }
    print(summary.markdown, terminator: "")
    print("wrote \(out)/sweep.json, sweep.md and asr_vs_rate.svg")
  }
}
