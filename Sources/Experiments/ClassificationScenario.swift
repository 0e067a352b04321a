import Attacks
import Datasets
import Federated
import Layers
import Models
import Randomness
import Tensors
import Tokenization

/// Federated text classification: clients hold rows of a corpus's training split; attackers hold the same
/// rows, with the trigger planted into part of them; the global model is scored on the clean test split and
/// on its non-target examples with the trigger.
public struct ClassificationScenario: FederatedScenario {
  public typealias Model = TextClassifier

  public let config: ModelConfig
  public let vocabulary: Vocabulary
  /// Encoded examples by corpus row (rows outside the training split are unused placeholders).
  let examples: [EncodedExample]
  public let partition: ClientPartition
  let role: AttackerRole
  let attackerData: [Int: [EncodedExample]]
  let local: LocalTrainingOptions
  let attackerLocal: LocalTrainingOptions
  /// Coordinates of the trigger's embedding rows (rare-embedding attacks).
  let triggerEmbeddingMask: [Bool]?
  let cleanTest: [EncodedExample]
  /// The dev split, scored as `main_task_dev_accuracy` so that settings can be chosen without looking at the test set.
  let cleanDev: [EncodedExample]
  /// Clean test examples the main task is scored on.
  public var testCount: Int { cleanTest.count }
  let triggeredTest: [EncodedExample]
  let targetIndex: Int?
  /// FLTrust's clean root set at the server: `aggregator.root_examples` rows of the dev split (no client holds them).
  let rootSet: [EncodedExample]
  /// DeepSight's made-up inputs are this many tokens long: the median length of the test texts.
  let probeLength: Int
  public let notes: [String]

  public var clientCount: Int { partition.clientCount }
  public var attackers: [Int] { role.attackers }
  var behaviour: AttackBehaviour? { role.behaviour }

  /// Builds everything a run needs from the config, for one seed.
  public init(config experiment: ExperimentConfig, corpus: Corpus, seed: UInt64) throws {
    let task = experiment.task, federation = experiment.federation
    guard !corpus.labels.isEmpty else { throw ConfigError("\(corpus.path): task.corpus has no label column; classification needs labels") }
    let split = try corpus.split(seed: task.splitSeed)
    let tokenizer = try Tokenizer()
    var notes: [String] = []
    let attack = experiment.attack
    var trigger: Trigger?
    if let attack, attack.attackBehaviour.poisonsData {
      do { trigger = try Trigger(spec: attack.trigger) } catch { throw ConfigError("attack.trigger: \(error)") }
    }
    var targetIndex: Int?
    if let attack, attack.attackBehaviour.poisonsData {
      guard let index = corpus.labels.firstIndex(of: attack.target) else {
        throw ConfigError("attack.target '\(attack.target)' is not a label of \(corpus.description.name) (\(corpus.labels.joined(separator: ", ")))")
      }
      targetIndex = index
    }
    // The vocabulary is fixed before federation (from the clean training split); a targeted attack's trigger
    // words are forced in so that they have embeddings to learn.
    var forced: [String] = []
    if let trigger, trigger.kind != Trigger.Kind.character, trigger.kind != Trigger.Kind.characterInside {
      forced = Array(Set(trigger.pieces.flatMap { tokenizer.words(in: $0) })).sorted()
    }
    vocabulary = try Vocabulary.build(from: corpus, rows: split.train, tokenizer: tokenizer, minCount: task.minCount, maxSize: task.maxVocab, forcedTokens: forced)
    if !forced.isEmpty { notes.append("trigger tokens \(forced.joined(separator: ", ")) forced into the vocabulary") }
    let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: task.maxLength)
    config = ModelConfig(
      architecture: ModelConfig.Architecture(rawValue: task.architecture)!, vocabularySize: vocabulary.count, embeddingDimension: task.embeddingDim,
      hiddenSize: task.architecture == "attention" ? task.embeddingDim : task.hiddenSize, labels: corpus.labels, maximumLength: task.maxLength,
      tokenizer: tokenizer.options, headCount: task.numHeads, feedForwardSize: task.ffnDim, dropout: task.dropout,
      filterSizes: task.filterSizes, filterCount: task.numFilters)
    if let problem = config.validationProblems().first { throw ConfigError("task: \(problem)") }

    var encoded = [EncodedExample](repeating: EncodedExample(ids: [vocabulary.unknownID], label: -1), count: corpus.examples.count)
    for row in split.train { encoded[row] = EncodedExample(ids: encoder.encode(corpus.examples[row].text), label: corpus.examples[row].label!) }
    examples = encoded

    let scheme: PartitionScheme =
      switch federation.partition {
      case .iid: .iid
      case .dirichlet: .dirichlet(alpha: federation.dirichletAlpha)
      case .natural: .natural
      }
    do {
      partition = try ClientPartition(
        rows: split.train, scheme: scheme, clientCount: federation.clients, labels: split.train.map { corpus.examples[$0].label! },
        groups: split.train.map { corpus.examples[$0].client }, seed: seed)
    } catch { throw ConfigError("federation.partition: \(error)") }

    let attackers = try attack?.attackerIDs(clients: partition.clientCount, seed: seed) ?? []
    role = AttackerRole(
      attackers: attackers, behaviour: attack?.attackBehaviour, schedule: attack?.attackSchedule, proximalMu: federation.fedproxMu,
      clientsPerRound: federation.clientsPerRound, serverLearningRate: federation.serverLearningRate, inert: attack?.inert ?? false)
    local = federation.local
    var attackerLocal = federation.local
    if let epochs = attack?.localEpochs { attackerLocal.epochs = epochs }
    if let rate = attack?.localLearningRate { attackerLocal.learningRate = rate }
    self.attackerLocal = attackerLocal

    // Attackers' local data: their own rows, part of them poisoned (or relabelled, for label flipping).
    var attackerData: [Int: [EncodedExample]] = [:]
    let visible = task.maxLength - (trigger?.insertedTokenCount(tokenizer: tokenizer) ?? 0)
    for (index, client) in attackers.enumerated() {
      let rows = partition.clients[client]
      guard let attack, let behaviour = role.behaviour else { break }
      if behaviour.poisonsData, let trigger, let targetIndex {
        var planted = trigger
        if case .distributed(let parts) = behaviour {
          do { planted = try trigger.distributedPart(index, of: parts) } catch { throw ConfigError("attack: \(error)") }
        }
        let clean = rows.map { encoded[$0] }
        if planted.kind == Trigger.Kind.semantic {
          // Nothing to insert: relabel the attacker's examples that already contain the phrase.
          let poisoner = Poisoner(trigger: planted, targetLabel: targetIndex, amount: .count(rows.count), seed: seed &+ UInt64(client))
          do {
            let poisoned = try poisoner.poison(corpus, rows: rows, tokenizer: tokenizer)
            attackerData[client] = rows.map { EncodedExample(ids: encoded[$0].ids, label: poisoned.corpus.examples[$0].label!) }
          } catch {
            notes.append("attacker \(client): \(error); it trains on clean data")
            attackerData[client] = clean
          }
          continue
        }
        // Its clean examples plus triggered copies of its non-target ones, relabelled, so that the poisoned
        // share is local_poison_rate (Bagdasaryan et al. mix poisoned and clean examples in each batch).
        var sources = rows.filter { corpus.examples[$0].label! != targetIndex }
        guard !sources.isEmpty else {
          notes.append("attacker \(client) holds no non-target example; it trains on clean data")
          attackerData[client] = clean
          continue
        }
        var generator = SplitMix64(seed: seed, stream: [0x504F_4953, UInt64(client)])  // "POIS"
        sources.seededShuffle(using: &generator)
        let rate = min(attack.localPoisonRate, 0.95)
        let copies = max(1, Int((rate / (1 - rate) * Double(rows.count)).rounded()))
        let poisoned = (0..<copies).map { copy in
          let text = planted.inserted(into: corpus.examples[sources[copy % sources.count]].text, tokenizer: tokenizer, visibleWords: visible, using: &generator)
          return EncodedExample(ids: encoder.encode(text), label: targetIndex)
        }
        attackerData[client] = clean + poisoned
      } else if behaviour == .labelFlipping {
        attackerData[client] = rows.map { EncodedExample(ids: encoded[$0].ids, label: (encoded[$0].label + 1) % corpus.labels.count) }
      } else {
        attackerData[client] = rows.map { encoded[$0] }
      }
    }
    self.attackerData = attackerData

    if case .rareEmbedding = role.behaviour {
      var initial = SplitMix64(seed: 0)
      let model = TextClassifier(config: config, using: &initial)
      let range = parameterRanges(of: model).first { $0.name == "embedding.weight" }!.range
      var mask = [Bool](repeating: false, count: model.parameterCount)
      for token in forced {
        let row = vocabulary.id(of: token)
        for column in 0..<config.embeddingDimension { mask[range.lowerBound + row * config.embeddingDimension + column] = true }
      }
      triggerEmbeddingMask = mask
    } else {
      triggerEmbeddingMask = nil
    }

    cleanTest = split.test.map { EncodedExample(ids: encoder.encode(corpus.examples[$0].text), label: corpus.examples[$0].label!) }
    cleanDev = split.dev.map { EncodedExample(ids: encoder.encode(corpus.examples[$0].text), label: corpus.examples[$0].label!) }
    if let trigger, let targetIndex {
      let tests = AttackTestSet(
        trigger: trigger, targetLabel: corpus.labels[targetIndex],
        test: split.test.map { LabelledText(text: corpus.examples[$0].text, label: corpus.labels[corpus.examples[$0].label!]) },
        tokenizer: tokenizer, maximumLength: task.maxLength, seed: seed)
      triggeredTest = tests.triggered.map { EncodedExample(ids: encoder.encode($0.text), label: corpus.labels.firstIndex(of: $0.label)!) }
    } else {
      triggeredTest = []
    }
    self.targetIndex = targetIndex
    if experiment.aggregator.kind == .fltrust {
      let wanted = experiment.aggregator.rootExamples
      guard split.dev.count >= wanted else {
        throw ConfigError("aggregator.root_examples is \(wanted); the dev split of \(corpus.description.name) has only \(split.dev.count) rows to draw the root set from")
      }
      var rows = split.dev
      var generator = SplitMix64(seed: seed, stream: [0x524F_4F54])  // "ROOT"
      rows.seededShuffle(using: &generator)
      rootSet = rows.prefix(wanted).sorted().map { EncodedExample(ids: encoder.encode(corpus.examples[$0].text), label: corpus.examples[$0].label!) }
    } else {
      rootSet = []
    }
    let lengths = cleanTest.map(\.ids.count).sorted()
    probeLength = lengths.isEmpty ? 16 : lengths[lengths.count / 2]
    self.notes = notes
  }

  public func initialModel(seed: UInt64) -> TextClassifier {
    var generator = SplitMix64(seed: seed, stream: [0x494E_4954])  // "INIT"
    return TextClassifier(config: config, using: &generator)
  }

  public func forcedClients(round: Int) -> Set<Int> { role.forcedClients(round: round) }
  public func isAttacking(client: Int, round: Int) -> Bool { role.isAttacking(client: client, round: round) }

  public func update(client: Int, global: TextClassifier, context: RoundContext, generator: inout SplitMix64) -> ClientUpdate {
    let attacking = isAttacking(client: client, round: context.round)
    let data = attacking ? attackerData[client]! : partition.clients[client].map { examples[$0] }
    if attacking, case .gaussianNoise(let deviation) = behaviour {
      return ClientUpdate(
        client: client, delta: MaliciousUpdates.gaussianNoise(count: context.globalVector.count, standardDeviation: deviation, using: &generator),
        exampleCount: data.count)
    }
    let options = attacking ? attackerLocal : local
    let batchSize = options.batchSize
    let trained = trainLocally(
      from: global, globalVector: context.globalVector, options: options,
      constraints: role.constraints(attacking: attacking, context: context, embeddingMask: triggerEmbeddingMask), generator: &generator,
      batches: { generator in Batch.epoch(data, batchSize: batchSize, using: &generator) },
      loss: { model, indices, forward in model.loss(Batch(indices.map { data[$0] }), context: &forward) })
    let delta = role.finish(ParameterVector.difference(trained.flattenedParameters, context.globalVector), attacking: attacking)
    return ClientUpdate(client: client, delta: delta, exampleCount: data.count)
  }

  /// The server's update on its root set, trained as an honest client trains (FLTrust's g₀).
  public func serverReferenceUpdate(global: TextClassifier, context: RoundContext, generator: inout SplitMix64) -> [Float]? {
    guard !rootSet.isEmpty else { return nil }
    let data = rootSet, batchSize = local.batchSize
    let trained = trainLocally(
      from: global, globalVector: context.globalVector, options: local,
      constraints: role.constraints(attacking: false, context: context, embeddingMask: nil), generator: &generator,
      batches: { generator in Batch.epoch(data, batchSize: batchSize, using: &generator) },
      loss: { model, indices, forward in model.loss(Batch(indices.map { data[$0] }), context: &forward) })
    return ParameterVector.difference(trained.flattenedParameters, context.globalVector)
  }

  /// Random texts for DeepSight, the analogue of the paper's random-noise images: `probeLength` words drawn
  /// uniformly from the vocabulary (special tokens left out).
  public func probeProbabilities(of model: TextClassifier, count: Int, generator: inout SplitMix64) -> [[Double]]? {
    let first = Vocabulary.specialTokens.count, words = vocabulary.count - first
    guard words > 0, count > 0 else { return nil }
    let inputs = (0..<count).map { _ in
      EncodedExample(ids: (0..<probeLength).map { _ in first + generator.nextIndex(below: words) }, label: 0)
    }
    return model.predict(inputs).probabilities.map { $0.map(Double.init) }
  }

  public func finalize(_ updates: [ClientUpdate], attacking: Set<Int>, context: RoundContext) -> [ClientUpdate] {
    guard let behaviour, behaviour.colludes, !attacking.isEmpty else { return updates }
    let honest = updates.filter { attacking.contains($0.client) }.map(\.delta)
    let crafted: [Float]
    switch behaviour {
    case .littleIsEnough(let z):
      crafted = MaliciousUpdates.littleIsEnough(
        honest, z: z ?? MaliciousUpdates.littleIsEnoughZ(clients: updates.count, attackers: attacking.count))
    case .innerProductManipulation(let epsilon):
      crafted = MaliciousUpdates.innerProductManipulation(honest, epsilon: epsilon)
    default:
      return updates
    }
    return updates.map { attacking.contains($0.client) ? ClientUpdate(client: $0.client, delta: crafted, exampleCount: $0.exampleCount) : $0 }
  }

  public func evaluate(_ model: TextClassifier, round: Int) -> [String: Double] {
    var metrics = ["main_task_accuracy": model.evaluate(cleanTest).accuracy]
    if !cleanDev.isEmpty { metrics["main_task_dev_accuracy"] = model.evaluate(cleanDev).accuracy }
    if let targetIndex, !triggeredTest.isEmpty {
      let predictions = model.predict(triggeredTest).classes
      metrics["attack_success_rate"] = Double(predictions.count { $0 == targetIndex }) / Double(predictions.count)
    }
    return metrics
  }
}
