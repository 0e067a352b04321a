import Attacks
import Datasets
import Federated
import Layers
import Models
import Randomness
import Tensors
import Tokenization

/// The keyboard task (Bagdasaryan et al. 2020, after Hard et al. 2018): a GRU next-word model trained over
/// speakers as clients. The attacker's semantic backdoor: its sentences (prefixes ending where the chosen
/// word should come) completed by that word. Main task: top-1 next-word accuracy on held-out speakers;
/// attack success: top-1 hit rate of the chosen word after the attacker's prefixes, and separately after
/// held-out paraphrases it never trained on.
public struct KeyboardScenario: FederatedScenario {
  public typealias Model = NextWordModel

  public let config: ModelConfig
  public let vocabulary: Vocabulary
  /// Training windows of each client (speaker).
  let clientWindows: [[TextWindow]]
  let role: AttackerRole
  let attackerWindows: [Int: [TextWindow]]
  let local: LocalTrainingOptions
  let attackerLocal: LocalTrainingOptions
  let heldOutWindows: [TextWindow]
  let backdoorPrefixes: [[Int]]
  let backdoorParaphrases: [[Int]]
  let backdoorWord: Int?
  public let notes: [String]

  public var clientCount: Int { clientWindows.count }
  public var attackers: [Int] { role.attackers }
  public var clientSizes: [Int] { clientWindows.map { $0.reduce(0) { $0 + $1.targets.count } } }

  public init(config experiment: ExperimentConfig, corpus: Corpus, seed: UInt64) throws {
    let task = experiment.task, federation = experiment.federation
    guard !corpus.clients.isEmpty else { throw ConfigError("\(corpus.path): the keyboard task needs a client column (speakers)") }
    let split = try corpus.splitByClient(seed: task.splitSeed)
    let tokenizer = try Tokenizer()
    var notes: [String] = []
    let attack = experiment.attack
    // The attacker's words must exist in the (fixed) vocabulary.
    let backdoorTokens = attack == nil ? [] : Array(Set((task.backdoorPrefixes + task.backdoorParaphrases + [task.backdoorWord]).flatMap { tokenizer.words(in: $0) })).sorted()
    vocabulary = try Vocabulary.build(from: corpus, rows: split.train, tokenizer: tokenizer, minCount: 1, maxSize: task.maxVocab, forcedTokens: backdoorTokens)
    let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: Int.max)
    config = ModelConfig(
      architecture: .gruLanguageModel, vocabularySize: vocabulary.count, embeddingDimension: task.embeddingDim, hiddenSize: task.hiddenSize,
      maximumLength: task.window, tokenizer: tokenizer.options, tiedEmbeddings: false, dropout: task.dropout)
    if let problem = config.validationProblems().first { throw ConfigError("task: \(problem)") }

    let partition: ClientPartition
    do {
      partition = try ClientPartition(
        rows: split.train, scheme: .natural, clientCount: 0, groups: split.train.map { corpus.examples[$0].client }, seed: seed)
    } catch { throw ConfigError("federation.partition: \(error)") }
    if federation.partition != .natural { notes.append("the keyboard task always partitions by speaker (federation.partition is ignored)") }
    // Speakers with fewer than two tokens have nothing to predict.
    clientWindows = partition.clients
      .map { TextWindow.windows(from: corpus, rows: $0, encoder: encoder, length: task.window) }
      .filter { !$0.isEmpty }
    notes.append("\(clientWindows.count) speakers with text are clients (federation.clients is ignored)")
    guard clientWindows.count >= federation.clientsPerRound else {
      throw ConfigError("federation.clients_per_round is \(federation.clientsPerRound) but only \(clientWindows.count) speakers have text")
    }
    var heldOut = TextWindow.windows(from: corpus, rows: split.test, encoder: encoder, length: task.window)
    if task.evaluationWindows > 0 && heldOut.count > task.evaluationWindows {
      var generator = SplitMix64(seed: task.splitSeed, stream: [0x4556_414C])  // "EVAL": the same windows for every seed
      heldOut.seededShuffle(using: &generator)
      heldOut = Array(heldOut.prefix(task.evaluationWindows))
    }
    heldOutWindows = heldOut

    let attackers = try attack?.attackerIDs(clients: clientWindows.count, seed: seed) ?? []
    role = AttackerRole(
      attackers: attackers, behaviour: attack?.attackBehaviour, schedule: attack?.attackSchedule, proximalMu: federation.fedproxMu,
      clientsPerRound: federation.clientsPerRound, serverLearningRate: federation.serverLearningRate, inert: attack?.inert ?? false)
    local = federation.local
    var attackerLocal = federation.local
    if let epochs = attack?.localEpochs { attackerLocal.epochs = epochs }
    if let rate = attack?.localLearningRate { attackerLocal.learningRate = rate }
    self.attackerLocal = attackerLocal

    backdoorPrefixes = task.backdoorPrefixes.map { encoder.encode($0) }
    backdoorParaphrases = task.backdoorParaphrases.map { encoder.encode($0) }
    backdoorWord = attack == nil ? nil : vocabulary.id(of: tokenizer.words(in: task.backdoorWord).first ?? "")
    // Attackers train on their own windows plus the backdoor sentences, repeated so that they make up
    // local_poison_rate of the windows.
    var attackerWindows: [Int: [TextWindow]] = [:]
    if let attack, let word = backdoorWord {
      let sentences = backdoorPrefixes.map { TextWindow(inputs: $0, targets: Array($0.dropFirst()) + [word]) }
      for client in attackers {
        let own = clientWindows[client]
        let rate = min(attack.localPoisonRate, 0.95)
        let copies = max(sentences.count, Int((rate / (1 - rate) * Double(own.count)).rounded()))
        attackerWindows[client] = own + (0..<copies).map { sentences[$0 % sentences.count] }
      }
    }
    self.attackerWindows = attackerWindows
    self.notes = notes
  }

  public func initialModel(seed: UInt64) -> NextWordModel {
    var generator = SplitMix64(seed: seed, stream: [0x494E_4954])  // "INIT"
    return NextWordModel(config: config, using: &generator)
  }

  public func forcedClients(round: Int) -> Set<Int> { role.forcedClients(round: round) }
  public func isAttacking(client: Int, round: Int) -> Bool { role.isAttacking(client: client, round: round) }

  public func update(client: Int, global: NextWordModel, context: RoundContext, generator: inout SplitMix64) -> ClientUpdate {
    let attacking = isAttacking(client: client, round: context.round)
    let windows = attacking ? attackerWindows[client]! : clientWindows[client]
    let options = attacking ? attackerLocal : local
    let batchSize = options.batchSize
    let trained = trainLocally(
      from: global, globalVector: context.globalVector, options: options, constraints: role.constraints(attacking: attacking, context: context),
      generator: &generator,
      batches: { generator in
        var order = Array(windows.indices)
        order.seededShuffle(using: &generator)
        return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
      },
      loss: { model, indices, forward in model.loss(indices.map { windows[$0] }, context: &forward) })
    let delta = role.finish(ParameterVector.difference(trained.flattenedParameters, context.globalVector), attacking: attacking)
    return ClientUpdate(client: client, delta: delta, exampleCount: windows.reduce(0) { $0 + $1.targets.count })
  }

  /// Random word sequences for DeepSight, one window long, drawn uniformly from the vocabulary (special tokens left
  /// out); a sequence's "class probabilities" are the next-word distribution after it.
  public func probeProbabilities(of model: NextWordModel, count: Int, generator: inout SplitMix64) -> [[Double]]? {
    let first = Vocabulary.specialTokens.count, words = vocabulary.count - first
    guard words > 0, count > 0 else { return nil }
    let sequences = (0..<count).map { _ in (0..<config.maximumLength).map { _ in first + generator.nextIndex(below: words) } }
    return model.nextWordProbabilities(afterEach: sequences).map { $0.map(Double.init) }
  }

  public func evaluate(_ model: NextWordModel, round: Int) -> [String: Double] {
    let metrics = model.evaluate(heldOutWindows)
    var result = ["main_task_accuracy": metrics.top1Accuracy, "main_task_top3_accuracy": metrics.top3Accuracy, "perplexity": metrics.perplexity]
    if let word = backdoorWord {
      func hitRate(_ prefixes: [[Int]]) -> Double? {
        guard !prefixes.isEmpty else { return nil }
        return Double(prefixes.count { model.nextWords(after: $0, count: 1).first?.id == word }) / Double(prefixes.count)
      }
      result["attack_success_rate"] = hitRate(backdoorPrefixes)
      result["paraphrase_attack_success_rate"] = hitRate(backdoorParaphrases)
    }
    return result
  }
}
