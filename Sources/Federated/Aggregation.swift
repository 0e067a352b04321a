/// One client's contribution to a round: its update (local − global, flattened) and how many examples
/// it trained on. Who is malicious is not part of it: aggregators never see the ground truth.
public struct ClientUpdate: Sendable, Equatable {
  public var client: Int
  public var delta: [Float]
  public var exampleCount: Int

  public init(client: Int, delta: [Float], exampleCount: Int) {
    self.client = client
    self.delta = delta
    self.exampleCount = exampleCount
  }
}

/// What a rule did with a client's update, so each round can score detection against the true attackers.
public enum ClientVerdict: String, Sendable, Codable, Equatable {
  case kept, clipped, downWeighted = "down-weighted", excluded, rejected
  /// Secure aggregation: coordinates beyond the fixed-point range were cut to it (saturation, not a defense).
  case clamped
}

public struct AggregationResult: Sendable, Equatable {
  /// The combined update the server applies (times its learning rate).
  public var delta: [Float]
  /// Verdict per client id.
  public var verdicts: [Int: ClientVerdict]

  public init(delta: [Float], verdicts: [Int: ClientVerdict]) {
    self.delta = delta
    self.verdicts = verdicts
  }
}

public enum AggregationError: Error, Equatable, CustomStringConvertible {
  case noUpdates(round: Int)
  case tooFewUpdates(rule: String, round: Int, minimum: Int, got: Int)
  case sizeMismatch(client: Int, expected: Int, got: Int)
  /// A rule that needs the server's own update (FLTrust) was called without one.
  case needsReference(rule: String)
  /// A rule that probes the clients' models (DeepSight) was called without their outputs.
  case needsProbes(rule: String)

  public var description: String {
    switch self {
    case .needsReference(let rule): "\(rule) needs the server's update on its root set; this task gives none"
    case .needsProbes(let rule): "\(rule) needs every client model's outputs on the server's made-up inputs; this task gives none"
    case .noUpdates(let round): "round \(round): no client update to aggregate"
    case .tooFewUpdates(let rule, let round, let minimum, let got): "round \(round): \(rule) needs at least \(minimum) updates; got \(got)"
    case .sizeMismatch(let client, let expected, let got): "client \(client)'s update has \(got) scalars; the model has \(expected)"
    }
  }
}

/// A server-side rule that combines one round of client updates.
public protocol Aggregator: Sendable {
  var name: String { get }
  /// Combines one round of client deltas (local − global). The result must not depend on their order.
  func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult
  /// What a rule remembers between rounds (FoolsGold's histories), by name; checkpointed with the run.
  var persistentState: [String: [Float]] { get }
  /// Takes back what `persistentState` gave, when a run resumes.
  func restore(_ state: [String: [Float]])
}

extension Aggregator {
  public var persistentState: [String: [Float]] { [:] }
  public func restore(_ state: [String: [Float]]) {}
}

/// A rule that also needs the server's own update for the round, computed on a small clean root set it holds
/// (FLTrust). The simulation asks the scenario for that update (`FederatedScenario.serverReferenceUpdate`).
public protocol ReferenceAggregator: Aggregator {
  /// Combines the round's client updates, judged against `reference`, the server's own update (local − global).
  func aggregate(_ updates: [ClientUpdate], reference: [Float], round: Int) throws(AggregationError) -> AggregationResult
}

/// A rule that also looks at what the clients' models do, not only at their updates (DeepSight's division
/// differences). The simulation builds each client's model (global + update) and the global one, asks the scenario
/// for their class probabilities on `probeInputs` made-up inputs per set (`FederatedScenario.probeProbabilities`,
/// every model of a round seeing the same inputs), and hands the rule, per client and set, the mean over the inputs
/// of p_client(class | x) / p_global(class | x).
public protocol ModelProbingAggregator: Aggregator {
  /// How many sets of made-up inputs, each drawn from its own seed.
  var probeSets: Int { get }
  /// How many inputs in each set.
  var probeInputs: Int { get }
  /// `divisionDifferences[client][set][class]`, for every client in `updates`.
  func aggregate(_ updates: [ClientUpdate], divisionDifferences: [Int: [[Double]]], round: Int) throws(AggregationError) -> AggregationResult
}

/// Mean over inputs of p(class | x) of one model divided by that of another, `[inputs][classes]` each; the
/// denominator has 1e-30 added (a probability that underflowed to zero would otherwise divide by zero).
public func divisionDifference(_ probabilities: [[Double]], over reference: [[Double]]) -> [Double] {
  precondition(probabilities.count == reference.count && !reference.isEmpty, "division differences need the same non-empty inputs for both models")
  var sums = [Double](repeating: 0, count: reference[0].count)
  for (row, referenceRow) in zip(probabilities, reference) {
    for k in sums.indices { sums[k] += row[k] / (referenceRow[k] + 1e-30) }
  }
  return sums.map { $0 / Double(reference.count) }
}

/// A rule that follows how the global model moves (FLDetector predicts each client's update from it). After every
/// round the simulation tells it the change it applied to the global model: the server optimiser's step on the rule's
/// aggregate, which the rule cannot compute itself.
public protocol GlobalChangeObserver: Aggregator {
  func observe(appliedChange: [Float], round: Int)
}

/// Checks sizes (a mismatch is an error) and drops updates holding NaN or ±Inf (rejected, never averaged in).
public func screenUpdates(_ updates: [ClientUpdate], parameterCount: Int) throws(AggregationError) -> (kept: [ClientUpdate], rejected: [Int]) {
  var kept: [ClientUpdate] = []
  var rejected: [Int] = []
  for update in updates {
    guard update.delta.count == parameterCount else { throw .sizeMismatch(client: update.client, expected: parameterCount, got: update.delta.count) }
    if ParameterVector.isFinite(update.delta) { kept.append(update) } else { rejected.append(update.client) }
  }
  return (kept, rejected)
}

/// FedAvg (McMahan et al. 2017): the mean of the updates, weighted by example counts (or uniform).
public struct FederatedAveraging: Aggregator {
  public enum Weighting: String, Sendable, Codable, CaseIterable { case examples, uniform }
  public var weighting: Weighting

  public init(weighting: Weighting = .examples) { self.weighting = weighting }

  public var name: String { "FedAvg" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    // Sorted by client id: the floating-point sum is the same whatever order the updates came in.
    let ordered = updates.sorted { $0.client < $1.client }
    let weights = ordered.map { weighting == .uniform ? 1 : Double(max($0.exampleCount, 0)) }
    let usable = weights.reduce(0, +) > 0 ? weights : weights.map { _ in 1 }
    return AggregationResult(
      delta: ParameterVector.weightedMean(ordered.map(\.delta), weights: usable),
      verdicts: Dictionary(uniqueKeysWithValues: ordered.map { ($0.client, .kept) }))
  }
}
