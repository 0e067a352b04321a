import Federated
import Foundation
import Layers
import Models
import Randomness
import Tensors

/// Seconds per federated round in the shape of benchmarks/reference/fl_round.py: `clients` clients × `samples`
/// random sequences of 48 tokens (vocabulary 20000), the GRU classifier (E 64, H 128, mean pool, 2 classes),
/// `localEpochs` epochs of plain SGD (lr 0.05, batch 16) per client, FedAvg weighted by examples; the median over
/// `rounds` rounds after one warm-up round. `threads` clients train at once (one kernel thread each).
public struct FederatedRoundBenchmark {
  public var clients = 20
  public var samples = 200
  public var localEpochs = 2
  public var rounds = 3
  public var threads = 1

  public init(clients: Int = 20, samples: Int = 200, localEpochs: Int = 2, rounds: Int = 3, threads: Int = 1) {
    (self.clients, self.samples, self.localEpochs, self.rounds, self.threads) = (clients, samples, localEpochs, rounds, threads)
  }

  public struct Result: BenchmarkRecord {
    public var benchmark: FederatedRoundBenchmark
    public var parameterCount: Int
    /// Seconds of each timed round, in order.
    public var roundSeconds: [Double]
    public var medianRoundSeconds: Double { roundSeconds.sorted()[roundSeconds.count / 2] }

    public var fields: [String: Any] {
      let b = benchmark
      return [
        "bench": "fl_round", "threads": b.threads, "clients": b.clients, "samples": b.samples, "local_epochs": b.localEpochs,
        "params": parameterCount, "local_steps_per_round": b.clients * b.localEpochs * ((b.samples + 15) / 16),
        "round_s_median": rounded(medianRoundSeconds, digits: 3), "round_s_all": roundSeconds.sorted().map { rounded($0, digits: 3) },
      ]
    }
  }

  public func run() throws -> Result {
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
    let config = ModelConfig(
      architecture: .gru, vocabularySize: vocabulary, embeddingDimension: 64, hiddenSize: 128, labels: ["a", "b"], maximumLength: length, dropout: 0)
    let initial = TextClassifier(config: config, using: &generator)
    var settings = SimulationSettings()
    settings.rounds = rounds + 1
    settings.clientsPerRound = clients
    settings.parallelClients = threads
    let simulation = Simulation(scenario: RandomSequenceClients(data: data, options: options), aggregator: FederatedAveraging(), settings: settings)
    var stamps = [Date()]
    _ = try simulation.run(initial: initial) { _, _ in stamps.append(Date()) }
    // The first round warms up; each later one is timed from the end of the one before.
    let seconds = zip(stamps.dropFirst(2), stamps.dropFirst()).map { $0.timeIntervalSince($1) }
    return Result(benchmark: self, parameterCount: initial.parameterCount, roundSeconds: seconds)
  }
}

/// `fl_round.py`'s clients: each holds random full-length sequences and trains the GRU classifier with plain
/// SGD (no clipping, no dropout) from the global weights.
struct RandomSequenceClients: FederatedScenario {
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
