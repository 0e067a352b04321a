import Attacks
import Defenses
import Federated
import Foundation
import Storage
import Randomness
import SecureAggregation
import Yams

/// A bad config: names the file, the key path and what is wrong.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// One federated experiment: the task, the federation, the attack (optional), the aggregation rule and
/// the seeds. JSON or YAML, snake_case keys; every key but `task.corpus` has a default; an unknown key or
/// a misspelled choice is an error naming it.
public struct ExperimentConfig: Codable, Equatable, Sendable {
  public var name = "experiment"
  public var task = TaskConfig()
  public var federation = FederationConfig()
  public var attack: AttackConfig?
  public var aggregator = AggregatorConfig()
  public var seeds: [UInt64] = [0, 1, 2]

  public init() {}

  enum CodingKeys: String, CodingKey, CaseIterable { case name, task, federation, attack, aggregator, seeds }

  public init(from decoder: any Decoder) throws {
    try rejectUnknownKeys(decoder, CodingKeys.self)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let defaults = ExperimentConfig()
    name = try c.decodeIfPresent(String.self, forKey: .name) ?? defaults.name
    task = try c.decodeIfPresent(TaskConfig.self, forKey: .task) ?? defaults.task
    federation = try c.decodeIfPresent(FederationConfig.self, forKey: .federation) ?? defaults.federation
    attack = try c.decodeIfPresent(AttackConfig.self, forKey: .attack)
    aggregator = try c.decodeIfPresent(AggregatorConfig.self, forKey: .aggregator) ?? defaults.aggregator
    seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? defaults.seeds
  }

  /// Reads `path` as YAML (.yaml, .yml) or JSON (anything else).
  public static func load(from path: String) throws(ConfigError) -> ExperimentConfig {
    guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError("\(path): cannot read the config") }
    let isYAML = path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    let config: ExperimentConfig
    // A key given twice would silently take its last value (JSONDecoder) or fail vaguely; name it. JSON is read as
    // YAML for this check only.
    do { _ = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch YamlError.duplicatedKeysInMapping(let duplicates, _) {
      throw ConfigError("\(path): a key is given twice in one mapping: \(duplicates.sorted().joined(separator: ", "))")
    } catch {
      // Other problems are reported by the decoder below, as for any config.
    }
    do {
      if isYAML {
        config = try YAMLDecoder().decode(ExperimentConfig.self, from: String(decoding: data, as: UTF8.self))
      } else {
        config = try JSONDecoder().decode(ExperimentConfig.self, from: data)
      }
    } catch let error as ConfigError {
      throw ConfigError("\(path): \(error.description)")
    } catch let error as DecodingError {
      // Yams wraps errors thrown by our decoders ("not valid YAML"): surface ours.
      if case .dataCorrupted(let context) = error, let inner = context.underlyingError as? ConfigError {
        throw ConfigError("\(path): \(inner.description)")
      }
      if case .dataCorrupted(let context) = error, let inner = context.underlyingError as? DecodingError {
        throw ConfigError("\(path): \(describe(inner))")
      }
      if case .dataCorrupted(let context) = error, let inner = context.underlyingError as? YamlError {
        throw ConfigError("\(path): not valid YAML (\(inner))")
      }
      throw ConfigError("\(path): \(describe(error))")
    } catch {
      throw ConfigError("\(path): not valid \(isYAML ? "YAML" : "JSON") (\(error))")
    }
    if let problem = config.validationProblems().first { throw ConfigError("\(path): \(problem)") }
    return config
  }

  /// This config with `path=value` overrides (`federation.rounds=10`, `attack.attacker_fraction=0.05`,
  /// `attack.trigger=rare:mb`): the value is read as JSON when it parses, else as a string; the result is
  /// decoded as strictly as a file.
  public func overriding(_ assignments: [String]) throws(ConfigError) -> ExperimentConfig {
    guard var root = (try? JSONSerialization.jsonObject(with: Data(json().utf8))) as? [String: Any] else { throw ConfigError("cannot re-read the config") }
    var config = self
    // One assignment at a time, so that a failure names the one that caused it.
    for assignment in assignments {
      guard let equals = assignment.firstIndex(of: "=") else { throw ConfigError("--set '\(assignment)': write KEY.PATH=VALUE") }
      let keys = assignment[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
      let text = String(assignment[assignment.index(after: equals)...])
      let value = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
      guard !keys.isEmpty, !keys.contains(where: \.isEmpty) else { throw ConfigError("--set '\(assignment)': an empty key") }
      func set(_ dictionary: [String: Any], _ keys: ArraySlice<String>) throws(ConfigError) -> [String: Any] {
        var copy = dictionary
        if keys.count == 1 {
          copy[keys.first!] = value
        } else {
          if let existing = copy[keys.first!], !(existing is [String: Any]) {
            throw ConfigError("--set '\(assignment)': '\(keys.first!)' holds a value, not keys")
          }
          copy[keys.first!] = try set(copy[keys.first!] as? [String: Any] ?? [:], keys.dropFirst())
        }
        return copy
      }
      root = try set(root, keys[...])
      do {
        config = try JSONDecoder().decode(ExperimentConfig.self, from: JSONSerialization.data(withJSONObject: root))
      } catch let error as ConfigError {
        throw ConfigError("--set '\(assignment)': \(error.description)")
      } catch let error as DecodingError {
        throw ConfigError("--set '\(assignment)': \(describe(error))")
      } catch {
        throw ConfigError("--set '\(assignment)': \(error)")
      }
    }
    if let problem = config.validationProblems().first { throw ConfigError("--set: \(problem)") }
    return config
  }

  public func json() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
  }

  /// YAML through the JSON form, so that numbers print as written (0.3, not 3e-1 or Float's 0.30000001…).
  public func yaml() -> String {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json().utf8)) else { return json() }
    return yamlLines(object, indent: "").joined(separator: "\n") + "\n"
  }

  /// The keys (dotted paths) whose values differ from the config stored in `stored` (its JSON form, read from
  /// `source`), leaving out what a resumed run may change: the name, the seed list, how many clients train at once,
  /// and the number of rounds when it grows.
  public func keysChanged(since stored: Data, source: String) throws(ConfigError) -> [String] {
    guard let changed = changedJSONKeys(stored, Data(json().utf8)) else { throw ConfigError("\(source): not a config the lab wrote") }
    // A key the stored config lacks was added to the lab after the run started; at its default it changes nothing.
    let storedKeys = Set(changedJSONKeys(Data("{}".utf8), stored) ?? [])
    let differFromDefault = Set(changedJSONKeys(Data(ExperimentConfig().json().utf8), Data(json().utf8)) ?? [])
    let free: Set<String> = ["name", "seeds", "federation.parallel_clients"]
    return changed.filter { key in
      guard !free.contains(key), storedKeys.contains(key) || differFromDefault.contains(key) else { return false }
      if key == "federation.rounds", let old = try? JSONSerialization.jsonObject(with: stored) as? [String: Any],
        let oldRounds = (old["federation"] as? [String: Any])?["rounds"] as? Int, federation.rounds >= oldRounds
      {
        return false
      }
      return true
    }
  }

  /// Problems that make the config unusable, each naming its key.
  public func validationProblems() -> [String] {
    var problems: [String] = []
    let f = federation
    if task.corpus.isEmpty { problems.append("task.corpus is required") }
    if f.clients < 1 { problems.append("federation.clients must be at least 1") }
    if f.clientsPerRound < 1 || f.clientsPerRound > f.clients { problems.append("federation.clients_per_round must be 1 … federation.clients (\(f.clients))") }
    if f.rounds < 1 || f.rounds > 1_000_000 { problems.append("federation.rounds must be 1 … 1000000") }
    if !(f.serverLearningRate > 0) { problems.append("federation.server_learning_rate must be positive") }
    problems += f.serverOptimizer.validationProblems(prefix: "federation.server_optimizer")
    if f.partition == .dirichlet && !(f.dirichletAlpha > 0) { problems.append("federation.dirichlet_alpha must be positive") }
    if f.local.epochs < 1 || f.local.batchSize < 1 || !(f.local.learningRate > 0) {
      problems.append("federation.local: epochs, batch_size and learning_rate must be positive")
    }
    if f.fedproxMu < 0 { problems.append("federation.fedprox_mu must not be negative") }
    if f.evaluateEvery < 1 { problems.append("federation.evaluate_every must be at least 1") }
    if f.parallelClients < 1 { problems.append("federation.parallel_clients must be at least 1") }
    if f.local.gradientClipNorm < 0 { problems.append("federation.local.gradient_clip_norm must not be negative (0: no clipping)") }
    if seeds.isEmpty { problems.append("seeds must name at least one seed") }
    // Infinity and NaN pass a `> 0` check; encoding names every key that holds one.
    do { _ = try JSONEncoder().encode(self) } catch let EncodingError.invalidValue(value, context) {
      problems.append("\(context.codingPath.map(\.stringValue).joined(separator: ".")) must be a finite number; got \(value)")
    } catch {
      problems.append("the config cannot be written back: \(error)")
    }
    problems += aggregator.validationProblems(clientsPerRound: f.clientsPerRound, weighting: f.weighting)
    if task.maxVocab < 5 { problems.append("task.max_vocab must be at least 5") }
    if task.kind == .keyboard {
      if task.window < 2 { problems.append("task.window must be at least 2") }
      if aggregator.kind == .fltrust { problems.append("aggregator fltrust needs a labelled root set; the keyboard task has none (use it with classification)") }
      if let attack {
        let supported: [AttackConfig.Behaviour] = [.naive, .modelReplacement, .constrainAndScale, .projectedGradientDescent, .neurotoxin]
        if !supported.contains(attack.behaviour) {
          problems.append("attack.behaviour \(attack.behaviour.rawValue) is not defined for the keyboard task (use one of \(supported.map(\.rawValue).joined(separator: ", ")))")
        }
        if task.backdoorPrefixes.isEmpty || task.backdoorWord.split(whereSeparator: \.isWhitespace).count != 1 {
          problems.append("a keyboard attack needs task.backdoor_prefixes and a one-word task.backdoor_word")
        }
      }
    }
    if let attack {
      // With speakers as clients the client count is only known once the corpus is read (checked then).
      let knownClients = f.partition == .natural || task.kind == .keyboard ? Int.max : f.clients
      problems += attack.validationProblems(clients: knownClients, rounds: f.rounds, needsTrigger: task.kind == .classification).map { "attack.\($0)" }
    }
    return problems
  }
}

public struct TaskConfig: Codable, Equatable, Sendable {
  /// classification: a labelled corpus and a classifier; keyboard: next-word prediction with speakers as clients.
  public enum Kind: String, Codable, CaseIterable, Sendable { case classification, keyboard }
  public var kind = Kind.classification
  public var corpus = ""
  /// bag, gru, lstm, cnn, attention or transformer (post-norm, ReLU) (classification; the keyboard task always uses the
  /// GRU language model).
  public var architecture = "gru"
  public var embeddingDim = 64
  public var hiddenSize = 128
  public var numHeads = 4
  public var ffnDim = 128
  /// CNN only: filter widths and filters per width.
  public var filterSizes = [3, 4, 5]
  public var numFilters = 100
  public var dropout: Float = 0.3
  public var maxLength = 48
  public var minCount = 2
  public var splitSeed: UInt64 = 0
  /// Keyboard task: tokens per training window.
  public var window = 32
  /// The vocabulary size limit (specials included), for both tasks.
  public var maxVocab = 10_000
  /// Keyboard task: the attacker's sentences, each ending where the chosen word should come; held-out
  /// paraphrases scored but never trained on; the word the attacker wants predicted.
  public var backdoorPrefixes: [String] = []
  public var backdoorParaphrases: [String] = []
  public var backdoorWord = ""
  /// Keyboard task: held-out speakers' windows scored at each evaluation (0: all).
  public var evaluationWindows = 1500

  public init() {}

  enum CodingKeys: String, CodingKey, CaseIterable {
    case window, maxVocab = "max_vocab", backdoorPrefixes = "backdoor_prefixes", backdoorParaphrases = "backdoor_paraphrases"
    case backdoorWord = "backdoor_word", evaluationWindows = "evaluation_windows"
    case kind, corpus, architecture, embeddingDim = "embedding_dim", hiddenSize = "hidden_size", numHeads = "num_heads", ffnDim = "ffn_dim"
    case filterSizes = "filter_sizes", numFilters = "num_filters"
    case dropout, maxLength = "max_length", minCount = "min_count", splitSeed = "split_seed"
  }

  public init(from decoder: any Decoder) throws {
    try rejectUnknownKeys(decoder, CodingKeys.self)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = TaskConfig()
    kind = try decodeChoice(c, .kind) ?? d.kind
    corpus = try c.decodeIfPresent(String.self, forKey: .corpus) ?? d.corpus
    architecture = try c.decodeIfPresent(String.self, forKey: .architecture) ?? d.architecture
    guard ["bag", "gru", "lstm", "cnn", "attention", "transformer"].contains(architecture) else {
      throw ConfigError("'\(path(c, .architecture))': '\(architecture)' is not one of bag, gru, lstm, cnn, attention, transformer")
    }
    embeddingDim = try c.decodeIfPresent(Int.self, forKey: .embeddingDim) ?? d.embeddingDim
    hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
    numHeads = try c.decodeIfPresent(Int.self, forKey: .numHeads) ?? d.numHeads
    ffnDim = try c.decodeIfPresent(Int.self, forKey: .ffnDim) ?? d.ffnDim
    filterSizes = try c.decodeIfPresent([Int].self, forKey: .filterSizes) ?? d.filterSizes
    numFilters = try c.decodeIfPresent(Int.self, forKey: .numFilters) ?? d.numFilters
    dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? d.dropout
    maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? d.maxLength
    minCount = try c.decodeIfPresent(Int.self, forKey: .minCount) ?? d.minCount
    splitSeed = try c.decodeIfPresent(UInt64.self, forKey: .splitSeed) ?? d.splitSeed
    window = try c.decodeIfPresent(Int.self, forKey: .window) ?? d.window
    maxVocab = try c.decodeIfPresent(Int.self, forKey: .maxVocab) ?? d.maxVocab
    backdoorPrefixes = try c.decodeIfPresent([String].self, forKey: .backdoorPrefixes) ?? d.backdoorPrefixes
    backdoorParaphrases = try c.decodeIfPresent([String].self, forKey: .backdoorParaphrases) ?? d.backdoorParaphrases
    backdoorWord = try c.decodeIfPresent(String.self, forKey: .backdoorWord) ?? d.backdoorWord
    evaluationWindows = try c.decodeIfPresent(Int.self, forKey: .evaluationWindows) ?? d.evaluationWindows
  }
}

public struct FederationConfig: Codable, Equatable, Sendable {
  public enum Partition: String, Codable, CaseIterable, Sendable { case iid, dirichlet, natural }
  public var clients = 50
  public var clientsPerRound = 10
  public var rounds = 50
  public var partition = Partition.iid
  public var dirichletAlpha = 0.5
  public var serverLearningRate: Float = 1
  /// How the server applies the aggregate: sgd (η·Δ), fedavgm, fedadagrad, fedadam or fedyogi; η is server_learning_rate.
  public var serverOptimizer = ServerOptimizerSettings()
  public var weighting = FederatedAveraging.Weighting.examples
  public var evaluateEvery = 1
  /// FedProx's μ for benign clients (0: plain FedAvg local training).
  public var fedproxMu: Float = 0
  public var local = LocalTrainingOptions()
  /// Clients trained at once; results do not depend on it.
  public var parallelClients = 2

  public init() {}

  enum CodingKeys: String, CodingKey, CaseIterable {
    case clients, clientsPerRound = "clients_per_round", rounds, partition, dirichletAlpha = "dirichlet_alpha"
    case serverLearningRate = "server_learning_rate", weighting, evaluateEvery = "evaluate_every", fedproxMu = "fedprox_mu", local
    case parallelClients = "parallel_clients", serverOptimizer = "server_optimizer"
  }

  public init(from decoder: any Decoder) throws {
    try rejectUnknownKeys(decoder, CodingKeys.self)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = FederationConfig()
    clients = try c.decodeIfPresent(Int.self, forKey: .clients) ?? d.clients
    clientsPerRound = try c.decodeIfPresent(Int.self, forKey: .clientsPerRound) ?? d.clientsPerRound
    rounds = try c.decodeIfPresent(Int.self, forKey: .rounds) ?? d.rounds
    partition = try decodeChoice(c, .partition) ?? d.partition
    dirichletAlpha = try c.decodeIfPresent(Double.self, forKey: .dirichletAlpha) ?? d.dirichletAlpha
    serverLearningRate = try c.decodeIfPresent(Float.self, forKey: .serverLearningRate) ?? d.serverLearningRate
    weighting = try decodeChoice(c, .weighting) ?? d.weighting
    evaluateEvery = try c.decodeIfPresent(Int.self, forKey: .evaluateEvery) ?? d.evaluateEvery
    fedproxMu = try c.decodeIfPresent(Float.self, forKey: .fedproxMu) ?? d.fedproxMu
    local = try c.decodeIfPresent(LocalSection.self, forKey: .local)?.options ?? d.local
    parallelClients = try c.decodeIfPresent(Int.self, forKey: .parallelClients) ?? d.parallelClients
    serverOptimizer = try c.decodeIfPresent(ServerOptimizerSection.self, forKey: .serverOptimizer)?.settings ?? d.serverOptimizer
  }
}

/// The `federation.server_optimizer` section, decoded strictly into `ServerOptimizerSettings`.
struct ServerOptimizerSection: Decodable {
  var settings = ServerOptimizerSettings()

  enum CodingKeys: String, CodingKey, CaseIterable { case kind, momentum, beta1 = "beta_1", beta2 = "beta_2", tau }

  init(from decoder: any Decoder) throws {
    try rejectUnknownKeys(decoder, CodingKeys.self)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = ServerOptimizerSettings()
    settings.kind = try decodeChoice(c, .kind) ?? d.kind
    settings.momentum = try c.decodeIfPresent(Double.self, forKey: .momentum) ?? d.momentum
    settings.beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? d.beta1
    settings.beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? d.beta2
    settings.tau = try c.decodeIfPresent(Double.self, forKey: .tau) ?? d.tau
  }
}

/// The `federation.local` section, decoded strictly into `LocalTrainingOptions`.
struct LocalSection: Decodable {
  var options = LocalTrainingOptions()

  enum CodingKeys: String, CodingKey, CaseIterable {
    case epochs, batchSize = "batch_size", learningRate = "learning_rate", optimizer, gradientClipNorm = "gradient_clip_norm"
  }

  init(from decoder: any Decoder) throws {
    try rejectUnknownKeys(decoder, CodingKeys.self)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    options.epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? options.epochs
    options.batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? options.batchSize
    options.learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? options.learningRate
    options.optimizer = try decodeChoice(c, .optimizer) ?? options.optimizer
    options.gradientClipNorm = try c.decodeIfPresent(Float.self, forKey: .gradientClipNorm) ?? options.gradientClipNorm
  }
}

public struct AttackConfig: Codable, Equatable, Sendable {
  public enum Behaviour: String, Codable, CaseIterable, Sendable {
    case naive, modelReplacement = "model_replacement", constrainAndScale = "constrain_and_scale", projectedGradientDescent = "pgd"
    case neurotoxin, distributed = "dba", rareEmbedding = "rare_embedding", labelFlipping = "label_flipping", signFlipping = "sign_flipping"
    case gaussianNoise = "gaussian_noise", littleIsEnough = "alie", innerProductManipulation = "ipm"
  }
  public enum ScheduleKind: String, Codable, CaseIterable, Sendable { case single, fixed, pool }

  public var behaviour = Behaviour.naive
  /// Who attacks: a count of clients, a fraction of them, or ids (exactly one; default one client).
  public var attackers: Int?
  public var attackerFraction: Double?
  public var attackerIds: [Int]?
  public var schedule = ScheduleKind.pool
  /// single: the round; fixed and pool: the first round.
  public var startRound = 1
  /// fixed: attack every this many rounds.
  public var every = 1
  /// fixed and pool: the last round with an attack (nil: to the end).
  public var untilRound: Int?
  /// Targeted attacks: trigger spec (see `Trigger`) and target label (classification).
  public var trigger = "rare:cf"
  public var target = ""
  /// Share of each attacker's training set made of triggered copies of its non-target examples,
  /// relabelled to the target (added to its clean examples; at most 0.95).
  public var localPoisonRate = 0.5
  /// The counterfactual run: the attackers are chosen and scheduled as configured (so the same clients train in the
  /// same rounds) and the triggered test inputs are scored, but they train honestly. Its ASR is the base rate of a
  /// model nobody attacked.
  public var inert = false
  /// Attackers' own local training (default: the federation's).
  public var localEpochs: Int?
  public var localLearningRate: Float?
  /// model_replacement, constrain_and_scale, rare_embedding: γ (default clients_per_round / η); neurotoxin: γ only
  /// when given (Neurotoxin's mask on a model-replacement attack).
  public var boost: Float?
  /// constrain_and_scale: α, the weight of the task loss.
  public var taskWeight: Float = 0.7
  /// pgd and neurotoxin: ε, the radius of the ball around the global model (neurotoxin: optional).
  public var radius: Double?
  /// neurotoxin: the top-k % of coordinates by last round's global change that the attacker leaves alone.
  public var topPercent = 5.0
  /// dba: how many parts the phrase is split into.
  public var parts = 2
  /// sign_flipping: the scale of the flipped update.
  public var scale: Float = 1
  /// gaussian_noise: σ per coordinate.
  public var noiseStandardDeviation: Float = 0.01
  /// alie: z (default from the number of clients and attackers).
  public var z: Float?
  /// ipm: ε.
  public var epsilon: Float = 0.5

  public init() {}

  enum CodingKeys: String, CodingKey, CaseIterable {
    case behaviour, attackers, attackerFraction = "attacker_fraction", attackerIds = "attacker_ids", schedule, startRound = "start_round", every
    case untilRound = "until_round", trigger, target, localPoisonRate = "local_poison_rate", localEpochs = "local_epochs"
    case localLearningRate = "local_learning_rate", boost, taskWeight = "task_weight", radius, topPercent = "top_percent", parts, scale
    case noiseStandardDeviation = "noise_std", z, epsilon, inert
  }

  public init(from decoder: any Decoder) throws {
    try rejectUnknownKeys(decoder, CodingKeys.self)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = AttackConfig()
    behaviour = try decodeChoice(c, .behaviour) ?? d.behaviour
    attackers = try c.decodeIfPresent(Int.self, forKey: .attackers)
    attackerFraction = try c.decodeIfPresent(Double.self, forKey: .attackerFraction)
    attackerIds = try c.decodeIfPresent([Int].self, forKey: .attackerIds)
    schedule = try decodeChoice(c, .schedule) ?? d.schedule
    startRound = try c.decodeIfPresent(Int.self, forKey: .startRound) ?? d.startRound
    every = try c.decodeIfPresent(Int.self, forKey: .every) ?? d.every
    untilRound = try c.decodeIfPresent(Int.self, forKey: .untilRound)
    trigger = try c.decodeIfPresent(String.self, forKey: .trigger) ?? d.trigger
    target = try c.decodeIfPresent(String.self, forKey: .target) ?? d.target
    inert = try c.decodeIfPresent(Bool.self, forKey: .inert) ?? d.inert
    localPoisonRate = try c.decodeIfPresent(Double.self, forKey: .localPoisonRate) ?? d.localPoisonRate
    localEpochs = try c.decodeIfPresent(Int.self, forKey: .localEpochs)
    localLearningRate = try c.decodeIfPresent(Float.self, forKey: .localLearningRate)
    boost = try c.decodeIfPresent(Float.self, forKey: .boost)
    taskWeight = try c.decodeIfPresent(Float.self, forKey: .taskWeight) ?? d.taskWeight
    radius = try c.decodeIfPresent(Double.self, forKey: .radius)
    topPercent = try c.decodeIfPresent(Double.self, forKey: .topPercent) ?? d.topPercent
    parts = try c.decodeIfPresent(Int.self, forKey: .parts) ?? d.parts
    scale = try c.decodeIfPresent(Float.self, forKey: .scale) ?? d.scale
    noiseStandardDeviation = try c.decodeIfPresent(Float.self, forKey: .noiseStandardDeviation) ?? d.noiseStandardDeviation
    z = try c.decodeIfPresent(Float.self, forKey: .z)
    epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? d.epsilon
  }

  /// The attacking client ids among `clients`, from the seed when given as a count or fraction.
  public func attackerIDs(clients: Int, seed: UInt64) throws(ConfigError) -> [Int] {
    if let ids = attackerIds {
      if let bad = ids.first(where: { $0 < 0 || $0 >= clients }) { throw ConfigError("attack.attacker_ids: \(bad) is not a client id (there are \(clients) clients)") }
      return Array(Set(ids)).sorted()
    }
    let count = attackers ?? attackerFraction.map { max(1, Int((Double(clients) * $0).rounded())) } ?? 1
    var generator = SplitMix64(seed: seed, stream: [0x4154_544B])  // "ATTK"
    var pool = Array(0..<clients)
    pool.seededShuffle(using: &generator)
    return pool.prefix(min(count, clients)).sorted()
  }

  public var attackSchedule: AttackSchedule {
    switch schedule {
    case .single: .single(round: startRound)
    case .fixed: .fixedFrequency(every: every, start: startRound, until: untilRound)
    case .pool: .randomPool(start: startRound, until: untilRound)
    }
  }

  public var attackBehaviour: AttackBehaviour {
    switch behaviour {
    case .naive: .naivePoisoning
    case .modelReplacement: .modelReplacement(boost: boost)
    case .constrainAndScale: .constrainAndScale(taskWeight: taskWeight, boost: boost)
    case .projectedGradientDescent: .projectedGradientDescent(radius: radius ?? 1)
    case .neurotoxin: .neurotoxin(topPercent: topPercent, radius: radius, boost: boost)
    case .distributed: .distributed(parts: parts)
    case .rareEmbedding: .rareEmbedding(boost: boost)
    case .labelFlipping: .labelFlipping
    case .signFlipping: .signFlipping(scale: scale)
    case .gaussianNoise: .gaussianNoise(standardDeviation: noiseStandardDeviation)
    case .littleIsEnough: .littleIsEnough(z: z)
    case .innerProductManipulation: .innerProductManipulation(epsilon: epsilon)
    }
  }

  func validationProblems(clients: Int, rounds: Int, needsTrigger: Bool) -> [String] {
    var problems: [String] = []
    let given = [attackers != nil, attackerFraction != nil, attackerIds != nil].filter { $0 }.count
    if given > 1 { problems.append("give one of attackers, attacker_fraction and attacker_ids") }
    if let attackers, attackers < 1 || attackers > clients { problems.append("attackers must be 1 … \(clients)") }
    if let ids = attackerIds, clients == Int.max, ids.isEmpty || ids.contains(where: { $0 < 0 }) { problems.append("attacker_ids must be client ids") }
    if let fraction = attackerFraction, !(fraction > 0 && fraction <= 1) { problems.append("attacker_fraction must be in (0, 1]") }
    if let ids = attackerIds, clients != Int.max, ids.isEmpty || ids.contains(where: { $0 < 0 || $0 >= clients }) {
      problems.append("attacker_ids must be client ids 0 … \(clients - 1)")
    }
    if startRound < 1 || startRound > rounds { problems.append("start_round must be 1 … \(rounds)") }
    if every < 1 { problems.append("every must be at least 1") }
    if let until = untilRound, until < startRound { problems.append("until_round must not be before start_round") }
    if attackBehaviour.poisonsData {
      if needsTrigger {
        do { _ = try Trigger(spec: trigger) } catch { problems.append("trigger: \(error.problem)") }
      }
      if !(localPoisonRate > 0 && localPoisonRate <= 1) { problems.append("local_poison_rate must be in (0, 1]") }
    }
    if behaviour == .projectedGradientDescent, radius == nil { problems.append("radius (ε) is required for pgd") }
    if let radius, !(radius > 0) { problems.append("radius must be positive") }
    if !(taskWeight > 0 && taskWeight <= 1) { problems.append("task_weight must be in (0, 1]") }
    if !(topPercent >= 0 && topPercent < 100) { problems.append("top_percent must be in [0, 100)") }
    if behaviour == .distributed, parts < 2 { problems.append("parts must be at least 2") }
    if !(noiseStandardDeviation >= 0) { problems.append("noise_std must not be negative") }
    if !(scale > 0) { problems.append("scale must be positive") }
    if let boost, !(boost > 0) { problems.append("boost must be positive") }
    if let localEpochs, localEpochs < 1 { problems.append("local_epochs must be at least 1") }
    if let rate = localLearningRate, !(rate > 0) { problems.append("local_learning_rate must be positive") }
    return problems
  }
}

/// The server's aggregation rule (`Defenses`), with its parameters.
public struct AggregatorConfig: Codable, Equatable, Sendable {
  public enum Kind: String, Codable, CaseIterable, Sendable {
    case fedavg, clipping, weakDifferentialPrivacy = "weak_dp", median, trimmedMean = "trimmed_mean", krum, multiKrum = "multi_krum", bulyan
    case geometricMedian = "geometric_median", centeredClipping = "centered_clipping", embeddingRows = "embedding_rows", flame
    case foolsGold = "foolsgold", fltrust, fldetector, deepsight, freqfed
  }
  public var kind = Kind.fedavg
  /// clipping and weak_dp: the L2 bound (clipping without it: the round's median norm).
  public var clipBound: Double?
  /// weak_dp: σ of the Gaussian noise added to every coordinate of the aggregate.
  public var noiseStd = 0.001
  /// trimmed_mean: the share cut from each end.
  public var beta = 0.2
  /// krum, multi_krum, bulyan: f, the number of Byzantine clients assumed.
  public var assumedByzantine = 1
  /// multi_krum: how many updates are averaged.
  public var keep = 5
  /// centered_clipping: τ.
  public var radius = 1.0
  /// embedding_rows: a client is excluded when its score exceeds factor × the round's median.
  public var factor = 4.0
  /// flame: λ, the noise level relative to the median update norm.
  public var noiseLevel = 0.001
  /// fltrust: the size of the server's clean root set, drawn from the corpus's dev split (the paper: 100).
  public var rootExamples = 100
  /// fldetector: how many past rounds its Hessian approximation and the clients' scores span (the paper: 10).
  public var window = 10
  /// deepsight: a cluster is rejected when at least this share of its members look suspicious (the paper: 1/3).
  public var tau = 1.0 / 3
  /// deepsight: how many sets of random texts probe the models (the division differences), and how many texts a set.
  public var probeSets = 3
  public var probeInputs = 500
  /// deepsight: HDBSCAN's minimum cluster size (its neighbourhood for core distances: this many other points).
  public var minClusterSize = 5
  /// Pairwise-masked secure aggregation: the server sees only the sum of the updates. Works with fedavg
  /// (uniform), clipping (done by the clients, fixed bound) and weak_dp (clients clip, the server adds noise).
  public var secure = false
  /// secure: the largest |coordinate| a client's update may hold; larger ones are clamped to it (and the client
  /// recorded as clamped). The fixed-point encoding's precision is about secure_range × clients / 2³¹.
  public var secureRange = 8.0

  public init() {}

  enum CodingKeys: String, CodingKey, CaseIterable {
    case kind, clipBound = "clip_bound", noiseStd = "noise_std", beta, assumedByzantine = "assumed_byzantine", keep, radius, factor
    case noiseLevel = "noise_level", secure, secureRange = "secure_range", rootExamples = "root_examples", window
    case tau, probeSets = "probe_sets", probeInputs = "probe_inputs", minClusterSize = "min_cluster_size"
  }

  public init(from decoder: any Decoder) throws {
    try rejectUnknownKeys(decoder, CodingKeys.self)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = AggregatorConfig()
    kind = try decodeChoice(c, .kind) ?? d.kind
    clipBound = try c.decodeIfPresent(Double.self, forKey: .clipBound)
    noiseStd = try c.decodeIfPresent(Double.self, forKey: .noiseStd) ?? d.noiseStd
    beta = try c.decodeIfPresent(Double.self, forKey: .beta) ?? d.beta
    assumedByzantine = try c.decodeIfPresent(Int.self, forKey: .assumedByzantine) ?? d.assumedByzantine
    keep = try c.decodeIfPresent(Int.self, forKey: .keep) ?? d.keep
    radius = try c.decodeIfPresent(Double.self, forKey: .radius) ?? d.radius
    factor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? d.factor
    noiseLevel = try c.decodeIfPresent(Double.self, forKey: .noiseLevel) ?? d.noiseLevel
    secure = try c.decodeIfPresent(Bool.self, forKey: .secure) ?? d.secure
    secureRange = try c.decodeIfPresent(Double.self, forKey: .secureRange) ?? d.secureRange
    rootExamples = try c.decodeIfPresent(Int.self, forKey: .rootExamples) ?? d.rootExamples
    window = try c.decodeIfPresent(Int.self, forKey: .window) ?? d.window
    tau = try c.decodeIfPresent(Double.self, forKey: .tau) ?? d.tau
    probeSets = try c.decodeIfPresent(Int.self, forKey: .probeSets) ?? d.probeSets
    probeInputs = try c.decodeIfPresent(Int.self, forKey: .probeInputs) ?? d.probeInputs
    minClusterSize = try c.decodeIfPresent(Int.self, forKey: .minClusterSize) ?? d.minClusterSize
  }

  /// Rules that only need the sum of the updates, so run under secure aggregation.
  public static let availableUnderSecureAggregation: [Kind] = [.fedavg, .clipping, .weakDifferentialPrivacy]

  func validationProblems(clientsPerRound: Int, weighting: FederatedAveraging.Weighting) -> [String] {
    var problems: [String] = []
    if secure {
      if !Self.availableUnderSecureAggregation.contains(kind) {
        let available = Self.availableUnderSecureAggregation.map(\.rawValue).joined(separator: ", ")
        problems.append(
          "aggregator \(kind.rawValue) needs the individual updates, which secure aggregation hides from the server; under secure: true only \(available) can run (clients clip, the server adds noise)")
      }
      if kind == .clipping && clipBound == nil { problems.append("aggregator.clip_bound is required for clipping under secure aggregation (the server cannot see the median norm)") }
      if weighting != .uniform { problems.append("secure aggregation averages uniformly; set federation.weighting: uniform") }
    }
    if let bound = clipBound, !(bound > 0) { problems.append("aggregator.clip_bound must be positive") }
    if kind == .weakDifferentialPrivacy && clipBound == nil { problems.append("aggregator.clip_bound is required for weak_dp") }
    if !(noiseStd >= 0) { problems.append("aggregator.noise_std must not be negative") }
    if !(beta >= 0 && beta < 0.5) { problems.append("aggregator.beta must be in [0, 0.5)") }
    if assumedByzantine < 0 { problems.append("aggregator.assumed_byzantine must not be negative") }
    if keep < 1 { problems.append("aggregator.keep must be at least 1") }
    if !(radius > 0) { problems.append("aggregator.radius must be positive") }
    if !(factor > 1) { problems.append("aggregator.factor must be above 1") }
    if !(noiseLevel >= 0) { problems.append("aggregator.noise_level must not be negative") }
    if !(secureRange > 0 && secureRange <= 1e6) { problems.append("aggregator.secure_range must be in (0, 1e6]") }
    if !(1...100_000).contains(rootExamples) { problems.append("aggregator.root_examples must be in 1…100000") }
    if !(1...100).contains(window) { problems.append("aggregator.window must be in 1…100") }
    if !(tau > 0 && tau <= 1) { problems.append("aggregator.tau must be in (0, 1]") }
    if !(1...10).contains(probeSets) { problems.append("aggregator.probe_sets must be in 1…10") }
    if !(1...20_000).contains(probeInputs) { problems.append("aggregator.probe_inputs must be in 1…20000") }
    if !(2...1_000).contains(minClusterSize) { problems.append("aggregator.min_cluster_size must be in 2…1000") }
    let needed: Int? =
      switch kind {
      case .krum: 2 * assumedByzantine + 3
      case .multiKrum: max(2 * assumedByzantine + 3, keep)
      case .bulyan: 4 * assumedByzantine + 3
      case .trimmedMean: 2 * Int(beta * Double(clientsPerRound)) + 1
      case .fldetector: 3  // the gap statistic needs three scores to compare
      case .deepsight: minClusterSize  // fewer could never form a cluster
      case .freqfed: 2  // a cluster of n/2 + 1 needs two updates to compare
      default: nil
      }
    if let needed, clientsPerRound < needed {
      problems.append("aggregator \(kind.rawValue) needs at least \(needed) updates a round; federation.clients_per_round is \(clientsPerRound)")
    }
    return problems
  }

  /// The rule; `embedding` locates the embedding matrix in the parameter vector (for embedding_rows), `output` the
  /// output layer (for deepsight), `parameterMatrices` every parameter tensor (for freqfed).
  public func makeAggregator(
    weighting: FederatedAveraging.Weighting, seed: UInt64, embedding: (range: Range<Int>, dimension: Int)?, output: OutputLayerLocation? = nil,
    parameterMatrices: [FreqFed.ParameterMatrix]? = nil
  ) -> any Aggregator {
    let average = FederatedAveraging(weighting: weighting)
    if secure {
      return SecureAggregation(
        clientClipBound: kind == .fedavg ? nil : clipBound, noiseStandardDeviation: kind == .weakDifferentialPrivacy ? noiseStd : 0, seed: seed,
        range: secureRange)
    }
    switch kind {
    case .fedavg: return average
    case .clipping: return NormClipping(bound: clipBound.map { .fixed($0) } ?? .median, inner: average)
    case .weakDifferentialPrivacy: return WeakDifferentialPrivacy(clipBound: clipBound ?? 1, noiseStandardDeviation: noiseStd, seed: seed, inner: average)
    case .median: return CoordinateMedian()
    case .trimmedMean: return TrimmedMean(beta: beta)
    case .krum: return Krum(assumedByzantine: assumedByzantine)
    case .multiKrum: return Krum(assumedByzantine: assumedByzantine, keep: keep)
    case .bulyan: return Bulyan(assumedByzantine: assumedByzantine)
    case .geometricMedian: return GeometricMedian()
    case .centeredClipping: return CenteredClipping(radius: radius)
    case .flame: return FLAME(noiseLevel: noiseLevel, seed: seed)
    case .foolsGold: return FoolsGold(seed: seed)
    case .fltrust: return FLTrust()
    case .fldetector: return FLDetector(window: window, seed: seed, weighting: weighting)
    case .deepsight: return DeepSight(output: output!, tau: tau, probeSets: probeSets, probeInputs: probeInputs, minimumClusterSize: minClusterSize)
    case .freqfed: return FreqFed(layout: parameterMatrices, weighting: weighting)
    case .embeddingRows:
      let located = embedding!
      return EmbeddingRowDetector(embeddingRange: located.range, dimension: located.dimension, factor: factor, inner: average)
    }
  }
}

// MARK: - Strict decoding

struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}

func path<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) -> String {
  (container.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
}

/// Fails on a key the type does not know, naming its full path and the closest known key.
func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type) throws {
  let raw = try decoder.container(keyedBy: AnyKey.self)
  let known = Keys.allCases.map(\.stringValue)
  for key in raw.allKeys.map(\.stringValue).sorted() where !known.contains(key) {
    let where_ = (decoder.codingPath.map(\.stringValue) + [key]).joined(separator: ".")
    let closest = known.min { editDistance($0, key) < editDistance($1, key) }
    let hint = closest.map { editDistance($0, key) <= max(2, key.count / 3) ? " (did you mean '\($0)'?)" : "" } ?? ""
    throw ConfigError("unknown key '\(where_)'\(hint); known keys here: \(known.joined(separator: ", "))")
  }
}

/// Decodes an enum by raw value, failing with the choices when the name is misspelled.
func decodeChoice<K: CodingKey, Choice: RawRepresentable & CaseIterable>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Choice?
where Choice.RawValue == String {
  guard let name = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
  guard let choice = Choice(rawValue: name) else {
    let names = Choice.allCases.map(\.rawValue)
    let closest = names.min { editDistance($0, name) < editDistance($1, name) }.map { " (did you mean '\($0)'?)" } ?? ""
    throw ConfigError("'\(path(c, key))': '\(name)' is not one of \(names.joined(separator: ", "))\(closest)")
  }
  return choice
}

func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a), b = Array(b)
  var previous = Array(0...b.count)
  for i in 1...max(a.count, 1) where !a.isEmpty {
    var current = [i] + [Int](repeating: 0, count: b.count)
    for j in 1...max(b.count, 1) where !b.isEmpty {
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return a.isEmpty ? b.count : previous[b.count]
}

func describe(_ error: DecodingError) -> String {
  switch error {
  case .dataCorrupted(let context):
    let key = context.codingPath.map(\.stringValue).joined(separator: ".")
    return key.isEmpty ? "not valid (\(context.debugDescription))" : "'\(key)': \(context.debugDescription)"
  case .keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
  case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
    return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))': expected \(type)"
  @unknown default: return "\(error)"
  }
}

/// Block-style YAML of a JSON object (dictionaries, arrays, strings, numbers, booleans, null).
func yamlLines(_ value: Any, indent: String) -> [String] {
  func scalar(_ value: Any) -> String? {
    switch value {
    case is NSNull: return "null"
    case let string as String:
      return String(decoding: try! JSONSerialization.data(withJSONObject: [string], options: [.fragmentsAllowed]), as: UTF8.self).dropFirst().dropLast().description
    case let bool as Bool where type(of: value) == Bool.self || "\(type(of: value))".contains("Boolean"):
      // JSON's true and false come back as Bool or as a boolean NSNumber (__NSCFBoolean on Linux).
      return bool ? "true" : "false"
    case let number as NSNumber:
      let double = number.doubleValue
      if double == double.rounded() && abs(double) < 1e15 { return String(Int64(double)) }
      // A Float setting comes through JSON widened (0.003 as 0.003000000026…): printed as the Float it is. A Double
      // that no Float holds exactly (1/3) is printed in full, so that it reads back the same.
      return Double(Float(double)) == double ? "\(Float(double))" : "\(double)"
    default: return nil
    }
  }
  if let dictionary = value as? [String: Any] {
    return dictionary.keys.sorted().flatMap { key -> [String] in
      let child = dictionary[key]!
      if let text = scalar(child) { return ["\(indent)\(key): \(text)"] }
      if let array = child as? [Any], array.isEmpty { return ["\(indent)\(key): []"] }
      if let nested = child as? [String: Any], nested.isEmpty { return ["\(indent)\(key): {}"] }
      return ["\(indent)\(key):"] + yamlLines(child, indent: indent + "  ")
    }
  }
  if let array = value as? [Any] {
    return array.flatMap { element -> [String] in
      if let text = scalar(element) { return ["\(indent)- \(text)"] }
      let lines = yamlLines(element, indent: indent + "  ")
      guard let first = lines.first else { return ["\(indent)- {}"] }
      return ["\(indent)- " + first.dropFirst(indent.count + 2)] + lines.dropFirst()
    }
  }
  return [indent + (scalar(value) ?? "null")]
}
