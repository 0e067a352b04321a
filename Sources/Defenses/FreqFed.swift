import Federated

/// FreqFed (Fereidooni et al., NDSS 2024): every update is taken to the frequency domain, tensor by tensor, with the
/// discrete cosine transform; its low-frequency coefficients (`LowFrequencySpectrum`), all tensors' concatenated,
/// are compared by cosine distance; HDBSCAN with a minimum cluster size of n/2 + 1 (min samples 1, a single cluster
/// allowed, as FLAME's) finds the majority, and only its updates are averaged (FedAvg, with the federation's
/// weights). No clipping, no noise: what is outside the cluster is excluded, the rest kept whole.
///
/// A tensor is seen as a matrix of its first dimension by the rest (a vector as one row); without a layout the whole
/// update is one vector.
public struct FreqFed: Aggregator {
  /// A parameter tensor: where it lies in the parameter vector and the matrix it is transformed as.
  public struct ParameterMatrix: Sendable, Equatable {
    public var range: Range<Int>
    public var spectrum: LowFrequencySpectrum

    /// `shape`: the tensor's dimensions, first to last.
    public init(range: Range<Int>, shape: [Int]) {
      precondition(shape.reduce(1, *) == range.count, "a tensor of shape \(shape) does not fill \(range.count) scalars")
      self.range = range
      spectrum = shape.count <= 1
        ? LowFrequencySpectrum(rows: 1, columns: range.count)
        : LowFrequencySpectrum(rows: shape[0], columns: range.count / shape[0])
    }
  }

  public var layout: [ParameterMatrix]?
  public var averaging: FederatedAveraging

  public init(layout: [ParameterMatrix]? = nil, weighting: FederatedAveraging.Weighting = .examples) {
    self.layout = layout
    averaging = FederatedAveraging(weighting: weighting)
  }

  public var name: String { "FreqFed" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard updates.count >= 2 else { throw .tooFewUpdates(rule: name, round: round, minimum: 2, got: updates.count) }
    let ordered = updates.sorted { $0.client < $1.client }
    let prints = fingerprints(ordered.map(\.delta))
    let members = FLAME.majorityCluster(cosineDistances(prints, norms: prints.map(ParameterVector.norm)), minimumSize: ordered.count / 2 + 1)
    var result = try averaging.aggregate(members.map { ordered[$0] }, round: round)
    for index in ordered.indices where !members.contains(index) { result.verdicts[ordered[index].client] = .excluded }
    return result
  }

  /// Each update's low-frequency coefficients, tensor after tensor.
  public func fingerprints(_ deltas: [[Float]]) -> [[Float]] {
    guard let first = deltas.first else { return [] }
    let tensors = layout ?? [ParameterMatrix(range: 0..<first.count, shape: [first.count])]
    var prints = [[Float]](repeating: [], count: deltas.count)
    for tensor in tensors {
      let parts = tensor.spectrum.coefficients(of: deltas.map { $0[tensor.range] })
      for i in deltas.indices { prints[i] += parts[i] }
    }
    return prints
  }
}
