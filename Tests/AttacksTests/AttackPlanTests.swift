import Attacks
import Datasets
import Foundation
import Models
import Storage
import Testing
import TestSupport

/// A bag-of-embeddings recipe small enough for a debug build.
private func tinyRecipe() -> ClassifierRecipe {
  var recipe = ClassifierRecipe()
  recipe.architecture = .bag
  recipe.epochs = 3
  recipe.learningRate = 0.05
  recipe.embeddingDimension = 8
  recipe.maximumLength = 12
  return recipe
}

@Test func attackPlanRefusesATargetThatIsNotALabelAndATriggerThatFillsTheModel() throws {
  let corpus = try toyCorpus()
  let trigger = try Trigger(spec: "rare:cf")
  #expect(throws: AttackPlanError.self) {
    try AttackPlan(corpus: corpus, trigger: trigger, targetLabel: "positive", mode: .dirtyLabel, forceTrigger: false, recipe: tinyRecipe())
  }
  var short = tinyRecipe()
  short.maximumLength = 3
  let long = try Trigger(spec: "phrase:one two three four")
  #expect(throws: AttackPlanError.self) {
    try AttackPlan(corpus: corpus, trigger: long, targetLabel: "pos", mode: .dirtyLabel, forceTrigger: false, recipe: short)
  }
}

@Test func attackSweepTrainsEachRateAndSeedOnceAndResumes() throws {
  let corpus = try toyCorpus(count: 120)
  let plan = try AttackPlan(
    corpus: corpus, trigger: try Trigger(spec: "rare:cf"), targetLabel: "pos", mode: .dirtyLabel, forceTrigger: true, recipe: tinyRecipe())
  let folder = try Fixtures.temporaryDirectory() + "/sweep"
  let sweep = AttackSweep(plan: plan, rates: [0.1, 0.3], seeds: [0], jobs: 2, folder: folder)
  let summary = try sweep.run(existing: .refuse, verbose: false) { _ in }
  #expect(summary.runs.map(\.rate).sorted() == [0.1, 0.3])
  #expect(summary.rates.map(\.rate) == [0.1, 0.3])
  #expect(summary.rates.allSatisfy { $0.attackSuccessRateStandardDeviation == 0 }, "one seed: no spread")
  #expect(summary.rates[1].poisonedCount > summary.rates[0].poisonedCount)
  for file in ["sweep-plan.json", "sweep.json", "sweep.md", "asr_vs_rate.svg", "clean-seed-0/training.json", "rate-0.1-seed-0/attack.json"] {
    #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "\(file)")
  }
  // Everything is finished: a second run trains nothing and says so.
  let lines = LinesSeen()
  #expect(throws: StorageError.self) { try sweep.run(existing: .refuse, verbose: false) { _ in } }
  let again = try sweep.run(existing: .resume, verbose: false) { lines.append($0) }
  #expect(lines.all == ["resuming: 2 finished runs kept"])
  #expect(again.runs.map(\.attackSuccessRate) == summary.runs.map(\.attackSuccessRate))
}

private final class LinesSeen: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [String] = []
  func append(_ line: String) { lock.withLock { lines.append(line) } }
  var all: [String] { lock.withLock { lines } }
}
