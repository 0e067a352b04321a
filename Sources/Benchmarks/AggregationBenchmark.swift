import Defenses
import Federated
import Randomness

/// Seconds per aggregation over `clients` updates of `parameters` scalars (fl_round.py's aggregator timings):
/// mean (FedAvg), coordinate-wise median (exact), trimmed mean (β 0.2) and Krum (f 4, Gram matrix); median of 5
/// calls, one thread.
public struct AggregationBenchmark {
  public var clients = 20
  public var parameters = 1_354_370

  public init(clients: Int = 20, parameters: Int = 1_354_370) {
    self.clients = clients
    self.parameters = parameters
  }

  public struct Result: BenchmarkRecord {
    public var benchmark: AggregationBenchmark
    /// Seconds per call by rule: mean, median_exact, trimmed_mean, krum_gram.
    public var secondsByRule: [String: Double]

    public var fields: [String: Any] {
      var fields: [String: Any] = ["bench": "aggregate", "clients": benchmark.clients, "params": benchmark.parameters]
      for (rule, seconds) in secondsByRule { fields["\(rule)_s"] = seconds }
      return fields
    }
  }

  public func run() throws -> Result {
    var generator = SplitMix64(seed: 0)
    let updates = (0..<clients).map { client in
      ClientUpdate(client: client, delta: (0..<parameters).map { _ in Float(generator.nextStandardNormal()) * 0.01 }, exampleCount: 200)
    }
    var secondsByRule: [String: Double] = [:]
    let rules: [(String, any Aggregator)] = [
      ("mean", FederatedAveraging()), ("median_exact", CoordinateMedian()), ("trimmed_mean", TrimmedMean(beta: 0.2)), ("krum_gram", Krum(assumedByzantine: 4)),
    ]
    for (name, rule) in rules {
      _ = try rule.aggregate(updates, round: 1)  // fails here, not inside the timing loop
      secondsByRule[name] = medianSecondsPerCall(blockSeconds: 0, repeats: 5, warmup: 0) { _ = try? rule.aggregate(updates, round: 1) }
    }
    return Result(benchmark: self, secondsByRule: secondsByRule)
  }
}
