import Foundation

/// Finds the lab's data folders (`Corpora/`, `Vocab/`): an explicit folder, else `$BACKDOOR_LAB_HOME`,
/// else the nearest folder holding `Corpora/README.md` above the working directory, else above the
/// executable (`.build/release/backdoor-lab` sits two levels below the checkout).
public struct LabHome: Sendable, Equatable {
  public var root: String

  public init(root: String) { self.root = root }

  public var corporaDirectory: String { root + "/Corpora" }
  public var vocabularyDirectory: String { root + "/Vocab" }

  public static func locate(explicit: String? = nil) throws(CorpusError) -> LabHome {
    if let explicit { return LabHome(root: explicit) }
    if let fromEnvironment = ProcessInfo.processInfo.environment["BACKDOOR_LAB_HOME"], !fromEnvironment.isEmpty {
      return LabHome(root: fromEnvironment)
    }
    let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
    for start in [URL(fileURLWithPath: FileManager.default.currentDirectoryPath), executable] {
      var folder = start.standardizedFileURL
      while true {
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Corpora/README.md").path) {
          return LabHome(root: folder.path)
        }
        let parent = folder.deletingLastPathComponent()
        if parent.path == folder.path { break }
        folder = parent
      }
    }
    throw .unreadable(
      path: "Corpora/", reason: "cannot find the lab's Corpora folder; run from the checkout, or set BACKDOOR_LAB_HOME or --data-dir")
  }

  /// The vocabulary shipped for a corpus: `Vocab/<name>.tsv`.
  public func vocabularyPath(for corpus: ShippedCorpus) -> String { vocabularyDirectory + "/\(corpus.rawValue).tsv" }

  /// Reads a shipped corpus by short name, or any TSV by path with the given description.
  public func load(_ nameOrPath: String, custom: CorpusDescription? = nil, badRows: BadRowPolicy = .fail) throws(CorpusError) -> Corpus {
    if let shipped = ShippedCorpus(rawValue: nameOrPath), custom == nil {
      let description = shipped.description
      return try Corpus(reading: description, from: corporaDirectory + "/" + description.path, badRows: badRows)
    }
    guard nameOrPath.contains("/") || nameOrPath.hasSuffix(".tsv") || FileManager.default.fileExists(atPath: nameOrPath) else {
      throw .unknownCorpus(nameOrPath)
    }
    var description = custom ?? CorpusDescription(name: nameOrPath, path: nameOrPath)
    description.path = nameOrPath
    return try Corpus(reading: description, from: nameOrPath, badRows: badRows)
  }
}
