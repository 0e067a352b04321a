import Foundation
import Randomness

/// How training examples are dealt to clients.
public enum PartitionScheme: Sendable, Equatable {
  /// Shuffled and dealt evenly.
  case iid
  /// Label skew: each class is split over clients by proportions drawn from Dirichlet(α) (Hsu et al.
  /// 2019); small α gives clients few classes. Redrawn until every client has at least one example.
  case dirichlet(alpha: Double)
  /// The corpus's own client column (e.g. Shakespeare speakers): one client per distinct value.
  case natural
}

public enum PartitionError: Error, Equatable, CustomStringConvertible {
  case tooFewExamples(examples: Int, clients: Int)
  case noClientColumn
  case invalidAlpha(Double)

  public var description: String {
    switch self {
    case .tooFewExamples(let examples, let clients): "\(examples) training examples cannot give \(clients) clients one each"
    case .noClientColumn: "a natural partition needs a corpus with a client column"
    case .invalidAlpha(let alpha): "the Dirichlet concentration must be positive and finite; got \(alpha)"
    }
  }
}

/// Clients as index sets into a corpus (so thousands of clients fit in memory).
public struct ClientPartition: Sendable, Equatable {
  /// `clients[c]`: the rows (indices into the corpus's examples) client `c` holds, ascending.
  public var clients: [[Int]]

  public init(clients: [[Int]]) { self.clients = clients }

  public var clientCount: Int { clients.count }

  /// Partitions `rows`. `labels[i]` is the label of `rows[i]` (Dirichlet); `groups[i]` its client column value (natural).
  public init(
    rows: [Int], scheme: PartitionScheme, clientCount: Int, labels: [Int]? = nil, groups: [Int?]? = nil, seed: UInt64
  ) throws(PartitionError) {
    var generator = SplitMix64(seed: seed, stream: [0x5041_5254])  // "PART"
    switch scheme {
    case .iid:
      guard rows.count >= clientCount, clientCount >= 1 else { throw .tooFewExamples(examples: rows.count, clients: clientCount) }
      var order = rows
      order.seededShuffle(using: &generator)
      var clients = [[Int]](repeating: [], count: clientCount)
      for (position, row) in order.enumerated() { clients[position % clientCount].append(row) }
      self.clients = clients.map { $0.sorted() }
    case .dirichlet(let alpha):
      guard alpha > 0, alpha.isFinite else { throw .invalidAlpha(alpha) }
      guard rows.count >= clientCount, clientCount >= 1 else { throw .tooFewExamples(examples: rows.count, clients: clientCount) }
      let labels = labels ?? [Int](repeating: 0, count: rows.count)
      precondition(labels.count == rows.count, "one label per row")
      let classes = Array(Set(labels)).sorted()
      var attempt: [[Int]] = []
      for _ in 0..<1000 {
        attempt = [[Int]](repeating: [], count: clientCount)
        for label in classes {
          var members = zip(rows, labels).filter { $0.1 == label }.map(\.0)
          members.seededShuffle(using: &generator)
          let proportions = Self.dirichletSample(count: clientCount, alpha: alpha, using: &generator)
          var start = 0
          var cumulative = 0.0
          for client in 0..<clientCount {
            cumulative += proportions[client]
            let end = client == clientCount - 1 ? members.count : min(members.count, Int((cumulative * Double(members.count)).rounded()))
            if end > start { attempt[client].append(contentsOf: members[start..<end]) }
            start = max(start, end)
          }
        }
        if attempt.allSatisfy({ !$0.isEmpty }) { break }
      }
      guard attempt.allSatisfy({ !$0.isEmpty }) else { throw .tooFewExamples(examples: rows.count, clients: clientCount) }
      clients = attempt.map { $0.sorted() }
    case .natural:
      guard let groups else { throw .noClientColumn }
      precondition(groups.count == rows.count, "one group per row")
      var byGroup: [Int: [Int]] = [:]
      var order: [Int] = []
      for (row, group) in zip(rows, groups) {
        guard let group else { throw .noClientColumn }
        if byGroup[group] == nil { order.append(group) }
        byGroup[group, default: []].append(row)
      }
      clients = order.map { byGroup[$0]!.sorted() }
    }
  }

  /// A draw from the symmetric Dirichlet(α, …, α) over `count` categories.
  static func dirichletSample(count: Int, alpha: Double, using generator: inout SplitMix64) -> [Double] {
    let draws = (0..<count).map { _ in gammaSample(shape: alpha, using: &generator) }
    let total = draws.reduce(0, +)
    return total > 0 ? draws.map { $0 / total } : [Double](repeating: 1 / Double(count), count: count)
  }

  /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through Gamma(shape + 1) · U^(1/shape).
  static func gammaSample(shape: Double, using generator: inout SplitMix64) -> Double {
    if shape < 1 {
      let u = max(generator.nextUnitDouble(), .leastNonzeroMagnitude)
      return gammaSample(shape: shape + 1, using: &generator) * pow(u, 1 / shape)
    }
    let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
    while true {
      var x: Double, v: Double
      repeat {
        x = generator.nextStandardNormal()
        v = 1 + c * x
      } while v <= 0
      v = v * v * v
      let u = generator.nextUnitDouble()
      if u < 1 - 0.0331 * x * x * x * x { return d * v }
      if log(max(u, .leastNonzeroMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
    }
  }
}

/// Which clients train in a round: `count` of `clientCount`, drawn without replacement from a generator
/// seeded by (seed, round), with `forced` clients (scheduled attackers) always in. Sorted ascending.
public func sampleClients(round: Int, count: Int, of clientCount: Int, forced: Set<Int> = [], seed: UInt64) -> [Int] {
  precondition(count >= 1 && count <= clientCount, "cannot sample \(count) of \(clientCount) clients")
  var generator = SplitMix64(seed: seed, stream: [0x5341_4D50, UInt64(round)])  // "SAMP"
  var chosen = Set(forced.filter { $0 >= 0 && $0 < clientCount }.sorted().prefix(count))
  var pool = Array(0..<clientCount)
  pool.seededShuffle(using: &generator)
  for client in pool where chosen.count < count { chosen.insert(client) }
  return chosen.sorted()
}
