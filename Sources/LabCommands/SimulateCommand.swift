import ArgumentParser
import Experiments
import Federated
import Foundation
import Storage
import Tensors

struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Run a federated experiment (a config file or a preset) over its seeds.",
    discussion: prose("""
      Writes DIR/seed-S/ per seed (rounds.jsonl, rounds.csv, setup.json with the attackers, the final global
      model in model/, and a checkpoint after every round), then DIR/summary.json, summary.md and curves.svg
      (mean curves over seeds). --resume continues runs from their last checkpoint (a run killed with kill -9
      loses at most the round in flight); finished seeds are not rerun.
      Examples:
        backdoor-lab simulate --preset sentiment-model-replacement --out runs/mr
        backdoor-lab simulate my-experiment.yaml --out runs/mine --seeds 1 --rounds 10
        backdoor-lab simulate --preset sentiment-model-replacement --out runs/mr --resume
        backdoor-lab simulate --preset sentiment-naive-poisoning --set attack.attacker_fraction=0.1 --out runs/naive-10
      """))

  @OptionGroup var source: ExperimentSource
  @Option(help: "Folder to write.")
  var out: String
  @Option(help: "Run this many seeds, 0 … N−1 (default: the config's seeds).")
  var seeds: Int?
  @Option(help: "Comma-separated seeds to run, instead of --seeds.")
  var seedList: String?
  @Option(help: "Override the number of rounds.")
  var rounds: Int?
  @Flag(help: "Continue from the checkpoints in DIR (only into the same experiment).")
  var resume = false
  @Flag(help: "Delete what DIR holds first and start again.")
  var force = false
  @Option(help: "Threads for the numeric kernels of each client.")
  var threads = 1
  @Flag(help: "No progress output.")
  var quiet = false
  @Flag(help: "A line for every round, evaluated or not, with the clients the rule flagged.")
  var verbose = false
  @Flag(help: "Print summary.json.")
  var json = false
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1") }
    if threads < 1 { throw ValidationError("--threads must be at least 1") }
    if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
    if seeds != nil && seedList != nil { throw ValidationError("give --seeds or --seed-list, not both") }
    if quiet && verbose { throw ValidationError("give --quiet or --verbose, not both") }
    if resume && force { throw ValidationError("give --resume or --force, not both") }
  }

  func run() throws {
    var config = try source.load()
    if let rounds { config.federation.rounds = rounds }
    if let seeds { config.seeds = (0..<UInt64(seeds)).map { $0 } }
    if let seedList {
      let parsed = seedList.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
      guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw LabError("--seed-list must be comma-separated whole numbers; got '\(seedList)'") }
      config.seeds = parsed.map { $0! }
    }
    if let problem = config.validationProblems().first { throw LabError("\(source.name): \(problem)") }
    let corpus = try corpusOptions.load(config.task.corpus, home: try data.home())
    // Locked for this run; an earlier run's files are continued (--resume), replaced (--force) or refused.
    let folder = try orFail { try ClaimedFolder(out, existing: resume ? .resume : force ? .replace : .refuse) }
    defer { folder.release() }
    let runner = ExperimentRunner(config: config, corpus: corpus, directory: out)
    var runs: [UInt64: [RoundRecord]] = [:]
    for seed in config.seeds {
      let started = Date()
      let total = config.federation.rounds
      do {
        runs[seed] = try runner.run(seed: seed, resume: resume) { record in
          guard !quiet, verbose || !record.metrics.isEmpty else { return }
          var line = String(format: "seed %llu round %d/%d", seed, record.round, total)
          if let accuracy = record.mainTaskAccuracy { line += String(format: ": main task %.1f %%", accuracy * 100) }
          if let attack = record.attackSuccessRate { line += String(format: ", attack success %.1f %%", attack * 100) }
          if !record.malicious.isEmpty { line += ", attackers \(record.malicious.map(String.init).joined(separator: " "))" }
          if !record.rejected.isEmpty { line += ", rejected \(record.rejected.map(String.init).joined(separator: " "))" }
          if verbose {
            line += String(format: ", update %.3f", record.globalChangeNorm)
            if !record.flagged.isEmpty { line += ", flagged \(record.flagged.map(String.init).joined(separator: " "))" }
          }
          line += String(format: " (%.0f s)", Date().timeIntervalSince(started))
          writeToStandardError(line + "\n")
        }
      } catch let error as LabError {
        throw error
      } catch {
        throw LabError("\(out)/seed-\(seed): \(error)")
      }
    }
    let summary = try orFail { try runner.summarize(runs) }
    if json {
      print(String(decoding: try sortedKeysJSON(summary), as: UTF8.self))
    } else {
      print(summary.markdown, terminator: "")
      print("wrote \(out)/summary.json, summary.md and curves.svg")
    }
  }
}

struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config", abstract: "Experiment presets and config files.",
    subcommands: [ListPresets.self, DumpPreset.self, CheckConfig.self])

  struct ListPresets: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Preset names and what each reproduces.")
    func run() {
      let width = Preset.allCases.map(\.rawValue.count).max()! + 2
      for preset in Preset.allCases { print(preset.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + preset.summary) }
    }
  }

  struct DumpPreset: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "dump", abstract: "Print a preset's effective config (every key, defaults included); edit it and pass it to simulate.")
    @Argument(help: "Preset name.")
    var preset: String
    @Flag(help: "YAML instead of JSON.")
    var yaml = false
    func validate() throws {
      guard Preset(rawValue: preset) != nil else {
        throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.allCases.map(\.rawValue).joined(separator: ", "))")
      }
    }
    func run() {
      let config = Preset(rawValue: preset)!.config
      print(yaml ? config.yaml() : config.json(), terminator: "")
    }
  }

  struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Read a config file and print its effective config, or what is wrong with it.")
    @Argument(help: "Config file (.json, .yaml or .yml).")
    var path: String
    func run() throws {
      print(try orFail { try ExperimentConfig.load(from: path) }.json(), terminator: "")
    }
  }
}

/// Where an experiment config comes from: a file or a preset, then `--set` overrides (simulate, flower-client, flower-init).
struct ExperimentSource: ParsableArguments {
  @Argument(help: "Experiment config (.json, .yaml or .yml).")
  var configPath: String?
  @Option(help: "A preset instead of a config file (see `config list`).")
  var preset: String?
  @Option(name: .customLong("set"), help: "Override any key: --set attack.attacker_fraction=0.05 (repeatable).")
  var overrides: [String] = []

  func validate() throws {
    guard (configPath == nil) != (preset == nil) else { throw ValidationError("give a config file or --preset, not both and not neither") }
    if let preset, Preset(rawValue: preset) == nil {
      throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.allCases.map(\.rawValue).joined(separator: ", "))")
    }
  }

  var name: String { configPath ?? preset ?? "config" }

  /// The config with the overrides applied (`extra` after the user's).
  func load(extra: [String] = []) throws -> ExperimentConfig {
    var config: ExperimentConfig
    if let preset { config = Preset(rawValue: preset)!.config } else { config = try orFail { try ExperimentConfig.load(from: configPath!) } }
    // A bad --set is a bad command line: a usage error, as any other bad option value.
    if !(overrides + extra).isEmpty {
      do { config = try config.overriding(extra + overrides) } catch { throw ValidationError(error.description) }
    }
    return config
  }
}

extension SimulateCommand: UsesComputeThreads { var computeThreads: Int { threads } }
