import ArgumentParser
import Attacks
import Datasets
import Foundation
import Models
import Reports
import Synchronization
import Tensors

struct AttackSweepCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attack-sweep",
    abstract: "Attack success against poison rate, over several seeds: a table, JSON and an SVG plot.",
    discussion: prose("""
      Trains one clean model per seed (DIR/clean-seed-S) and one backdoored model per rate and seed
      (DIR/rate-R-seed-S, each a full `attack` folder), then writes DIR/sweep.json, DIR/sweep.md (mean ± sd
      over seeds) and DIR/asr_vs_rate.svg. Finished runs are kept: rerunning the same command resumes.
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
  @OptionGroup var recipe: ClassifierRecipe
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
  }

  func run() throws {
    let rates = try parsedRates(), seeds = try parsedSeeds()
    let corpus = try corpusOptions.load(self.corpus, home: try data.home())
    let plan = try AttackPlan(corpus: corpus, settings: settings, recipe: recipe)
    try orFail { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
    @Sendable func cleanFolder(_ seed: UInt64) -> String { "\(out)/clean-seed-\(seed)" }
    @Sendable func runFolder(_ rate: Double, _ seed: UInt64) -> String { "\(out)/rate-\(String(format: "%g", rate))-seed-\(seed)" }
    let log = Mutex(())
    @Sendable func say(_ line: String) { if !quiet { log.withLock { _ in writeToStandardError(line + "\n") } } }

    // Clean models first (each attack run compares with its seed's), then the attacks.
    let cleanMissing = seeds.filter { !FileManager.default.fileExists(atPath: cleanFolder($0) + "/training.json") }
    try parallel(cleanMissing, jobs: jobs) { seed in
      let trained = try plan.trainClean(seed: seed, out: cleanFolder(seed), quiet: !verbose, verbose: verbose)
      say(String(format: "clean seed %llu: test accuracy %.2f %%", seed, trained.test.accuracy * 100))
    }
    let pending = seeds.flatMap { seed in rates.map { (rate: $0, seed: seed) } }
      .filter { !FileManager.default.fileExists(atPath: runFolder($0.rate, $0.seed) + "/attack.json") }
    if pending.count < rates.count * seeds.count { say("resuming: \(rates.count * seeds.count - pending.count) finished runs kept") }
    try parallel(pending, jobs: jobs) { job in
      let clean = try loadBaseline(cleanFolder(job.seed), corpus: corpus.description.name, splitSeed: recipe.splitSeed, target: settings.target)
      let record = try plan.run(amount: .fraction(job.rate), seed: job.seed, out: runFolder(job.rate, job.seed), clean: clean, quiet: !verbose, verbose: verbose)
      say(String(format: "rate %g seed %llu: ASR %.1f %%, clean accuracy %.2f %%", job.rate, job.seed, (record.attackSuccessRate ?? .nan) * 100, record.cleanAccuracy * 100))
    }

    var records: [AttackRecord] = []
    for seed in seeds {
      for rate in rates {
        let path = runFolder(rate, seed) + "/attack.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw LabError("\(path): missing after the sweep") }
        do { records.append(try JSONDecoder().decode(AttackRecord.self, from: data)) } catch { throw LabError("\(path): unreadable (\(error))") }
      }
    }
    let sweep = SweepSummary(records: records, rates: rates)
    try orFail {
      try writeJSONAtomically(sweep, to: out + "/sweep.json")
      let title = "\(corpus.description.name), \(recipe.model): \(plan.trigger.spec) → \(settings.target) (\(settings.mode.rawValue)), seeds \(seeds.map(String.init).joined(separator: ","))"
      try Data(("# " + title + "\n\n" + sweep.markdown).utf8).write(to: URL(fileURLWithPath: out + "/sweep.md"), options: .atomic)
      try Data(sweep.chart(title: title).svg().utf8).write(to: URL(fileURLWithPath: out + "/asr_vs_rate.svg"), options: .atomic)
    }
    print(sweep.markdown, terminator: "")
    print("wrote \(out)/sweep.json, sweep.md and asr_vs_rate.svg")
  }
}

/// Runs `body` over `items`, `jobs` at a time; the first error stops new work and is rethrown.
func parallel<Item: Sendable>(_ items: [Item], jobs: Int, _ body: @Sendable (Item) throws -> Void) throws {
  guard !items.isEmpty else { return }
  let next = Mutex(0)
  let failure = Mutex<Error?>(nil)
  DispatchQueue.concurrentPerform(iterations: min(jobs, items.count)) { _ in
    while true {
      let index: Int? = next.withLock { value in
        guard value < items.count, failure.withLock({ $0 == nil }) else { return nil }
        defer { value += 1 }
        return value
      }
      guard let index else { return }
      do { try body(items[index]) } catch { failure.withLock { if $0 == nil { $0 = error } } }
    }
  }
  if let error = failure.withLock({ $0 }) { throw error }
}

/// The sweep's results: each run, and per rate the mean and sd over seeds.
struct SweepSummary: Codable {
  struct Run: Codable {
    var rate: Double
    var seed: UInt64
    var poisonedCount: Int
    var cleanAccuracy: Double
    var attackSuccessRate: Double?
    var falseTriggerRate: Double?
    var cleanModelAccuracy: Double?
    var baseRate: Double?
    var cleanAccuracyDrop: Double?
    enum CodingKeys: String, CodingKey {
      case rate, seed, poisonedCount = "poisoned_count", cleanAccuracy = "clean_accuracy", attackSuccessRate = "attack_success_rate"
      case falseTriggerRate = "false_trigger_rate", cleanModelAccuracy = "clean_model_accuracy", baseRate = "base_rate", cleanAccuracyDrop = "clean_accuracy_drop"
    }
  }
  struct Rate: Codable {
    var rate: Double
    var poisonedCount: Int
    var attackSuccessRateMean: Double
    var attackSuccessRateStandardDeviation: Double
    var cleanAccuracyMean: Double
    var cleanAccuracyDropMean: Double?
    var baseRateMean: Double?
    var falseTriggerRateMean: Double?
    enum CodingKeys: String, CodingKey {
      case rate, poisonedCount = "poisoned_count", attackSuccessRateMean = "attack_success_rate_mean"
      case attackSuccessRateStandardDeviation = "attack_success_rate_sd", cleanAccuracyMean = "clean_accuracy_mean"
      case cleanAccuracyDropMean = "clean_accuracy_drop_mean", baseRateMean = "base_rate_mean", falseTriggerRateMean = "false_trigger_rate_mean"
    }
  }
  var runs: [Run]
  var rates: [Rate]

  init(records: [AttackRecord], rates: [Double]) {
    let runs = records.map {
      Run(rate: $0.poisonRate ?? .nan, seed: $0.seed, poisonedCount: $0.poisonedCount, cleanAccuracy: $0.cleanAccuracy, attackSuccessRate: $0.attackSuccessRate,
          falseTriggerRate: $0.poisoned.falseTriggerRate, cleanModelAccuracy: $0.cleanModel?.cleanAccuracy, baseRate: $0.cleanModel?.attackSuccessRate,
          cleanAccuracyDrop: $0.cleanAccuracyDrop)
    }
    self.runs = runs
    self.rates = rates.map { rate in
      let group = runs.filter { $0.rate == rate }
      func mean(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        return present.isEmpty ? nil : meanAndStandardDeviation(present).mean
      }
      let attack = meanAndStandardDeviation(group.compactMap(\.attackSuccessRate))
      return Rate(
        rate: rate, poisonedCount: group.first?.poisonedCount ?? 0, attackSuccessRateMean: attack.mean, attackSuccessRateStandardDeviation: attack.standardDeviation,
        cleanAccuracyMean: meanAndStandardDeviation(group.map(\.cleanAccuracy)).mean, cleanAccuracyDropMean: mean(group.map(\.cleanAccuracyDrop)),
        baseRateMean: mean(group.map(\.baseRate)), falseTriggerRateMean: mean(group.map(\.falseTriggerRate)))
    }
  }

  var markdown: String {
    func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0 * 100) } ?? "–" }
    let hasFalseTrigger = rates.contains { $0.falseTriggerRateMean != nil }
    var header = ["poison rate", "poisoned", "ASR % (mean ± sd)", "ASR per seed", "CACC %", "CACC drop (points)", "clean model's base rate %"]
    if hasFalseTrigger { header.append("false-trigger rate %") }
    let rows = rates.map { rate -> [String] in
      let perSeed = runs.filter { $0.rate == rate.rate }.map { percent($0.attackSuccessRate) }.joined(separator: ", ")
      var row = [
        String(format: "%g %%", rate.rate * 100), String(rate.poisonedCount),
        String(format: "%.1f ± %.1f", rate.attackSuccessRateMean * 100, rate.attackSuccessRateStandardDeviation * 100), perSeed,
        percent(rate.cleanAccuracyMean), rate.cleanAccuracyDropMean.map { String(format: "%.2f", $0 * 100) } ?? "–", percent(rate.baseRateMean),
      ]
      if hasFalseTrigger { row.append(percent(rate.falseTriggerRateMean)) }
      return row
    }
    return markdownTable(header: header, rows: rows)
  }

  func chart(title: String) -> LineChart {
    var chart = LineChart(title: title, xLabel: "poison rate (share of the training split)", yLabel: "%", xScale: .logarithmic, yRange: 0...100)
    chart.xTickFormat = { String(format: "%g%%", $0 * 100) }
    chart.series.append(
      LineChart.Series(name: "attack success", points: rates.map {
        LineChart.Point(x: $0.rate, y: $0.attackSuccessRateMean * 100, low: ($0.attackSuccessRateMean - $0.attackSuccessRateStandardDeviation) * 100,
                        high: ($0.attackSuccessRateMean + $0.attackSuccessRateStandardDeviation) * 100)
      }))
    chart.series.append(LineChart.Series(name: "clean accuracy", points: rates.map { LineChart.Point(x: $0.rate, y: $0.cleanAccuracyMean * 100) }))
    if rates.allSatisfy({ $0.baseRateMean != nil }) {
      chart.series.append(LineChart.Series(name: "clean model base rate", points: rates.map { LineChart.Point(x: $0.rate, y: $0.baseRateMean! * 100) }, dashed: true))
    }
    if rates.allSatisfy({ $0.falseTriggerRateMean != nil }) {
      chart.series.append(LineChart.Series(name: "false triggers", points: rates.map { LineChart.Point(x: $0.rate, y: $0.falseTriggerRateMean! * 100) }, dashed: true))
    }
    return chart
  }
}
