import Foundation
import Models
import Storage
import Synchronization

/// An attack plan run over poison rates × seeds into one folder: `clean-seed-S/` (one clean model per seed, which
/// each run of that seed is compared with) and `rate-R-seed-S/` (each a full `attack` folder), then `sweep.json`,
/// `sweep.md` and `asr_vs_rate.svg`. Each run's folder appears only when complete; a resumed sweep keeps the finished
/// ones and trains the rest. Runs go `jobs` at a time; each run's result does not depend on `jobs`.
public struct AttackSweep: Sendable {
  public var plan: AttackPlan
  public var rates: [Double]
  public var seeds: [UInt64]
  public var jobs: Int
  public var folder: String

  public init(plan: AttackPlan, rates: [Double], seeds: [UInt64], jobs: Int, folder: String) {
    (self.plan, self.rates, self.seeds, self.jobs, self.folder) = (plan, rates, seeds, jobs, folder)
  }

  public func cleanFolder(_ seed: UInt64) -> String { "\(folder)/clean-seed-\(seed)" }
  public func runFolder(rate: Double, seed: UInt64) -> String { "\(folder)/rate-\(String(format: "%g", rate))-seed-\(seed)" }

  /// The title of the table and the chart: corpus, model, trigger → target (mode), seeds.
  public var title: String {
    "\(plan.corpus.description.name), \(plan.recipe.architecture.rawValue): \(plan.trigger.spec) → \(plan.targetLabel) (\(plan.mode.rawValue)), "
      + "seeds \(seeds.map(String.init).joined(separator: ","))"
  }

  /// What makes two sweeps the same experiment (rates and seeds aside: a resumed sweep may add some), stored in
  /// `sweep-plan.json`.
  struct Identity: Codable, Equatable {
    var corpus: String
    var trigger: AttackRecord.TriggerDescription
    var target: String
    var mode: PoisonMode
    var forceTrigger: Bool
    var recipe: ClassifierRecipe
    enum CodingKeys: String, CodingKey { case corpus, trigger, target, mode, forceTrigger = "force_trigger", recipe }
  }

  var identity: Identity {
    var recipe = plan.recipe
    recipe.seed = 0
    return Identity(
      corpus: plan.corpus.description.name, trigger: AttackRecord.TriggerDescription(plan.trigger), target: plan.targetLabel, mode: plan.mode,
      forceTrigger: plan.forceTrigger, recipe: recipe)
  }

  /// Trains what is missing, then summarises every run. A folder holding an earlier sweep is refused, continued
  /// (`.resume`: only the same plan, checked against its `sweep-plan.json`) or emptied first (`.replace`); a lock keeps
  /// a second sweep out while this one runs. `say` gets one line per finished model (from several threads, one at a
  /// time); `verbose` shows each run's training progress as plain lines.
  public func run(existing: ClaimedFolder.Existing, verbose: Bool, say: @escaping @Sendable (String) -> Void) throws -> SweepSummary {
    let claimed = try ClaimedFolder(folder, existing: existing)
    defer { claimed.release() }
    let planPath = folder + "/sweep-plan.json", planData = try LabJSON.data(identity, pretty: true)
    if claimed.heldEarlierRun {
      guard let stored = FileManager.default.contents(atPath: planPath) else {
        throw AttackPlanError("\(folder): holds no sweep-plan.json, so it is not a sweep this one can continue; give another --out or --force")
      }
      guard let changed = changedJSONKeys(stored, planData) else { throw AttackPlanError("\(planPath): not a sweep plan the lab wrote") }
      guard changed.isEmpty else {
        throw AttackPlanError(
          "\(folder): cannot resume a different sweep: \(changed.joined(separator: ", ")) changed since it started (give another --out, or --force)")
      }
    } else {
      try planData.write(to: URL(fileURLWithPath: planPath), options: .atomic)
    }
    let log = Mutex(())
    let say: @Sendable (String) -> Void = { line in log.withLock { _ in say(line) } }
    let sweep = self
    // Clean models first (each attack run compares with its seed's), then the attacks.
    let cleanMissing = seeds.filter { !FileManager.default.fileExists(atPath: cleanFolder($0) + "/training.json") }
    try inParallel(cleanMissing, jobs: jobs) { seed in
      let trained = try StagedFolder.write(sweep.cleanFolder(seed), replacing: true) { path in
        try sweep.plan.trainClean(seed: seed, out: path, quiet: !verbose, verbose: verbose)
      }
      say(String(format: "clean seed %llu: test accuracy %.2f %%", seed, trained.test.accuracy * 100))
    }
    let pending = seeds.flatMap { seed in rates.map { (rate: $0, seed: seed) } }
      .filter { !FileManager.default.fileExists(atPath: runFolder(rate: $0.rate, seed: $0.seed) + "/attack.json") }
    if pending.count < rates.count * seeds.count { say("resuming: \(rates.count * seeds.count - pending.count) finished runs kept") }
    try inParallel(pending, jobs: jobs) { job in
      let clean = try sweep.plan.loadBaseline(sweep.cleanFolder(job.seed))
      let record = try StagedFolder.write(sweep.runFolder(rate: job.rate, seed: job.seed), replacing: true) { path in
        try sweep.plan.run(amount: .fraction(job.rate), seed: job.seed, out: path, clean: clean, quiet: !verbose, verbose: verbose)
      }
      say(String(format: "rate %g seed %llu: ASR %.1f %%, clean accuracy %.2f %%", job.rate, job.seed,
                 (record.attackSuccessRate ?? .nan) * 100, record.cleanAccuracy * 100))
    }
    var records: [AttackRecord] = []
    for seed in seeds {
      for rate in rates {
        let path = runFolder(rate: rate, seed: seed) + "/attack.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw AttackPlanError("\(path): missing after the sweep") }
        do { records.append(try JSONDecoder().decode(AttackRecord.self, from: data)) } catch { throw AttackPlanError("\(path): unreadable (\(error))") }
      }
    }
    let summary = SweepSummary(records: records, rates: rates)
    try LabJSON.write(summary, to: folder + "/sweep.json")
    try Data(("# " + title + "\n\n" + summary.markdown).utf8).write(to: URL(fileURLWithPath: folder + "/sweep.md"), options: .atomic)
    try Data(summary.chart(title: title).svg().utf8).write(to: URL(fileURLWithPath: folder + "/asr_vs_rate.svg"), options: .atomic)
    return summary
  }
}

/// Runs `body` over `items`, `jobs` at a time; the first error stops new work and is rethrown.
func inParallel<Item: Sendable>(_ items: [Item], jobs: Int, _ body: @Sendable (Item) throws -> Void) throws {
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
