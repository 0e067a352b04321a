import Attacks
import Datasets
import Defenses
import Federated
import Foundation
import Models
import Reports
import Tensors

/// Runs an experiment's seeds into a folder: `seed-S/` per seed (checkpoint, `rounds.jsonl`, `rounds.csv`,
/// the final global model as a bundle in `model/`), then `summary.json`, `summary.md` and `curves.svg`.
public struct ExperimentRunner: Sendable {
  public var config: ExperimentConfig
  public var corpus: Corpus
  public var directory: String

  public init(config: ExperimentConfig, corpus: Corpus, directory: String) {
    self.config = config
    self.corpus = corpus
    self.directory = directory
  }

  public func seedDirectory(_ seed: UInt64) -> String { "\(directory)/seed-\(seed)" }

  /// One seed; with `resume`, continues from its last checkpoint.
  public func run(seed: UInt64, resume: Bool, progress: @escaping (RoundRecord) -> Void = { _ in }) throws -> [RoundRecord] {
    switch config.task.kind {
    case .classification:
      let scenario = try ClassificationScenario(config: config, corpus: corpus, seed: seed)
      let setup = RunSetup(seed: seed, attackers: scenario.attackers, clientSizes: scenario.partition.clients.map(\.count), notes: scenario.notes)
      let initial = scenario.initialModel(seed: seed)
      return try run(scenario, initial: initial, embedding: embeddingLocation(initial), setup: setup, resume: resume, progress: progress) { model in
        ModelBundle(model: .classifier(model), vocabulary: scenario.vocabulary)
      }
    case .keyboard:
      let scenario = try KeyboardScenario(config: config, corpus: corpus, seed: seed)
      let setup = RunSetup(seed: seed, attackers: scenario.attackers, clientSizes: scenario.clientSizes, notes: scenario.notes)
      let initial = scenario.initialModel(seed: seed)
      return try run(scenario, initial: initial, embedding: embeddingLocation(initial), setup: setup, resume: resume, progress: progress) { model in
        ModelBundle(model: .languageModel(model), vocabulary: scenario.vocabulary)
      }
    }
  }

  /// Where `embedding.weight` lies in a model's parameter vector, and its row width.
  func embeddingLocation<Model: Parameterized>(_ model: Model) -> (range: Range<Int>, dimension: Int)? {
    parameterRanges(of: model).first { $0.name == "embedding.weight" }.map { ($0.range, config.task.embeddingDim) }
  }

  /// Where the output layer lies in a model's parameter vector: a classifier's `classifier.weight` and `.bias`; a
  /// language model's `decoder.weight` (the embedding when tied) and `decoder.bias`.
  func outputLocation<Model: Parameterized>(_ model: Model) -> OutputLayerLocation? {
    let ranges = Dictionary(uniqueKeysWithValues: parameterRanges(of: model).map { ($0.name, $0.range) })
    if let weight = ranges["classifier.weight"], let bias = ranges["classifier.bias"] { return OutputLayerLocation(weight: weight, bias: bias) }
    if let weight = ranges["decoder.weight"] ?? ranges["embedding.weight"], let bias = ranges["decoder.bias"] { return OutputLayerLocation(weight: weight, bias: bias) }
    return nil
  }

  /// Every parameter tensor's place in the parameter vector, as the matrix FreqFed transforms.
  func parameterMatrices<Model: Parameterized>(_ model: Model) -> [FreqFed.ParameterMatrix] {
    zip(parameterRanges(of: model), model.parameterPaths).map { located, parameter in
      FreqFed.ParameterMatrix(range: located.range, shape: model[keyPath: parameter.path].shape)
    }
  }

  func run<Scenario: FederatedScenario>(
    _ scenario: Scenario, initial: Scenario.Model, embedding: (range: Range<Int>, dimension: Int)?, setup: RunSetup, resume: Bool, progress: @escaping (RoundRecord) -> Void,
    bundle: (Scenario.Model) -> ModelBundle
  ) throws -> [RoundRecord] {
    let folder = seedDirectory(setup.seed)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    guard config.federation.clientsPerRound <= scenario.clientCount else {
      throw ConfigError("federation.clients_per_round is \(config.federation.clientsPerRound) but there are \(scenario.clientCount) clients")
    }
    var settings = SimulationSettings()
    settings.rounds = config.federation.rounds
    settings.clientsPerRound = config.federation.clientsPerRound
    settings.serverLearningRate = config.federation.serverLearningRate
    settings.serverOptimizer = config.federation.serverOptimizer
    settings.evaluateEvery = config.federation.evaluateEvery
    settings.parallelClients = config.federation.parallelClients
    settings.seed = setup.seed
    // The checkpoint's own config: a run resumes only into the same experiment (more rounds may extend it).
    let storedConfig = folder + "/experiment.json"
    if resume, let stored = FileManager.default.contents(atPath: storedConfig) {
      let changed = try config.keysChanged(since: stored, source: storedConfig)
      guard changed.isEmpty else {
        throw ConfigError(
          "\(folder): cannot resume into a different experiment: \(changed.joined(separator: ", ")) changed since the run started (give another --out, or the run's own config)")
      }
    }
    try write(Data(config.json().utf8), to: storedConfig)
    let simulation = Simulation(
      scenario: scenario, aggregator: config.aggregator.makeAggregator(
        weighting: config.federation.weighting, seed: setup.seed, embedding: embedding, output: outputLocation(initial),
        parameterMatrices: parameterMatrices(initial)),
      settings: settings)
    try write(try jsonData(setup), to: folder + "/setup.json")
    func writeRecords(_ records: [RoundRecord]) throws {
      try write(Data(records.map { String(decoding: try! jsonData($0, pretty: false), as: UTF8.self) + "\n" }.joined().utf8), to: folder + "/rounds.jsonl")
      try write(Data(Self.csv(records).utf8), to: folder + "/rounds.csv")
    }
    var writeError: Error?
    let state = try simulation.run(initial: initial, directory: folder, resume: resume) { record, all in
      do { try writeRecords(all) } catch { writeError = error }
      progress(record)
    }
    if let writeError { throw writeError }
    try writeRecords(state.records)
    try bundle(state.model).save(to: folder + "/model")
    return state.records
  }

  /// One line per round: the main metrics first, then any other metric, then who took part and the norms.
  static func csv(_ records: [RoundRecord]) -> String {
    let leading = ["main_task_accuracy", "attack_success_rate"]
    let others = Set(records.flatMap(\.metrics.keys)).subtracting(leading).sorted()
    var lines = [(["round"] + leading + others + ["sampled", "malicious", "rejected", "flagged", "detection_precision", "detection_recall",
                  "mean_benign_update_norm", "mean_malicious_update_norm", "global_change_norm"]).joined(separator: ",")]
    for record in records {
      let malicious = Set(record.malicious.map(String.init))
      let benignNorms = record.updateNorms.filter { !malicious.contains($0.key) }.map(\.value)
      let maliciousNorms = record.updateNorms.filter { malicious.contains($0.key) }.map(\.value)
      func number(_ value: Double?) -> String { value.map { String(format: "%.6g", $0) } ?? "" }
      func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
      lines.append(([String(record.round)] + (leading + others).map { number(record.metrics[$0]) } + [
        record.sampled.map(String.init).joined(separator: " "), record.malicious.map(String.init).joined(separator: " "),
        record.rejected.map(String.init).joined(separator: " "), record.flagged.map(String.init).joined(separator: " "),
        number(record.detectionPrecision), number(record.detectionRecall), number(mean(benignNorms)), number(mean(maliciousNorms)), number(record.globalChangeNorm),
      ]).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Summary over the seeds' records; writes summary.json, summary.md and curves.svg.
  public func summarize(_ runs: [UInt64: [RoundRecord]]) throws -> ExperimentSummary {
    let summary = ExperimentSummary(config: config, runs: runs)
    try write(try jsonData(summary), to: directory + "/summary.json")
    try write(Data(summary.markdown.utf8), to: directory + "/summary.md")
    try write(Data(summary.chart().svg().utf8), to: directory + "/curves.svg")
    try write(Data(config.json().utf8), to: directory + "/config.json")
    return summary
  }
}

struct RunSetup: Codable {
  var seed: UInt64
  var attackers: [Int]
  var clientSizes: [Int]
  var notes: [String]
  enum CodingKeys: String, CodingKey { case seed, attackers, clientSizes = "client_sizes", notes }
}

func jsonData<T: Encodable>(_ value: T, pretty: Bool = true) throws -> Data {
  let encoder = JSONEncoder()
  encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
  return try encoder.encode(value)
}

func write(_ data: Data, to path: String) throws {
  try data.write(to: URL(fileURLWithPath: path), options: .atomic)
}

/// Per seed: final main-task accuracy, the attack success rate right after the last attack round, its
/// maximum, and durability (rounds after the attacks stop until it falls below 50 %); over seeds the mean
/// and a 95 % confidence interval (Student's t).
public struct ExperimentSummary: Codable, Sendable {
  public struct Seed: Codable, Sendable {
    public var seed: UInt64
    public var finalMainTaskAccuracy: Double?
    public var attackSuccessRateAfterAttack: Double?
    public var maximumAttackSuccessRate: Double?
    public var finalAttackSuccessRate: Double?
    /// nil when the attacks never stop, or (with `durabilityCensored`) when ASR stayed ≥ 50 % to the end.
    public var durability: Int?
    public var durabilityCensored: Bool
    enum CodingKeys: String, CodingKey {
      case seed, finalMainTaskAccuracy = "final_main_task_accuracy", attackSuccessRateAfterAttack = "attack_success_rate_after_attack"
      case maximumAttackSuccessRate = "maximum_attack_success_rate", finalAttackSuccessRate = "final_attack_success_rate", durability
      case durabilityCensored = "durability_censored"
    }
  }
  public struct Interval: Codable, Sendable {
    public var mean: Double
    public var halfWidth: Double
    public var count: Int
    enum CodingKeys: String, CodingKey { case mean, halfWidth = "ci95_half_width", count }
    public var text: String { String(format: "%.1f ± %.1f", mean * 100, halfWidth * 100) }
  }

  public var name: String
  public var lastAttackRound: Int?
  public var seeds: [Seed]
  public var finalMainTaskAccuracy: Interval?
  public var attackSuccessRateAfterAttack: Interval?
  public var finalAttackSuccessRate: Interval?
  public var durability: Interval?
  /// Mean curves over seeds, by evaluated round.
  public var rounds: [Int]
  public var meanMainTaskAccuracy: [Double]
  public var meanAttackSuccessRate: [Double?]

  enum CodingKeys: String, CodingKey {
    case name, lastAttackRound = "last_attack_round", seeds, finalMainTaskAccuracy = "final_main_task_accuracy"
    case attackSuccessRateAfterAttack = "attack_success_rate_after_attack", finalAttackSuccessRate = "final_attack_success_rate", durability
    case rounds, meanMainTaskAccuracy = "mean_main_task_accuracy", meanAttackSuccessRate = "mean_attack_success_rate"
  }

  init(config: ExperimentConfig, runs: [UInt64: [RoundRecord]]) {
    name = config.name
    let schedule = config.attack?.attackSchedule
    let lastAttack = schedule?.lastRound
    lastAttackRound = lastAttack
    seeds = runs.keys.sorted().map { seed in
      let evaluated = runs[seed]!.filter { !$0.metrics.isEmpty }
      let attackCurve = evaluated.compactMap { record in record.attackSuccessRate.map { (record.round, $0) } }
      let afterAttack = lastAttack.flatMap { last in attackCurve.first { $0.0 >= last }?.1 }
      var durability: Int?
      var censored = false
      if let last = lastAttack, !attackCurve.isEmpty {
        if let fall = attackCurve.first(where: { $0.0 >= last && $0.1 < 0.5 }) {
          durability = fall.0 - last
        } else {
          durability = (attackCurve.last?.0 ?? last) - last
          censored = true
        }
      }
      return Seed(
        seed: seed, finalMainTaskAccuracy: evaluated.last?.mainTaskAccuracy, attackSuccessRateAfterAttack: afterAttack,
        maximumAttackSuccessRate: attackCurve.map(\.1).max(), finalAttackSuccessRate: attackCurve.last?.1, durability: durability,
        durabilityCensored: censored)
    }
    func interval(_ values: [Double]) -> Interval? {
      guard !values.isEmpty else { return nil }
      let (mean, sd) = meanAndStandardDeviation(values)
      return Interval(mean: mean, halfWidth: values.count > 1 ? studentT975(degrees: values.count - 1) * sd / Double(values.count).squareRoot() : 0, count: values.count)
    }
    finalMainTaskAccuracy = interval(seeds.compactMap(\.finalMainTaskAccuracy))
    attackSuccessRateAfterAttack = interval(seeds.compactMap(\.attackSuccessRateAfterAttack))
    finalAttackSuccessRate = interval(seeds.compactMap(\.finalAttackSuccessRate))
    durability = interval(seeds.compactMap { $0.durability.map(Double.init) })
    let evaluatedRounds = Set(runs.values.flatMap { $0.filter { !$0.metrics.isEmpty }.map(\.round) }).sorted()
    rounds = evaluatedRounds
    meanMainTaskAccuracy = evaluatedRounds.map { round in
      let values = runs.values.compactMap { $0.first { $0.round == round }?.mainTaskAccuracy }
      return values.reduce(0, +) / Double(max(values.count, 1))
    }
    meanAttackSuccessRate = evaluatedRounds.map { round in
      let values = runs.values.compactMap { $0.first { $0.round == round }?.attackSuccessRate }
      return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
  }

  public var markdown: String {
    var text = "# \(name)\n\n"
    text += markdownTable(
      header: ["seed", "final main-task accuracy %", "ASR right after the attack %", "max ASR %", "final ASR %", "durability (rounds)"],
      rows: seeds.map { seed in
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0 * 100) } ?? "–" }
        return [
          String(seed.seed), percent(seed.finalMainTaskAccuracy), percent(seed.attackSuccessRateAfterAttack), percent(seed.maximumAttackSuccessRate),
          percent(seed.finalAttackSuccessRate), seed.durability.map { "\($0)\(seed.durabilityCensored ? "+" : "")" } ?? "–",
        ]
      })
    text += "\nOver \(seeds.count) seed(s), mean ± 95 % CI: final main-task accuracy \(finalMainTaskAccuracy?.text ?? "–") %"
    if let after = attackSuccessRateAfterAttack { text += "; ASR right after the attack \(after.text) %" }
    if let final = finalAttackSuccessRate { text += "; final ASR \(final.text) %" }
    if let durability { text += String(format: "; durability %.1f ± %.1f rounds", durability.mean, durability.halfWidth) }
    text += ".\n"
    if seeds.contains(where: \.durabilityCensored) { text += "A '+' marks a durability cut off by the end of the run (ASR still ≥ 50 %).\n" }
    return text
  }

  public func chart() -> LineChart {
    var chart = LineChart(title: name, xLabel: "round", yLabel: "%", yRange: 0...100)
    chart.series.append(.init(name: "main-task accuracy", points: zip(rounds, meanMainTaskAccuracy).map { .init(x: Double($0), y: $1 * 100) }))
    let attack = zip(rounds, meanAttackSuccessRate).compactMap { round, value in value.map { LineChart.Point(x: Double(round), y: $0 * 100) } }
    if !attack.isEmpty { chart.series.append(.init(name: "attack success", points: attack)) }
    return chart
  }
}

/// The 97.5 % quantile of Student's t with `degrees` degrees of freedom.
func studentT975(degrees: Int) -> Double {
  let table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
               2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
  return degrees >= 1 && degrees <= table.count ? table[degrees - 1] : 1.960
}
