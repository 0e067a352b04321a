import Foundation
import Randomness
import Synchronization
import Tensors

/// What one round of a simulation hands a client.
public struct RoundContext: Sendable {
  public var round: Int
  public var globalVector: [Float]
  /// The update the server applied last round (times its learning rate), if any: an attacker's estimate
  /// of what benign clients do (Neurotoxin).
  public var previousGlobalChange: [Float]?

  public init(round: Int, globalVector: [Float], previousGlobalChange: [Float]?) {
    self.round = round
    self.globalVector = globalVector
    self.previousGlobalChange = previousGlobalChange
  }
}

/// The task side of a simulation: who the clients are, what each does locally, how the global model is
/// scored. Attacks plug in here (the simulation itself never knows who is malicious beyond recording it).
public protocol FederatedScenario: Sendable {
  associatedtype Model: Parameterized & Sendable
  var clientCount: Int { get }
  /// Clients that must train in `round` (attackers on a fixed schedule).
  func forcedClients(round: Int) -> Set<Int>
  /// Whether `client` acts maliciously if it trains in `round` (the ground truth the records keep).
  func isAttacking(client: Int, round: Int) -> Bool
  /// One client's local work: its update (local − global).
  func update(client: Int, global: Model, context: RoundContext, generator: inout SplitMix64) -> ClientUpdate
  /// Called with every update of the round before aggregation: colluding attackers may rewrite theirs
  /// from what they saw (ALIE, IPM). Benign updates must be returned unchanged.
  func finalize(_ updates: [ClientUpdate], attacking: Set<Int>, context: RoundContext) -> [ClientUpdate]
  /// Metrics of the global model (at least `main_task_accuracy`; `attack_success_rate` when attacked).
  func evaluate(_ model: Model, round: Int) -> [String: Double]
  /// The server's own update from `global` on its clean root set (FLTrust), or nil when the task keeps none.
  func serverReferenceUpdate(global: Model, context: RoundContext, generator: inout SplitMix64) -> [Float]?
  /// The model's class probabilities `[count][classes]` on `count` inputs the server makes up from `generator`
  /// (DeepSight), or nil when the task has no such probe. The same generator state gives the same inputs.
  func probeProbabilities(of model: Model, count: Int, generator: inout SplitMix64) -> [[Double]]?
}

extension FederatedScenario {
  public func finalize(_ updates: [ClientUpdate], attacking: Set<Int>, context: RoundContext) -> [ClientUpdate] { updates }
  public func serverReferenceUpdate(global: Model, context: RoundContext, generator: inout SplitMix64) -> [Float]? { nil }
  public func probeProbabilities(of model: Model, count: Int, generator: inout SplitMix64) -> [[Double]]? { nil }
}

public struct SimulationSettings: Sendable, Codable, Equatable {
  public var rounds = 50
  public var clientsPerRound = 10
  /// η: the server applies η · aggregate (with `serverOptimizer` sgd; the other optimisers scale their step by it).
  public var serverLearningRate: Float = 1
  public var serverOptimizer = ServerOptimizerSettings()
  /// Evaluate the global model every this many rounds (and always after the first and the last).
  public var evaluateEvery = 1
  public var seed: UInt64 = 0
  /// Clients trained at once. Results do not depend on it.
  public var parallelClients = 2

  public init() {}
}

/// One round, as the JSONL and CSV records keep it.
public struct RoundRecord: Sendable, Codable, Equatable {
  public var round: Int
  public var sampled: [Int]
  /// Sampled clients that attacked this round (ground truth).
  public var malicious: [Int]
  /// Updates dropped for NaN or Inf.
  public var rejected: [Int]
  /// What the aggregation rule did with each client's update.
  public var verdicts: [String: ClientVerdict]
  /// L2 norm of each client's update, by client id (rejected updates have none).
  public var updateNorms: [String: Double]
  /// L2 norm of the update the server applied (η · aggregate).
  public var globalChangeNorm: Double
  /// Metrics of the global model after the round (empty when not evaluated this round).
  public var metrics: [String: Double]

  enum CodingKeys: String, CodingKey {
    case round, sampled, malicious, rejected, verdicts, updateNorms = "update_norms", globalChangeNorm = "global_change_norm", metrics
    case flagged, detectionPrecision = "detection_precision", detectionRecall = "detection_recall"
  }

  public init(
    round: Int, sampled: [Int], malicious: [Int], rejected: [Int], verdicts: [String: ClientVerdict], updateNorms: [String: Double],
    globalChangeNorm: Double, metrics: [String: Double]
  ) {
    self.round = round
    self.sampled = sampled
    self.malicious = malicious
    self.rejected = rejected
    self.verdicts = verdicts
    self.updateNorms = updateNorms
    self.globalChangeNorm = globalChangeNorm
    self.metrics = metrics
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      round: try c.decode(Int.self, forKey: .round), sampled: try c.decode([Int].self, forKey: .sampled),
      malicious: try c.decode([Int].self, forKey: .malicious), rejected: try c.decode([Int].self, forKey: .rejected),
      verdicts: try c.decode([String: ClientVerdict].self, forKey: .verdicts),
      updateNorms: try c.decode([String: Double?].self, forKey: .updateNorms).mapValues { $0 ?? .nan },
      globalChangeNorm: try c.decodeIfPresent(Double.self, forKey: .globalChangeNorm) ?? .nan,
      metrics: try c.decode([String: Double?].self, forKey: .metrics).mapValues { $0 ?? .nan })
  }

  /// JSON has no NaN or infinity: a non-finite number (a model an attack destroyed) is written as null, read as NaN.
  static func jsonSafe(_ values: [String: Double]) -> [String: Double?] { values.mapValues { $0.isFinite ? $0 : nil } }

  /// The stored fields plus what follows from them (flagged clients, detection precision and recall).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(round, forKey: .round)
    try c.encode(sampled, forKey: .sampled)
    try c.encode(malicious, forKey: .malicious)
    try c.encode(rejected, forKey: .rejected)
    try c.encode(verdicts, forKey: .verdicts)
    try c.encode(Self.jsonSafe(updateNorms), forKey: .updateNorms)
    if globalChangeNorm.isFinite { try c.encode(globalChangeNorm, forKey: .globalChangeNorm) } else { try c.encodeNil(forKey: .globalChangeNorm) }
    try c.encode(Self.jsonSafe(metrics), forKey: .metrics)
    try c.encode(flagged, forKey: .flagged)
    try c.encodeIfPresent(detectionPrecision.flatMap { $0.isFinite ? $0 : nil }, forKey: .detectionPrecision)
    try c.encodeIfPresent(detectionRecall.flatMap { $0.isFinite ? $0 : nil }, forKey: .detectionRecall)
  }

  public var mainTaskAccuracy: Double? { metrics["main_task_accuracy"] }

  /// Clients the rule acted on (clipped, down-weighted, excluded, rejected); a secure-aggregation clamp is saturation,
  /// not a detection, and does not count.
  public var flagged: [Int] { verdicts.filter { $0.value != .kept && $0.value != .clamped }.compactMap { Int($0.key) }.sorted() }
  /// Clients whose update secure aggregation's fixed-point range clamped.
  public var clamped: [Int] { verdicts.filter { $0.value == .clamped }.compactMap { Int($0.key) }.sorted() }
  /// Share of flagged clients that were attacking (nil when none was flagged).
  public var detectionPrecision: Double? {
    let flagged = Set(flagged)
    return flagged.isEmpty ? nil : Double(flagged.intersection(malicious).count) / Double(flagged.count)
  }
  /// Share of attacking clients that were flagged (nil when none attacked).
  public var detectionRecall: Double? {
    malicious.isEmpty ? nil : Double(Set(flagged).intersection(malicious).count) / Double(malicious.count)
  }
  public var attackSuccessRate: Double? { metrics["attack_success_rate"] }
}

public struct SimulationError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Runs rounds of federated training: sample, train locally in parallel, screen, aggregate, apply, evaluate,
/// record. With a `directory`, every round is checkpointed atomically (global weights, the last change, the
/// records so far) and `resume` continues from the last finished round.
public struct Simulation<Scenario: FederatedScenario>: Sendable {
  public var scenario: Scenario
  public var aggregator: any Aggregator
  public var settings: SimulationSettings

  public init(scenario: Scenario, aggregator: any Aggregator, settings: SimulationSettings) {
    self.scenario = scenario
    self.aggregator = aggregator
    self.settings = settings
  }

  public struct State: Sendable {
    public var model: Scenario.Model
    public var records: [RoundRecord]
    public var previousGlobalChange: [Float]?
  }

  public func run(
    initial: Scenario.Model, directory: String? = nil, resume: Bool = false, onRound: (_ latest: RoundRecord, _ all: [RoundRecord]) -> Void = { _, _ in }
  ) throws -> State {
    precondition(settings.clientsPerRound >= 1 && settings.clientsPerRound <= scenario.clientCount, "clients per round must be 1 … \(scenario.clientCount)")
    var state = State(model: initial, records: [], previousGlobalChange: nil)
    var optimizer = ServerOptimizer(settings.serverOptimizer, learningRate: settings.serverLearningRate)
    let optimizerPrefix = "server_optimizer."
    if resume, let directory, let saved: (state: State, aggregatorState: [String: [Float]]) = try Checkpoint.load(from: directory, like: initial) {
      state = saved.state
      aggregator.restore(saved.aggregatorState.filter { !$0.key.hasPrefix(optimizerPrefix) })
      optimizer.restore(Dictionary(uniqueKeysWithValues: saved.aggregatorState.compactMap { key, value in
        key.hasPrefix(optimizerPrefix) ? (String(key.dropFirst(optimizerPrefix.count)), value) : nil
      }))
    }
    let parameterCount = initial.parameterCount
    let start = (state.records.last?.round ?? 0) + 1
    guard start <= settings.rounds else { return state }
    for round in start...settings.rounds {
      let globalVector = state.model.flattenedParameters
      let context = RoundContext(round: round, globalVector: globalVector, previousGlobalChange: state.previousGlobalChange)
      let sampled = sampleClients(
        round: round, count: settings.clientsPerRound, of: scenario.clientCount, forced: scenario.forcedClients(round: round), seed: settings.seed)
      let attacking = Set(sampled.filter { scenario.isAttacking(client: $0, round: round) })
      let trained = Self.trainClients(sampled, scenario: scenario, global: state.model, context: context, seed: settings.seed, jobs: settings.parallelClients)
      let updates = scenario.finalize(trained, attacking: attacking, context: context)
      let screened: (kept: [ClientUpdate], rejected: [Int])
      let result: AggregationResult
      do {
        screened = try screenUpdates(updates, parameterCount: parameterCount)
        if let judged = aggregator as? any ReferenceAggregator {
          var generator = SplitMix64(seed: settings.seed, stream: [0x524F_4F54, UInt64(round)])  // "ROOT"
          guard let reference = scenario.serverReferenceUpdate(global: state.model, context: context, generator: &generator) else {
            throw AggregationError.needsReference(rule: aggregator.name)
          }
          result = try judged.aggregate(screened.kept, reference: reference, round: round)
        } else if let prober = aggregator as? any ModelProbingAggregator {
          guard let differences = Self.divisionDifferences(screened.kept, prober: prober, scenario: scenario, global: state.model, round: round, seed: settings.seed)
          else { throw AggregationError.needsProbes(rule: aggregator.name) }
          result = try prober.aggregate(screened.kept, divisionDifferences: differences, round: round)
        } else {
          result = try aggregator.aggregate(screened.kept, round: round)
        }
      } catch {
        throw SimulationError("round \(round): \(error)")
      }
      let change = optimizer.change(for: result.delta, round: round)
      (aggregator as? any GlobalChangeObserver)?.observe(appliedChange: change, round: round)
      var next = globalVector
      ParameterVector.add(change, to: &next)
      state.model = state.model.loadingParameters(from: next)
      state.previousGlobalChange = change
      var verdicts = Dictionary(uniqueKeysWithValues: result.verdicts.map { (String($0.key), $0.value) })
      for client in screened.rejected { verdicts[String(client)] = .rejected }
      let evaluate = round == 1 || round == settings.rounds || round % max(settings.evaluateEvery, 1) == 0
      let record = RoundRecord(
        round: round, sampled: sampled, malicious: attacking.sorted(), rejected: screened.rejected.sorted(), verdicts: verdicts,
        updateNorms: Dictionary(uniqueKeysWithValues: screened.kept.map { (String($0.client), ParameterVector.norm($0.delta)) }),
        globalChangeNorm: ParameterVector.norm(change), metrics: evaluate ? scenario.evaluate(state.model, round: round) : [:])
      state.records.append(record)
      if let directory {
        var saved = aggregator.persistentState
        for (key, value) in optimizer.persistentState { saved[optimizerPrefix + key] = value }
        try Checkpoint.save(state, aggregatorState: saved, to: directory)
      }
      onRound(record, state.records)
    }
    return state
  }
}

extension Simulation {
  /// Every update's division differences `[client][set][class]` against the global model (`ModelProbingAggregator`);
  /// set s of round r draws its inputs from (seed, "PROB", r, s). Nil when the scenario has no probe.
  static func divisionDifferences(
    _ updates: [ClientUpdate], prober: any ModelProbingAggregator, scenario: Scenario, global: Scenario.Model, round: Int, seed: UInt64
  ) -> [Int: [[Double]]]? {
    let globalVector = global.flattenedParameters
    var result: [Int: [[Double]]] = [:]
    for set in 0..<prober.probeSets {
      let inputs = SplitMix64(seed: seed, stream: [0x5052_4F42, UInt64(round), UInt64(set)])  // "PROB"
      var generator = inputs
      guard let reference = scenario.probeProbabilities(of: global, count: prober.probeInputs, generator: &generator) else { return nil }
      for update in updates {
        var local = globalVector
        ParameterVector.add(update.delta, to: &local)
        generator = inputs
        guard let probabilities = scenario.probeProbabilities(of: global.loadingParameters(from: local), count: prober.probeInputs, generator: &generator)
        else { return nil }
        result[update.client, default: []].append(divisionDifference(probabilities, over: reference))
      }
    }
    return result
  }

  /// Every sampled client's local work, `jobs` at a time; each client's generator comes from (seed, round, client).
  static func trainClients(
    _ clients: [Int], scenario: Scenario, global: Scenario.Model, context: RoundContext, seed: UInt64, jobs: Int
  ) -> [ClientUpdate] {
    parallelMap(clients, jobs: jobs) { client in
      var generator = SplitMix64(seed: seed, stream: [0x434C_4E54, UInt64(context.round), UInt64(client)])  // "CLNT"
      return scenario.update(client: client, global: global, context: context, generator: &generator)
    }
  }
}

/// `xs.map(body)` with up to `jobs` elements at a time; results in input order.
public func parallelMap<Element: Sendable, Result: Sendable>(_ xs: [Element], jobs: Int, _ body: @Sendable (Element) -> Result) -> [Result] {
  let results = Mutex<[Int: Result]>([:])
  let next = Mutex(0)
  DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, xs.count))) { _ in
    while true {
      let index: Int = next.withLock { value in
        defer { value += 1 }
        return value
      }
      guard index < xs.count else { return }
      let result = body(xs[index])
      results.withLock { $0[index] = result }
    }
  }
  return results.withLock { stored in xs.indices.map { stored[$0]! } }
}

/// The files of a checkpointed run: `checkpoint.safetensors` (global weights and the last change) and
/// `checkpoint.json` (the round records so far), each replaced atomically; the JSON is written last and
/// names the round its weights belong to, so a kill at any moment leaves a consistent pair or the previous one.
enum Checkpoint {
  struct Manifest: Codable {
    var round: Int
    var weightsFile: String
    var records: [RoundRecord]
    enum CodingKeys: String, CodingKey { case round, weightsFile = "weights_file", records }
  }

  static func save<Scenario: FederatedScenario>(_ state: Simulation<Scenario>.State, aggregatorState: [String: [Float]], to directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let round = state.records.last?.round ?? 0
    let weightsFile = "checkpoint-\(round).safetensors"
    var tensors: [(name: String, tensor: Tensor)] = [("global", Tensor(shape: [state.model.parameterCount], scalars: state.model.flattenedParameters))]
    if let change = state.previousGlobalChange { tensors.append(("previous_change", Tensor(shape: [change.count], scalars: change))) }
    for (key, value) in aggregatorState.sorted(by: { $0.key < $1.key }) { tensors.append(("aggregator." + key, Tensor(shape: [value.count], scalars: value))) }
    do { try Safetensors.write(tensors, metadata: ["round": String(round)], to: directory + "/" + weightsFile) } catch {
      throw SimulationError("\(directory)/\(weightsFile): \(error.problem)")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try encoder.encode(Manifest(round: round, weightsFile: weightsFile, records: state.records))
      .write(to: URL(fileURLWithPath: directory + "/checkpoint.json"), options: .atomic)
    // Older weights are no longer referenced.
    for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    where file.hasPrefix("checkpoint-") && file.hasSuffix(".safetensors") && file != weightsFile {
      try? FileManager.default.removeItem(atPath: directory + "/" + file)
    }
  }

  /// The run's state and the aggregation rule's (the `aggregator.` tensors), or nil without a checkpoint.
  static func load<Scenario: FederatedScenario>(
    from directory: String, like model: Scenario.Model
  ) throws -> (state: Simulation<Scenario>.State, aggregatorState: [String: [Float]])? {
    let manifestPath = directory + "/checkpoint.json"
    guard let data = FileManager.default.contents(atPath: manifestPath) else { return nil }
    let manifest: Manifest
    do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch { throw SimulationError("\(manifestPath): unreadable checkpoint (\(error))") }
    let weightsPath = directory + "/" + manifest.weightsFile
    let file: Safetensors.File
    do { file = try Safetensors.read(from: weightsPath) } catch { throw SimulationError("\(weightsPath): \(error.problem)") }
    guard let global = file["global"], global.scalarCount == model.parameterCount else {
      throw SimulationError("\(weightsPath): no 'global' tensor of \(model.parameterCount) scalars (a checkpoint of another model?)")
    }
    let change = file["previous_change"].map(\.scalars)
    let aggregatorState = Dictionary(
      uniqueKeysWithValues: file.tensors.filter { $0.name.hasPrefix("aggregator.") }.map { (String($0.name.dropFirst("aggregator.".count)), $0.tensor.scalars) })
    return (
      Simulation<Scenario>.State(model: model.loadingParameters(from: global.scalars), records: manifest.records, previousGlobalChange: change),
      aggregatorState
    )
  }
}
