import Foundation

/// Wall-clock seconds spent in each stage of an audit, summed over the labels each stage ran for.
public final class AuditStageClock {
  public private(set) var seconds: [AuditStageName: Double] = [:]

  public init() {}

  /// Runs `body`, adding its wall-clock time to `stage`.
  @discardableResult
  public func time<T>(_ stage: AuditStageName, _ body: () throws -> T) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    defer { seconds[stage, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    return try body()
  }

  /// The stages that ran, keyed by their report names.
  public var byName: [String: Double] { Dictionary(uniqueKeysWithValues: seconds.map { ($0.key.rawValue, $0.value) }) }
}
