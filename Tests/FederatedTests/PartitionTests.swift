@testable import Federated
import Randomness
import Testing

@Test func iidPartitionsDealEveryRowOnceAndEvenly() throws {
  let rows = Array(100..<203)
  let partition = try ClientPartition(rows: rows, scheme: .iid, clientCount: 10, seed: 1)
  #expect(partition.clients.flatMap { $0 }.sorted() == rows)
  let sizes = partition.clients.map(\.count)
  #expect(sizes.max()! - sizes.min()! <= 1)
  #expect(try ClientPartition(rows: rows, scheme: .iid, clientCount: 10, seed: 1) == partition)
  #expect(try ClientPartition(rows: rows, scheme: .iid, clientCount: 10, seed: 2) != partition)
  #expect(throws: PartitionError.self) { try ClientPartition(rows: [1, 2], scheme: .iid, clientCount: 3, seed: 0) }
}

@Test func dirichletPartitionsSkewLabelsMoreAsAlphaShrinks() throws {
  let rows = Array(0..<2000)
  let labels = rows.map { $0 % 5 }
  func meanClassesPerClient(_ alpha: Double) throws -> Double {
    let partition = try ClientPartition(rows: rows, scheme: .dirichlet(alpha: alpha), clientCount: 20, labels: labels, seed: 3)
    #expect(partition.clients.flatMap { $0 }.sorted() == rows, "every row dealt exactly once")
    #expect(partition.clients.allSatisfy { !$0.isEmpty })
    return Double(partition.clients.map { Set($0.map { labels[$0] }).count }.reduce(0, +)) / 20
  }
  let skewed = try meanClassesPerClient(0.1), uniform = try meanClassesPerClient(100)
  #expect(skewed < 3.5, "α = 0.1 leaves clients with few classes (\(skewed))")
  #expect(uniform > 4.9, "α = 100 gives every client every class (\(uniform))")
  #expect(throws: PartitionError.self) { try ClientPartition(rows: rows, scheme: .dirichlet(alpha: 0), clientCount: 2, labels: labels, seed: 0) }
}

@Test func naturalPartitionsFollowTheClientColumn() throws {
  let partition = try ClientPartition(rows: [10, 11, 12, 13, 14], scheme: .natural, clientCount: 0, groups: [7, 3, 7, 3, 9], seed: 0)
  #expect(partition.clients == [[10, 12], [11, 13], [14]])
  #expect(throws: PartitionError.noClientColumn) { try ClientPartition(rows: [1], scheme: .natural, clientCount: 1, groups: [nil], seed: 0) }
}

@Test func clientSamplingIsSeededAndHonoursForcedClients() {
  let first = sampleClients(round: 1, count: 5, of: 50, seed: 9)
  #expect(first.count == 5 && first == first.sorted() && Set(first).count == 5)
  #expect(sampleClients(round: 1, count: 5, of: 50, seed: 9) == first)
  #expect(sampleClients(round: 2, count: 5, of: 50, seed: 9) != first)
  let forced = sampleClients(round: 1, count: 5, of: 50, forced: [42, 43], seed: 9)
  #expect(forced.contains(42) && forced.contains(43) && forced.count == 5)
  #expect(sampleClients(round: 1, count: 2, of: 50, forced: [1, 2, 3], seed: 9) == [1, 2], "more forced clients than places: the lowest ids")
}

@Test func gammaAndDirichletDrawsHaveTheRightMoments() {
  var generator = SplitMix64(seed: 5)
  for shape in [0.3, 1.0, 4.0] {
    let draws = (0..<20000).map { _ in ClientPartition.gammaSample(shape: shape, using: &generator) }
    let mean = draws.reduce(0, +) / Double(draws.count)
    #expect(abs(mean - shape) < 0.05 * max(shape, 1), "Gamma(\(shape)) mean \(mean)")
  }
}
