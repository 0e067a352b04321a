import Foundation

/// Paths the tests need, found from this file's location, never from the working directory.
public enum Fixtures {
  /// The package's root folder (holding Package.swift, Corpora/, Vocab/).
  public static let packageRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

  public static func path(_ relative: String) -> String { packageRoot + "/" + relative }

  /// The `backdoor-lab` executable that `swift test` built beside the test bundle.
  public static var executable: String {
    let testBinaryFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [testBinaryFolder, testBinaryFolder.deletingLastPathComponent()].map { $0.appendingPathComponent("backdoor-lab").path }
    candidates.append(packageRoot + "/.build/debug/backdoor-lab")
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
  }

  /// A fresh temporary folder, inside this test process's own folder, which is removed when the process exits.
  public static func temporaryDirectory() throws -> String {
    let url = URL(fileURLWithPath: processFolder).appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
  }

  /// The folder holding this process's temporary folders: made on first use, removed at exit.
  private static let processFolder: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("backdoor-lab-tests-\(UUID().uuidString)").path
    atexit { try? FileManager.default.removeItem(atPath: Fixtures.processFolder) }
    return path
  }()
}

/// What a finished process printed and returned.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var standardOutput: String
  public var standardError: String
}

/// Runs the lab's executable with `arguments`, feeding `input` on standard input.
public func runLab(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: Fixtures.executable)
  process.arguments = arguments
  process.currentDirectoryURL = URL(fileURLWithPath: Fixtures.packageRoot)
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  let output = Pipe(), errors = Pipe(), feed = Pipe()
  process.standardOutput = output
  process.standardError = errors
  process.standardInput = feed
  try process.run()
  if let input { feed.fileHandleForWriting.write(Data(input.utf8)) }
  try feed.fileHandleForWriting.close()
  // Read both pipes before waiting (standard error on its own thread), so a large output on either cannot fill a
  // pipe and stall the child.
  let errorData = LockedData()
  let errorReader = Thread { errorData.set(readToEnd(errors.fileHandleForReading.fileDescriptor)) }
  errorReader.start()
  let outputData = readToEnd(output.fileHandleForReading.fileDescriptor)
  while !errorData.isSet { usleep(1000) }
  process.waitUntilExit()
  return ProcessResult(
    status: process.terminationStatus,
    standardOutput: String(decoding: outputData, as: UTF8.self),
    standardError: String(decoding: errorData.value, as: UTF8.self))
}

/// Everything readable from `descriptor` until end of file. Foundation's `readDataToEndOfFile` traps when a signal
/// (another test's child exiting) interrupts the read; this retries instead.
func readToEnd(_ descriptor: Int32) -> Data {
  var data = Data()
  var buffer = [UInt8](repeating: 0, count: 65_536)
  while true {
    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    if count > 0 {
      data.append(contentsOf: buffer[0..<count])
    } else if count == 0 || errno != EINTR {
      return data
    }
  }
}

/// A value one thread sets and another waits for.
final class LockedData: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Data?
  func set(_ data: Data) { lock.withLock { stored = data } }
  var isSet: Bool { lock.withLock { stored != nil } }
  var value: Data { lock.withLock { stored ?? Data() } }
}
