import Federated
import Randomness

/// FLAME (Nguyen et al. 2022): (1) cluster the updates by cosine distance with HDBSCAN (min cluster size
/// n/2 + 1, min samples 1, a single cluster allowed) and exclude those outside the majority cluster; (2) clip
/// the rest to the median update norm S of the round; (3) average them and add N(0, (λS)²) noise to every
/// coordinate, seeded by (seed, round). Works on updates (local − global), as most reimplementations do.
///
/// With min samples 1 the mutual-reachability distance is the plain distance, and with a minimum cluster size
/// above n/2 the HDBSCAN hierarchy has one cluster: cutting the minimum spanning tree's edges from the longest,
/// every part smaller than the minimum falls out as noise, until a cut leaves no part of the minimum size; the
/// points still in the cluster at that moment are its members (hdbscan's labelling with allow_single_cluster).
public struct FLAME: Aggregator {
  public var noiseLevel: Double
  public var seed: UInt64

  public init(noiseLevel: Double = 0.001, seed: UInt64 = 0) {
    self.noiseLevel = noiseLevel
    self.seed = seed
  }

  public var name: String { "FLAME(λ \(noiseLevel))" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard updates.count >= 2 else { throw .tooFewUpdates(rule: name, round: round, minimum: 2, got: updates.count) }
    let ordered = updates.sorted { $0.client < $1.client }
    let norms = ordered.map { ParameterVector.norm($0.delta) }
    let members = Self.majorityCluster(cosineDistances(ordered.map(\.delta), norms: norms), minimumSize: ordered.count / 2 + 1)
    let bound = lowerMedian(norms)
    var sum = [Float](repeating: 0, count: ordered[0].delta.count)
    var clipped = Set<Int>()
    for index in members.sorted() {
      let scale = norms[index] > bound && norms[index] > 0 ? bound / norms[index] : 1
      if scale < 1 { clipped.insert(index) }
      ParameterVector.add(ordered[index].delta, scaledBy: Float(scale / Double(members.count)), to: &sum)
    }
    var generator = SplitMix64(seed: seed, stream: [0x464C_414D, UInt64(round)])  // "FLAM"
    let sigma = Float(noiseLevel * bound)
    if sigma > 0 { for i in sum.indices { sum[i] += Float(generator.nextStandardNormal()) * sigma } }
    return AggregationResult(
      delta: sum,
      verdicts: Dictionary(uniqueKeysWithValues: ordered.indices.map { i in
        (ordered[i].client, !members.contains(i) ? .excluded : clipped.contains(i) ? .clipped : .kept)
      }))
  }

  /// The members of HDBSCAN's single cluster (see the type's documentation), as indices.
  static func majorityCluster(_ distances: [[Double]], minimumSize: Int) -> Set<Int> {
    let n = distances.count
    // Prim's minimum spanning tree.
    var inTree = [Bool](repeating: false, count: n), best = [Double](repeating: .infinity, count: n), parent = [Int](repeating: -1, count: n)
    best[0] = 0
    var edges: [(u: Int, v: Int, length: Double)] = []
    for _ in 0..<n {
      let u = (0..<n).filter { !inTree[$0] }.min { (best[$0], $0) < (best[$1], $1) }!
      inTree[u] = true
      if parent[u] >= 0 { edges.append((parent[u], u, best[u])) }
      for v in 0..<n where !inTree[v] && distances[u][v] < best[v] {
        best[v] = distances[u][v]
        parent[v] = u
      }
    }
    // Cut from the longest edge; keep the part that is still big enough.
    var active = edges
    var cluster = Set(0..<n)
    for edge in edges.sorted(by: { ($0.length, $0.u, $0.v) > ($1.length, $1.u, $1.v) }) {
      guard cluster.contains(edge.u) && cluster.contains(edge.v) else { continue }
      active.removeAll { $0.u == edge.u && $0.v == edge.v }
      let side = component(of: edge.u, within: cluster, edges: active)
      let other = cluster.subtracting(side)
      let larger = side.count >= other.count ? side : other
      if larger.count < minimumSize { return cluster }
      cluster = larger
    }
    return cluster
  }

  static func component(of start: Int, within cluster: Set<Int>, edges: [(u: Int, v: Int, length: Double)]) -> Set<Int> {
    var seen: Set<Int> = [start]
    var frontier = [start]
    while let node = frontier.popLast() {
      for edge in edges where cluster.contains(edge.u) && cluster.contains(edge.v) {
        let next = edge.u == node ? edge.v : edge.v == node ? edge.u : -1
        if next >= 0 && !seen.contains(next) {
          seen.insert(next)
          frontier.append(next)
        }
      }
    }
    return seen
  }
}

/// 1 − cos(a, b) between every pair of vectors (0 on the diagonal; 1 against a zero vector).
func cosineDistances(_ vectors: [[Float]], norms: [Double]) -> [[Double]] {
  let n = vectors.count
  var distances = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
  for i in 0..<n {
    for j in (i + 1)..<max(n, i + 1) {
      let denominator = norms[i] * norms[j]
      let value = denominator > 0 ? 1 - ParameterVector.dot(vectors[i], vectors[j]) / denominator : 1
      distances[i][j] = value
      distances[j][i] = value
    }
  }
  return distances
}
