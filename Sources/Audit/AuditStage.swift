/// One step of an audit. `TriggerAudit.stages` lists them in the order they run; adding a method is one type that
/// conforms and one line in that list.
public protocol AuditStage: Sendable {
  /// Its name, also the key of its seconds in the report.
  var name: AuditStageName { get }
  /// What it runs over.
  var scope: AuditStageScope { get }
  /// Whether it runs for this audit (the model's architecture, the settings); asked by the pipeline only.
  func applies(to context: AuditContext) -> Bool
  /// Adds what it finds to `state`; `label` is the label searched (nil for a whole-model stage).
  func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws
}

/// When a stage runs.
public enum AuditStageScope: Sendable, Equatable {
  /// Once, before anything per label: the token scan and the probe evidence.
  case wholeModel
  /// For each label the phrase search runs for (`LabelScores.labelsToSearch`), before the verdict.
  case eachSearchedLabel
  /// For the suspected target (and any label tied with it), once the verdict is known: candidates only.
  case suspectedTarget
  /// Last, for the suspected target (and any label tied with it), whether or not phrases were searched: candidates only.
  case finalCandidates
}
