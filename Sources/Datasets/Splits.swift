import Randomness

/// Indices into `Corpus.examples` for training, development (early stopping, tuning) and test.
public struct DataSplit: Sendable, Equatable, Codable {
  public var train: [Int]
  public var dev: [Int]
  public var test: [Int]

  public init(train: [Int], dev: [Int], test: [Int]) {
    self.train = train
    self.dev = dev
    self.test = test
  }
}

public enum SplitError: Error, Equatable, CustomStringConvertible {
  case invalidFractions(train: Double, dev: Double)
  case noClients

  public var description: String {
    switch self {
    case .invalidFractions(let train, let dev):
      "split fractions must be positive with train + dev < 1; got train \(train), dev \(dev)"
    case .noClients: "a split by client needs a corpus with a client column"
    }
  }
}

extension Corpus {
  /// A random split of the examples, the same for the same seed on any machine
  /// (SplitMix64 + Fisher–Yates). Sizes: round(train·n), round(dev·n), the rest for test.
  public func split(seed: UInt64, train: Double = 0.8, dev: Double = 0.1) throws(SplitError) -> DataSplit {
    try Self.split(count: examples.count, seed: seed, train: train, dev: dev)
  }

  /// The lab's default split: 80/10/10 by example, or by client when the corpus has clients
  /// (the keyboard task is measured on speakers the model never saw).
  public func standardSplit(seed: UInt64) throws(SplitError) -> DataSplit {
    clients.isEmpty ? try split(seed: seed) : try splitByClient(seed: seed)
  }

  /// Held-out clients: whole clients (e.g. Shakespeare speakers) go to one part, so test text comes
  /// from people the model never saw. Fractions are of clients, not examples.
  public func splitByClient(seed: UInt64, train: Double = 0.8, dev: Double = 0.1) throws(SplitError) -> DataSplit {
    guard !clients.isEmpty else { throw .noClients }
    let clientSplit = try Self.split(count: clients.count, seed: seed, train: train, dev: dev)
    var part = Array(repeating: 0, count: clients.count)
    for client in clientSplit.dev { part[client] = 1 }
    for client in clientSplit.test { part[client] = 2 }
    var result = DataSplit(train: [], dev: [], test: [])
    for (index, example) in examples.enumerated() {
      switch part[example.client!] {
      case 0: result.train.append(index)
      case 1: result.dev.append(index)
      default: result.test.append(index)
      }
    }
    return result
  }

  static func split(count: Int, seed: UInt64, train: Double, dev: Double) throws(SplitError) -> DataSplit {
    guard train > 0, dev >= 0, train + dev < 1 else { throw .invalidFractions(train: train, dev: dev) }
    var generator = SplitMix64(seed: seed, stream: [0x5350_4C49_54])  // "SPLIT"
    var order = Array(0..<count)
    order.seededShuffle(using: &generator)
    let trainCount = Int((train * Double(count)).rounded())
    let devCount = min(count - trainCount, Int((dev * Double(count)).rounded()))
    return DataSplit(
      train: Array(order[0..<trainCount]),
      dev: Array(order[trainCount..<trainCount + devCount]),
      test: Array(order[(trainCount + devCount)...]))
  }
}
