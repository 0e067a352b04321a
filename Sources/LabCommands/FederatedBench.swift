import ArgumentParser
import Defenses
import Federated
import Foundation
import Layers
import Models
import Randomness
import Tensors

/// `fl_round.py`'s clients: each holds random full-length sequences and trains the GRU classifier with plain
/// SGD (no clipping, no dropout) from the global weights.
struct FederatedRoundBenchScenario: FederatedScenario {
  typealias Model = TextClassifier
  let data: [[EncodedExample]]
  let options: LocalTrainingOptions
  var clientCount: Int { data.count }
  func forcedClients(round: Int) -> Set<Int> { [] }
  func isAttacking(client: Int, round: Int) -> Bool { false }
  func update(client: Int, global: TextClassifier, context: RoundContext, generator: inout SplitMix64) -> ClientUpdate {
    let examples = data[client]
    let batchSize = options.batchSize
    let trained = trainLocally(
      from: global, globalVector: context.globalVector, options: options, generator: &generator,
      batches: { generator in
        var order = Array(examples.indices)
        order.seededShuffle(using: &generator)
        return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
      },
      loss: { model, indices, context in model.loss(Batch(indices.map { examples[$0] }), context: &context) })
    return ClientUpdate(client: client, delta: ParameterVector.difference(trained.flattenedParameters, context.globalVector), exampleCount: examples.count)
  }
  func evaluate(_ model: TextClassifier, round: Int) -> [String: Double] { [:] }
}

extension BenchCommand {
  struct FederatedRoundBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "fl-round",
      abstract: "Seconds per federated round in the shape of benchmarks/reference/fl_round.py.",
      discussion: prose("""
        --clients clients × --samples random sequences of 48 tokens (vocabulary 20000), GRU classifier
        (E 64, H 128, mean pool, 2 classes), --local-epochs epochs of plain SGD (lr 0.05, batch 16) per client,
        FedAvg weighted by examples; median over --rounds rounds after one warm-up round. With N threads the
        lab trains N clients at once (one kernel thread each); PyTorch uses N intra-op threads.
        Example (scripts/bench-federated.sh runs it beside fl_round.py):
          backdoor-lab bench fl-round --clients 20 --rounds 3
        """))
    @Option var clients = 20
    @Option var samples = 200
    @Option var localEpochs = 2
    @Option var rounds = 3
    @Option(help: "Comma-separated thread counts.")
    var threads = "1"

    func run() throws {
      var generator = SplitMix64(seed: 0)
      let vocabulary = 20_000, length = 48
      let data = (0..<clients).map { _ in
        (0..<samples).map { _ in
          EncodedExample(ids: (0..<length).map { _ in 1 + generator.nextIndex(below: vocabulary - 1) }, label: generator.nextIndex(below: 2))
        }
      }
      var options = LocalTrainingOptions()
      options.epochs = localEpochs
      options.batchSize = 16
      options.learningRate = 0.05
      options.optimizer = .sgd
      options.gradientClipNorm = 0
      let config = ModelConfig(architecture: .gru, vocabularySize: vocabulary, embeddingDimension: 64, hiddenSize: 128, labels: ["a", "b"],
                               maximumLength: length, dropout: 0)
      let initial = TextClassifier(config: config, using: &generator)
      for threadCount in try positiveIntegers(threads, option: "--threads") {
        var settings = SimulationSettings()
        settings.rounds = rounds + 1
        settings.clientsPerRound = clients
        settings.parallelClients = threadCount
        let simulation = Simulation(
          scenario: FederatedRoundBenchScenario(data: data, options: options), aggregator: FederatedAveraging(), settings: settings)
        var stamps = [Date()]
        _ = try simulation.run(initial: initial) { _, _ in stamps.append(Date()) }
        let seconds = zip(stamps.dropFirst(2), stamps.dropFirst()).map { $0.timeIntervalSince($1) }.sorted()
        try printJSONLine([
          "bench": "fl_round", "threads": threadCount, "clients": clients, "samples": samples, "local_epochs": localEpochs,
          "params": initial.parameterCount, "local_steps_per_round": clients * localEpochs * ((samples + 15) / 16),
          "round_s_median": (seconds[seconds.count / 2] * 1000).rounded() / 1000, "round_s_all": seconds.map { ($0 * 1000).rounded() / 1000 },
        ])
      }
    }
  }
}

extension BenchCommand {
  struct AggregationBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "aggregate",
      abstract: "Seconds per aggregation over --clients updates of --params scalars (fl_round.py's aggregator timings).",
      discussion: prose("""
        Mean (FedAvg), coordinate-wise median (exact), trimmed mean (β 0.2) and Krum (f 4, Gram matrix); median of 5 calls, one thread.
        Example (scripts/bench-aggregate.sh runs it beside fl_round.py's aggregators):
          backdoor-lab bench aggregate --clients 20
        """))
    @Option var clients = 20
    @Option var params = 1_354_370

    func run() throws {
      var generator = SplitMix64(seed: 0)
      let updates = (0..<clients).map { client in
        ClientUpdate(client: client, delta: (0..<params).map { _ in Float(generator.nextStandardNormal()) * 0.01 }, exampleCount: 200)
      }
      func time(_ rule: any Aggregator) -> Double {
        medianSecondsPerCall(blockSeconds: 0, repeats: 5, warmup: 1) { _ = try! rule.aggregate(updates, round: 1) }
      }
      try printJSONLine([
        "bench": "aggregate", "clients": clients, "params": params,
        "mean_s": time(FederatedAveraging()), "median_exact_s": time(CoordinateMedian()), "trimmed_mean_s": time(TrimmedMean(beta: 0.2)),
        "krum_gram_s": time(Krum(assumedByzantine: 4)),
      ])
    }
  }
}
