import Foundation
import Tensors

/// Median seconds per call of `body` over `repeats` timed blocks of about `blockSeconds` each
/// (calls per block calibrated first), after `warmup` untimed calls: the reference scripts' method.
public func medianSecondsPerCall(blockSeconds: Double = 0.3, repeats: Int = 5, warmup: Int = 2, _ body: () -> Void) -> Double {
  func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
  for _ in 0..<warmup { body() }
  var calls = 1
  while true {
    let start = now()
    for _ in 0..<calls { body() }
    let elapsed = now() - start
    if elapsed >= blockSeconds / 4 || calls >= 1 << 20 {
      calls = max(1, Int(Double(calls) * blockSeconds / max(elapsed, 1e-9)))
      break
    }
    calls *= 2
  }
  var perCall: [Double] = []
  for _ in 0..<max(1, repeats) {
    let start = now()
    for _ in 0..<calls { body() }
    perCall.append((now() - start) / Double(calls))
  }
  return perCall.sorted()[perCall.count / 2]
}

/// Median seconds of `repeats` single runs of `body`.
func medianSeconds(repeats: Int, _ body: () -> Void) -> Double {
  var seconds: [Double] = []
  for _ in 0..<max(1, repeats) {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  return seconds.sorted()[seconds.count / 2]
}

/// `value` rounded to `digits` decimals, as the benchmark lines print figures.
func rounded(_ value: Double, digits: Int) -> Double {
  let scale = pow(10, Double(digits))
  return (value * scale).rounded() / scale
}

/// One benchmark's result as the fields of its JSON line.
public protocol BenchmarkRecord {
  var fields: [String: Any] { get }
}

extension BenchmarkRecord {
  /// The JSON line: the fields, the kernels' instruction set (`InstructionSet.current`) and the machine's one-minute
  /// load average (a busy machine's figures are suspect).
  public func jsonLine() throws -> String {
    var object = fields
    object["instruction_set"] = InstructionSet.current.rawValue
    object["loadavg"] = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? ""
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
  }
}
