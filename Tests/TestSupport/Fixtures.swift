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

  /// A fresh temporary folder.
  public static func temporaryDirectory() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("backdoor-lab-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
  }
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
  // Read both pipes before waiting, so a large output cannot fill a pipe and stall the child.
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = errors.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return ProcessResult(
    status: process.terminationStatus,
    standardOutput: String(decoding: outputData, as: UTF8.self),
    standardError: String(decoding: errorData, as: UTF8.self))
}
