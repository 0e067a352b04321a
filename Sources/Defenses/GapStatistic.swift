import Foundation
import Randomness

/// k-means of numbers on a line, solved exactly: in one dimension an optimal clustering splits the sorted values into
/// contiguous runs, so dynamic programming over split points finds the least within-cluster sum of squares (Wang &
/// Song 2011, "Ckmeans.1d.dp"). Deterministic, unlike Lloyd's iterations from random seeds.
enum LineKMeans {
  /// The least within-cluster sum of squares of `values` in `k` clusters (1 ≤ k ≤ count), and the sorted
  /// values' split points: cluster c holds sorted[starts[c] ..< starts[c + 1]] (starts has k + 1 entries).
  /// Ties go to the earliest split, so equal inputs give equal clusterings.
  static func cluster(_ values: [Double], k: Int) -> (cost: Double, sorted: [Double], starts: [Int]) {
    let n = values.count
    precondition(k >= 1 && k <= n, "k-means of \(n) values into \(k) clusters")
    let sorted = values.sorted()
    var sums = [0.0], squares = [0.0]
    for value in sorted {
      sums.append(sums.last! + value)
      squares.append(squares.last! + value * value)
    }
    /// Sum of squares of sorted[i..<j] about its mean.
    func cost(_ i: Int, _ j: Int) -> Double {
      let count = Double(j - i), sum = sums[j] - sums[i]
      return max(0, squares[j] - squares[i] - sum * sum / count)
    }
    // best[c][j]: least cost of sorted[0..<j] in c + 1 clusters; split[c][j]: where its last cluster starts.
    var best = [[Double]](repeating: [Double](repeating: .infinity, count: n + 1), count: k)
    var split = [[Int]](repeating: [Int](repeating: 0, count: n + 1), count: k)
    for j in 1...n { best[0][j] = cost(0, j) }
    for c in stride(from: 1, to: k, by: 1) {
      for j in (c + 1)...n {
        for start in c..<j {
          let candidate = best[c - 1][start] + cost(start, j)
          if candidate < best[c][j] {
            best[c][j] = candidate
            split[c][j] = start
          }
        }
      }
    }
    var starts = [n]
    var end = n
    for c in stride(from: k - 1, through: 1, by: -1) {
      end = split[c][end]
      starts.append(end)
    }
    starts.append(0)
    return (best[k - 1][n], sorted, starts.reversed())
  }
}

/// The gap statistic (Tibshirani, Walther & Hastie 2001) as FLDetector uses it to decide whether the clients' scores
/// form more than one group: the scores are scaled to [0, 1]; for k = 1 … K, W_k is the k-means cost of the scores and
/// W*_kb that of B sets of as many uniform [0, 1) draws; gap_k = log(mean_b W*_kb) − log W_k and
/// s_k = √(1 + 1/B) · sd_b(log W*_kb); the number of groups is the least k with gap_k ≥ gap_(k+1) − s_(k+1) (K when
/// none is). FLDetector's code takes log of the mean over the reference sets, as here, not the mean of the logs.
struct GapStatistic {
  var referenceSets = 10
  var largestK = 7

  /// The estimated number of groups among `values` (1 when they are all equal or fewer than three). The uniform
  /// reference draws come from `generator`: for each k, B sets of `values.count` draws.
  func groupCount(_ values: [Double], generator: inout SplitMix64) -> Int {
    guard values.count >= 3, let low = values.min(), let high = values.max(), high > low else { return 1 }
    let scaled = values.map { ($0 - low) / (high - low) }
    let limit = min(largestK, values.count - 1)
    var gaps: [Double] = [], spreads: [Double] = []
    for k in 1...limit {
      let cost = LineKMeans.cluster(scaled, k: k).cost
      let references = (0..<referenceSets).map { _ in
        LineKMeans.cluster((0..<values.count).map { _ in generator.nextUnitDouble() }, k: k).cost
      }
      let referenceLogs = references.map { log($0) }
      let mean = referenceLogs.reduce(0, +) / Double(referenceSets)
      let spread = (referenceLogs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(referenceSets)).squareRoot()
      gaps.append(log(references.reduce(0, +) / Double(referenceSets)) - log(cost))
      spreads.append((1 + 1 / Double(referenceSets)).squareRoot() * spread)
    }
    for k in 1..<limit where gaps[k - 1] >= gaps[k] - spreads[k] { return k }
    return limit
  }
}
