import ArgumentParser
import Audit
import Experiments

/// The audit's command-line options, shared by `audit` and `audit-eval`.
struct AuditOptions: ParsableArguments {
  @Option(help: "Shipped corpus name or a TSV path with a `text` column.")
  var probe: String?
  @Option(help: "How many probe sentences.")
  var probes = 200
  @Option(help: "Verdict threshold on the largest of the token, phrase, conjunction and margin scores (see above).")
  var threshold = AuditSettings.defaultThreshold
  @Option(help: "Candidates listed per label.")
  var top = 20
  @Option(help: "Longest trigger phrase searched for (1: the single-token scan only).")
  var maxTriggerLength = 3
  @Option(help: "Tokens scanned at once.")
  var threads = 2
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard probes >= 1, top >= 1, threads >= 1 else { throw ValidationError("--probes, --top and --threads must be positive") }
    guard (1...8).contains(maxTriggerLength) else { throw ValidationError("--max-trigger-length must be 1 to 8") }
    guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in [0, 1]") }
  }

  /// The library's settings these options give.
  var settings: AuditSettings {
    var settings = AuditSettings()
    settings.threshold = threshold
    settings.candidatesPerLabel = top
    settings.maximumTriggerLength = maxTriggerLength
    settings.parallelism = threads
    return settings
  }

  /// The audit these options ask for; its warnings go to standard error.
  var bundleAudit: BundleAudit {
    var audit = BundleAudit(settings: settings, probeSource: probe, probeCount: probes, dataDirectory: data.dataDirectory)
    audit.warn = { writeToStandardError("warning: \($0)\n") }
    return audit
  }
}
