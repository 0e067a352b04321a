import Foundation

/// Progress of a long loop: a bar with loss, throughput and ETA redrawn in place on a terminal; plain
/// lines every `plainInterval` seconds otherwise (logs, CI). Silent when `quiet`. Writes to stderr.
public final class ProgressReporter: @unchecked Sendable {
  let title: String
  let total: Int
  let unit: String
  let quiet: Bool
  /// Plain lines every second, never a redrawn bar (`--verbose`).
  let verbose: Bool
  let isTerminal: Bool
  let start = Date()
  var lastDraw = Date.distantPast
  let plainInterval: TimeInterval

  public init(title: String, total: Int, unit: String = "steps", quiet: Bool = false, verbose: Bool = false, plainInterval: TimeInterval = 10) {
    self.title = title
    self.total = max(total, 1)
    self.unit = unit
    self.quiet = quiet
    self.verbose = verbose
    self.plainInterval = plainInterval
    isTerminal = isatty(2) != 0 && !verbose
  }

  /// `done` of `total` units finished; `items` processed so far for the throughput (e.g. examples).
  public func update(done: Int, items: Int, itemName: String = "examples", loss: Double?) {
    guard !quiet else { return }
    let now = Date()
    let interval = isTerminal ? 0.1 : (verbose ? 1 : plainInterval)
    guard now.timeIntervalSince(lastDraw) >= interval || done == total else { return }
    lastDraw = now
    let elapsed = now.timeIntervalSince(start)
    let rate = elapsed > 0 ? Double(items) / elapsed : 0
    let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
    let lossText = loss.map { String(format: "loss %.4f  ", $0) } ?? ""
    let stats = String(format: "%@%.0f %@/s  ETA %@", lossText, rate, itemName, Self.duration(eta))
    if isTerminal {
      let width = 24
      let filled = Int(Double(width) * Double(done) / Double(total))
      let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
      FileHandle.standardError.write(Data("\r\u{1B}[2K\(title) \(bar) \(done)/\(total) \(stats)".utf8))
      if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    } else {
      FileHandle.standardError.write(Data("\(title): \(done)/\(total) \(unit)  \(stats)\n".utf8))
    }
  }

  /// A line of its own (an epoch summary), not overwritten by the bar.
  public func note(_ text: String) {
    guard !quiet else { return }
    FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n").utf8))
  }

  static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    return total >= 3600 ? String(format: "%dh%02dm", total / 3600, total % 3600 / 60) : String(format: "%d:%02d", total / 60, total % 60)
  }
}
