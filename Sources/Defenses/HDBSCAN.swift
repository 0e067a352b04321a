/// HDBSCAN (Campello, Moulavi & Sander 2013) on a matrix of pairwise distances, with excess-of-mass cluster
/// selection and no single-cluster result: the flat clustering scikit-learn's `HDBSCAN(metric="precomputed")` gives.
///
/// 1. Core distance of a point: its distance to the `minimumSamples`-th nearest point, itself counted first
///    (scikit-learn's convention; scikit-learn-contrib's `hdbscan` does not count the point, so its `min_samples`
///    is one less for the same result).
/// 2. Mutual reachability max(core(a), core(b), d(a, b)); its minimum spanning tree by Prim's algorithm from point 0,
///    each new edge recorded from the point added last (as scikit-learn records it), edges then sorted stably by length.
/// 3. The single-linkage hierarchy, condensed: a split where a side has fewer than `minimumClusterSize` points
///    is the other side carrying on while those points fall out, at λ = 1 / distance.
/// 4. Stability of a cluster: Σ (λ at which a child leaves − λ at which the cluster was born) × child size. From the
///    leaves up, a cluster is selected unless its children's selected stabilities add to more; the root never is.
/// 5. Each point takes the label of its nearest selected ancestor (clusters numbered in the condensed tree's
///    order); a point with none is noise (−1).
///
/// Fewer points than `minimumSamples` (scikit-learn refuses them): the core distance is the farthest point's.
public enum HDBSCAN {
  public static let noise = -1

  /// Cluster labels (0, 1, …; −1 noise) for the points whose pairwise distances are `distances` (symmetric, zero
  /// diagonal, finite).
  public static func labels(distances: [[Double]], minimumClusterSize: Int, minimumSamples: Int? = nil) -> [Int] {
    let n = distances.count
    precondition(minimumClusterSize >= 2, "HDBSCAN's minimum cluster size must be at least 2")
    guard n >= 2 else { return [Int](repeating: noise, count: n) }
    let neighbourIndex = min(minimumSamples ?? minimumClusterSize, n) - 1
    let core = distances.map { row in row.sorted()[neighbourIndex] }
    let hierarchy = singleLinkage(spanningTree(distances: distances, core: core), points: n)
    let condensed = condense(hierarchy, points: n, minimumClusterSize: minimumClusterSize)
    return label(condensed, points: n)
  }

  /// Euclidean distances between the rows of `points`.
  public static func euclideanDistances(_ points: [[Double]]) -> [[Double]] {
    points.map { a in
      points.map { b in
        var sum = 0.0
        for (x, y) in zip(a, b) { sum += (x - y) * (x - y) }
        return sum.squareRoot()
      }
    }
  }

  /// Pairwise distances of a clustering: 0 between two points in the same cluster, 1 otherwise (noise included).
  public static func coMembershipDistances(_ labels: [Int]) -> [[Double]] {
    labels.map { a in labels.map { b in a == b && a != noise ? 0 : 1 } }
  }

  struct Edge { var a: Int, b: Int, length: Double }

  static func spanningTree(distances: [[Double]], core: [Double]) -> [Edge] {
    let n = distances.count
    var remaining = Array(1..<n)
    var reach = [Double](repeating: .infinity, count: n - 1)
    var current = 0
    var edges: [Edge] = []
    for _ in 0..<(n - 1) {
      var best = 0
      for (slot, node) in remaining.enumerated() {
        let mutual = max(core[current], core[node], distances[current][node])
        reach[slot] = min(reach[slot], mutual)
        if reach[slot] < reach[best] { best = slot }
      }
      let next = remaining[best]
      edges.append(Edge(a: current, b: next, length: reach[best]))
      remaining.remove(at: best)
      reach.remove(at: best)
      current = next
    }
    // Stable: equal lengths keep the order Prim's algorithm found them in.
    return edges.enumerated().sorted { ($0.element.length, $0.offset) < ($1.element.length, $1.offset) }.map(\.element)
  }

  /// Merge i joins nodes `left` and `right` (points 0..<n, merges n + i) at `distance` into `size` points.
  struct Merge { var left: Int, right: Int, distance: Double, size: Int }

  static func singleLinkage(_ edges: [Edge], points n: Int) -> [Merge] {
    var parent = Array(0..<(2 * n - 1)), size = [Int](repeating: 1, count: n) + [Int](repeating: 0, count: n - 1)
    func find(_ x: Int) -> Int {
      var root = x
      while parent[root] != root { root = parent[root] }
      var node = x
      while parent[node] != root { (node, parent[node]) = (parent[node], root) }
      return root
    }
    var merges: [Merge] = []
    for (index, edge) in edges.enumerated() {
      let left = find(edge.a), right = find(edge.b), joined = n + index
      merges.append(Merge(left: left, right: right, distance: edge.length, size: size[left] + size[right]))
      parent[left] = joined
      parent[right] = joined
      size[joined] = size[left] + size[right]
    }
    return merges
  }

  /// A condensed-tree row: `child` (a point below n, or a cluster) leaves `parent` at `lambda`.
  struct Departure { var parent: Int, child: Int, lambda: Double, size: Int }

  static func condense(_ merges: [Merge], points n: Int, minimumClusterSize: Int) -> [Departure] {
    let root = 2 * n - 2
    func below(_ node: Int) -> [Int] {
      var order: [Int] = [], queue = [node]
      while !queue.isEmpty {
        order += queue
        queue = queue.filter { $0 >= n }.flatMap { [merges[$0 - n].left, merges[$0 - n].right] }
      }
      return order
    }
    func count(_ node: Int) -> Int { node >= n ? merges[node - n].size : 1 }
    var relabel = [Int](repeating: 0, count: root + 1)
    relabel[root] = n
    var nextLabel = n + 1
    var ignore = [Bool](repeating: false, count: root + 1)
    var rows: [Departure] = []
    for node in below(root) where node >= n && !ignore[node] {
      let merge = merges[node - n]
      let lambda = merge.distance > 0 ? 1 / merge.distance : .infinity
      let leftCount = count(merge.left), rightCount = count(merge.right)
      func fallOut(_ side: Int) {
        for sub in below(side) {
          if sub < n { rows.append(Departure(parent: relabel[node], child: sub, lambda: lambda, size: 1)) }
          ignore[sub] = true
        }
      }
      switch (leftCount >= minimumClusterSize, rightCount >= minimumClusterSize) {
      case (true, true):
        for (side, sideCount) in [(merge.left, leftCount), (merge.right, rightCount)] {
          relabel[side] = nextLabel
          nextLabel += 1
          rows.append(Departure(parent: relabel[node], child: relabel[side], lambda: lambda, size: sideCount))
        }
      case (false, false):
        fallOut(merge.left)
        fallOut(merge.right)
      case (false, true):
        relabel[merge.right] = relabel[node]
        fallOut(merge.left)
      case (true, false):
        relabel[merge.left] = relabel[node]
        fallOut(merge.right)
      }
    }
    return rows
  }

  static func label(_ rows: [Departure], points n: Int) -> [Int] {
    let rootCluster = n
    var birth: [Int: Double] = [rootCluster: 0]
    for row in rows where row.size > 1 { birth[row.child] = row.lambda }
    var stability: [Int: Double] = [:]
    for cluster in Set(rows.map(\.parent)) { stability[cluster] = 0 }
    for row in rows { stability[row.parent]! += (row.lambda - birth[row.parent]!) * Double(row.size) }
    let clusterRows = rows.filter { $0.size > 1 }
    var selected: [Int: Bool] = [:]
    // Children are numbered after their parents, so this visits every cluster before its parent; the root is left out.
    for node in stability.keys.sorted(by: >) where node != rootCluster {
      let children = clusterRows.filter { $0.parent == node }.map(\.child)
      let subtree = children.reduce(0.0) { $0 + stability[$1]! }
      if subtree > stability[node]! {
        selected[node] = false
        stability[node] = subtree
      } else {
        selected[node] = true
        var queue = children
        while let sub = queue.popLast() {
          selected[sub] = false
          queue += clusterRows.filter { $0.parent == sub }.map(\.child)
        }
      }
    }
    let clusters = selected.filter(\.value).keys.sorted()
    let number = Dictionary(uniqueKeysWithValues: clusters.enumerated().map { ($0.element, $0.offset) })
    var parentOf: [Int: Int] = [:]
    for row in rows { parentOf[row.child] = row.parent }
    return (0..<n).map { point in
      var node = parentOf[point]
      while let current = node {
        if let label = number[current] { return label }
        node = parentOf[current]
      }
      return noise
    }
  }
}
