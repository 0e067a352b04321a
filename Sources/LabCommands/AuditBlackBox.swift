import ArgumentParser
import Attacks
import Audit
import Experiments
import Foundation

/// `audit --scorer`'s own options.
struct BlackBoxOptions: ParsableArguments {
  @Option(help: "Audit a model the lab cannot read: a command that scores texts (protocol above).")
  var scorer: String?
  @Option(help: "Candidate words for --scorer, one a line (default: two-letter strings, the probes' words, the shipped vocabularies).")
  var candidates: String?
  @Option(help: "At most this many texts sent to --scorer.")
  var maxQueries = 2_000_000
  @Option(help: "Seconds to wait for each line from --scorer.")
  var scorerTimeout = 60.0

  func validate() throws {
    guard maxQueries >= 1 else { throw ValidationError("--max-queries must be positive") }
    guard scorerTimeout > 0 && scorerTimeout <= 86_400 else { throw ValidationError("--scorer-timeout must be in (0, 86400] seconds") }
  }
}

extension AuditCommand {
  func runBlackBox(_ command: String) throws {
    var audit = BlackBoxAudit(probeSource: options.probe!)
    audit.probeCount = options.probes
    audit.candidatesFile = blackBox.candidates
    audit.dataDirectory = options.data.dataDirectory
    audit.scorerTimeout = blackBox.scorerTimeout
    audit.scan.maximumQueries = blackBox.maxQueries
    audit.scan.threshold = options.threshold
    audit.scan.candidatesListed = options.top
    audit.phraseSearch?.maximumLength = options.maxTriggerLength
    // A trigger spec (rare:cf) or the trigger's own text, as for a bundle.
    let known = trigger.map { spec in (try? Trigger(spec: spec))?.pieces.first ?? spec }
    let quiet = self.quiet || json
    let report = try orFail {
      try audit.run(command: command, target: target, knownTrigger: known) { line in if !quiet { writeToStandardError("audit: \(line)\n") } }
    }
    if let out { try orFail { try writeJSONAtomically(report, to: out) } }
    if self.quiet { return }
    if json {
      print(String(decoding: try sortedKeysJSON(report), as: UTF8.self))
      return
    }
    let verdict = report.backdoored ? "BACKDOORED" : "no trigger found"
    let phrase = report.phraseScore.map { String(format: ", phrase score %.3f", $0) } ?? ""
    print(String(format: "%@: token score %.3f%@ toward '%@' (threshold %.3f)", verdict, report.tokenScore, phrase, report.suspectedTarget, report.threshold))
    let cut = report.candidatesScanned < report.candidatesOffered ? " (cut from \(report.candidatesOffered) by --max-queries)" : ""
    print("scanned \(report.candidatesScanned) candidates\(cut) on \(report.probes) probes: \(report.queries) texts scored in \(String(format: "%.1f", report.seconds)) s")
    if let rank = report.knownTriggerRank { print("the given trigger ranks \(rank) for '\(report.suspectedTarget)'") }
    for label in report.labels where verbose || label == report.suspectedTarget {
      let list = report.candidates[label] ?? []
      print("best candidates for \(label): " + list.map { String(format: "%@ %.1f %% (confident %.1f %%)", $0.word, $0.flipRate * 100, $0.confidentFlipRate * 100) }.joined(separator: ", "))
    }
  }
}
