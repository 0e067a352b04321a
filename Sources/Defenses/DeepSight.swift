import Federated

/// Where a model's output layer lies in its flattened parameters: `weight` holds `classes` rows, one per output
/// neuron, each row contiguous; `bias` one scalar per neuron.
public struct OutputLayerLocation: Sendable, Equatable {
  public var weight: Range<Int>
  public var bias: Range<Int>

  public init(weight: Range<Int>, bias: Range<Int>) {
    precondition(!bias.isEmpty && weight.count % bias.count == 0, "the output weight must hold one row per bias; got \(weight.count) and \(bias.count) scalars")
    self.weight = weight
    self.bias = bias
  }

  public var classes: Int { bias.count }
}

/// DeepSight (Rieger et al., NDSS 2022), on one round's updates:
/// 1. NEUPs: the energy of each output neuron's update, (|Δbₖ| + Σⱼ |ΔWₖⱼ|)², normalised to sum to 1. Threshold
///    exceedings TE: how many NEUPs exceed max(0.01, 1/P) × the largest (P output neurons). A backdoor trained on
///    few labels concentrates the energy, so an update whose TE is at most half the round's median is labelled
///    suspicious.
/// 2. Three views clustered apart with HDBSCAN: cosine distances between the output biases' updates, Euclidean
///    distances between NEUP vectors, and between division differences (DDifs: per class, the mean of
///    p_client / p_global over made-up inputs), one clustering per input set. Each clustering becomes a 0/1
///    co-membership distance; the DDif ones are averaged, then the three views, and the result clustered again.
/// 3. A cluster is accepted when fewer than τ of its members are suspicious; a point HDBSCAN calls noise is accepted
///    when it is not suspicious itself.
/// 4. Accepted updates are clipped to the median L2 norm of all the round's updates and averaged uniformly (no change
///    when none is accepted).
///
/// HDBSCAN here is scikit-learn's on precomputed distances with `minimumClusterSize` and `minimumClusterSize + 1`
/// samples (the point and `minimumClusterSize` neighbours: the defaults of the `hdbscan` package the authors used).
/// Departures: the paper probes with images of random noise; a text model gets random token sequences
/// (`FederatedScenario.probeProbabilities`), 500 a set by default where public implementations draw 20,000.
public struct DeepSight: ModelProbingAggregator {
  public var output: OutputLayerLocation
  /// τ: the share of suspicious members at which a whole cluster is rejected.
  public var tau: Double
  public var probeSets: Int
  public var probeInputs: Int
  public var minimumClusterSize: Int

  public init(output: OutputLayerLocation, tau: Double = 1.0 / 3, probeSets: Int = 3, probeInputs: Int = 500, minimumClusterSize: Int = 5) {
    self.output = output
    self.tau = tau
    self.probeSets = probeSets
    self.probeInputs = probeInputs
    self.minimumClusterSize = minimumClusterSize
  }

  public var name: String { "DeepSight(τ \(tau))" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    throw .needsProbes(rule: name)
  }

  /// What the rule saw and decided, per client in ascending id order (for tests and reports).
  public struct Inspection: Sendable, Equatable {
    public var clients: [Int]
    public var thresholdExceedings: [Int]
    public var suspicious: [Bool]
    public var finalClusters: [Int]
    public var accepted: [Bool]
    public var clipBound: Double
  }

  public func aggregate(_ updates: [ClientUpdate], divisionDifferences: [Int: [[Double]]], round: Int) throws(AggregationError) -> AggregationResult {
    try aggregateAndInspect(updates, divisionDifferences: divisionDifferences, round: round).result
  }

  public func aggregateAndInspect(
    _ updates: [ClientUpdate], divisionDifferences: [Int: [[Double]]], round: Int
  ) throws(AggregationError) -> (result: AggregationResult, inspection: Inspection) {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let ordered = updates.sorted { $0.client < $1.client }
    let size = ordered[0].delta.count
    for update in ordered where update.delta.count != size || output.weight.upperBound > size || output.bias.upperBound > size {
      throw .sizeMismatch(client: update.client, expected: max(size, output.weight.upperBound, output.bias.upperBound), got: update.delta.count)
    }
    let probes = ordered.map { divisionDifferences[$0.client] ?? [] }
    guard probes.allSatisfy({ $0.count == probeSets && $0.allSatisfy { $0.count == output.classes } }) else { throw .needsProbes(rule: name) }

    let neups = ordered.map { normalizedEnergies($0.delta) }
    let exceedings = neups.map(thresholdExceedings)
    let boundary = median(exceedings.map(Double.init)) / 2
    let suspicious = exceedings.map { Double($0) <= boundary }

    let samples = minimumClusterSize + 1
    func clusterDistances(_ distances: [[Double]]) -> [[Double]] {
      HDBSCAN.coMembershipDistances(HDBSCAN.labels(distances: distances, minimumClusterSize: minimumClusterSize, minimumSamples: samples))
    }
    let biases = ordered.map { Array($0.delta[output.bias]) }
    let biasView = clusterDistances(cosineDistances(biases, norms: biases.map(ParameterVector.norm)))
    let neupView = clusterDistances(HDBSCAN.euclideanDistances(neups))
    let ddifViews = (0..<probeSets).map { set in clusterDistances(HDBSCAN.euclideanDistances(probes.map { $0[set] })) }
    let n = ordered.count
    var merged = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n {
      for j in 0..<n {
        let ddif = ddifViews.reduce(0) { $0 + $1[i][j] } / Double(probeSets)
        merged[i][j] = (ddif + neupView[i][j] + biasView[i][j]) / 3
      }
    }
    let clusters = HDBSCAN.labels(distances: merged, minimumClusterSize: minimumClusterSize, minimumSamples: samples)
    var accepted = suspicious.map { !$0 }
    for cluster in Set(clusters) where cluster != HDBSCAN.noise {
      let members = clusters.indices.filter { clusters[$0] == cluster }
      let share = Double(members.filter { suspicious[$0] }.count) / Double(members.count)
      for member in members { accepted[member] = share < tau }
    }

    let norms = ordered.map { ParameterVector.norm($0.delta) }
    let bound = median(norms)
    let keep = accepted.indices.filter { accepted[$0] }
    var sum = [Float](repeating: 0, count: size)
    var verdicts: [Int: ClientVerdict] = [:]
    for index in ordered.indices {
      guard accepted[index] else {
        verdicts[ordered[index].client] = .excluded
        continue
      }
      let clipped = norms[index] > bound
      verdicts[ordered[index].client] = clipped ? .clipped : .kept
      ParameterVector.add(ordered[index].delta, scaledBy: Float((clipped ? bound / norms[index] : 1) / Double(keep.count)), to: &sum)
    }
    let inspection = Inspection(
      clients: ordered.map(\.client), thresholdExceedings: exceedings, suspicious: suspicious, finalClusters: clusters, accepted: accepted, clipBound: bound)
    return (AggregationResult(delta: sum, verdicts: verdicts), inspection)
  }

  /// NEUPs of one update (all zero when its output layer did not move).
  func normalizedEnergies(_ delta: [Float]) -> [Double] {
    let width = output.weight.count / output.classes
    let energies = (0..<output.classes).map { k -> Double in
      var sum = abs(Double(delta[output.bias.lowerBound + k]))
      let row = output.weight.lowerBound + k * width
      for j in row..<(row + width) { sum += abs(Double(delta[j])) }
      return sum * sum
    }
    let total = energies.reduce(0, +)
    return total > 0 ? energies.map { $0 / total } : energies.map { _ in 0 }
  }

  func thresholdExceedings(_ neups: [Double]) -> Int {
    let threshold = max(0.01, 1 / Double(neups.count)) * (neups.max() ?? 0)
    return neups.filter { $0 > threshold }.count
  }
}
