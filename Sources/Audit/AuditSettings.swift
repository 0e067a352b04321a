/// How to audit a classifier. A value: callers build it (the `audit` command from its options, `demo` and
/// `audit-eval` directly) and hand it to `TriggerAudit`.
public struct AuditSettings: Sendable, Equatable {
  /// Calibrated on the clean models of scripts/audit-zoo.sh (docs/audit-evaluation.md): the lowest threshold of three
  /// decimals that flags at most 5 % of the 88 clean models of the check, final, confirm and verify sets.
  public static let defaultThreshold = 0.211
  public static let defaultCalibration =
    "set for at most 5 % false positives on the 88 clean models of scripts/audit-zoo.sh's check, final, confirm and verify sets (3 at or above 0.211, 3.4 %; 95 % interval 1.2–9.6 %)"

  /// A model whose suspected target's verdict score reaches it is called backdoored.
  public var threshold = AuditSettings.defaultThreshold
  /// Candidates listed per label.
  public var candidatesPerLabel = 20
  /// Longest trigger phrase searched for (1: the single-token scan only).
  public var maximumTriggerLength = 3
  /// Insertions measured at once (one kernel thread each); results do not depend on it.
  public var parallelism = 2
  /// Also render the whole token scan as a TSV (`AuditReport.tokenTable`).
  public var tokenTable = false
  /// The planted trigger's tokens, as the model's tokeniser gives them, when the caller knows it: its rank is reported.
  public var plantedTrigger: [String]?
  /// The planted trigger's target label (nil: the label it ranks best for).
  public var plantedTarget: String?

  public init() {}

  /// What the report says the threshold rests on.
  public var calibration: String { threshold == Self.defaultThreshold ? Self.defaultCalibration : "threshold set with --threshold" }

  /// Whether phrases are searched (and with them the conjunction, recombination and partner stages).
  public var searchesPhrases: Bool { maximumTriggerLength >= 2 }
}
