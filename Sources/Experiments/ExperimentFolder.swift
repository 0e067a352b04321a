import Audit
import Federated
import Foundation

/// One seed of one experiment, as `simulate` writes it (plus audit.json, from `audit --out` or `demo`).
public struct SeedFolder: Sendable {
  public var seed: UInt64
  public var path: String
  public var records: [RoundRecord]
  public var audit: AuditReport?
  public var modelPath: String? { FileManager.default.fileExists(atPath: path + "/model/config.json") ? path + "/model" : nil }
}

/// One experiment folder: config.json, summary.json and seed-S/ folders.
public struct ExperimentFolder: Sendable {
  public var name: String
  public var path: String
  public var config: ExperimentConfig
  public var summary: ExperimentSummary
  public var seeds: [SeedFolder]

  public init(path: String, name: String) throws(RunFolderError) {
    self.name = name
    self.path = path
    do { config = try ExperimentConfig.load(from: path + "/config.json") } catch { throw RunFolderError("\(error)") }
    summary = try RunFolderError.decode(ExperimentSummary.self, at: path + "/summary.json")
    seeds = []
    for seed in summary.seeds.map(\.seed) {
      let folder = "\(path)/seed-\(seed)"
      let records = try readRoundRecords(folder + "/rounds.jsonl")
      let audit = FileManager.default.fileExists(atPath: folder + "/audit.json") ? try RunFolderError.decode(AuditReport.self, at: folder + "/audit.json") : nil
      seeds.append(SeedFolder(seed: seed, path: folder, records: records, audit: audit))
    }
  }

  /// The aggregation rule in words.
  public var ruleName: String {
    let aggregator = config.aggregator
    let base: String =
      switch aggregator.kind {
      case .fedavg: "FedAvg"
      case .clipping: aggregator.clipBound.map { "norm clipping (bound \(format($0)))" } ?? "norm clipping (median norm)"
      case .weakDifferentialPrivacy: "weak DP (clip \(format(aggregator.clipBound ?? 1)), σ \(format(aggregator.noiseStd)))"
      case .median: "coordinate median"
      case .trimmedMean: "trimmed mean (β \(format(aggregator.beta)))"
      case .krum: "Krum (f \(aggregator.assumedByzantine))"
      case .multiKrum: "Multi-Krum (f \(aggregator.assumedByzantine), keep \(aggregator.keep))"
      case .bulyan: "Bulyan (f \(aggregator.assumedByzantine))"
      case .geometricMedian: "geometric median"
      case .centeredClipping: "centered clipping (τ \(format(aggregator.radius)))"
      case .embeddingRows: "embedding-row detector"
      case .flame: "FLAME"
      case .foolsGold: "FoolsGold"
      case .fltrust: "FLTrust (root set \(aggregator.rootExamples))"
      case .fldetector: "FLDetector (window \(aggregator.window))"
      case .deepsight: "DeepSight (τ \(abs(aggregator.tau - 1.0 / 3) < 1e-12 ? "1/3" : format(aggregator.tau)))"
      case .freqfed: "FreqFed"
      }
    return aggregator.secure ? base + " + secure aggregation" : base
  }

  /// Share of attacking updates that the rule flagged (clipped, down-weighted, excluded), over all seeds.
  public var attackersFlagged: (flagged: Int, attacking: Int) {
    var flagged = 0, attacking = 0
    for seed in seeds {
      for record in seed.records where !record.malicious.isEmpty {
        attacking += record.malicious.count
        flagged += Set(record.flagged).intersection(record.malicious).count
      }
    }
    return (flagged, attacking)
  }
}

private func format(_ value: Double) -> String { String(format: "%g", value) }

/// The records of `rounds.jsonl`, one a line.
public func readRoundRecords(_ path: String) throws(RunFolderError) -> [RoundRecord] {
  guard let data = FileManager.default.contents(atPath: path) else { throw RunFolderError("\(path): cannot read it") }
  var records: [RoundRecord] = []
  for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
    do { records.append(try JSONDecoder().decode(RoundRecord.self, from: Data(line))) } catch {
      throw RunFolderError("\(path), line \(index + 1): not a round record (\(error))")
    }
  }
  return records
}

/// A run folder that cannot be read: the message names the file (and line).
public struct RunFolderError: Error, Equatable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }

  static func decode<T: Decodable>(_ type: T.Type, at path: String) throws(RunFolderError) -> T {
    guard let data = FileManager.default.contents(atPath: path) else { throw RunFolderError("\(path): cannot read it") }
    do { return try JSONDecoder().decode(type, from: data) } catch { throw RunFolderError("\(path): not a valid \(T.self) file (\(error))") }
  }
}
