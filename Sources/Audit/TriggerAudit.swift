import Foundation
import Models
import Tokenization

/// The audit: is there a trigger in this classifier, and which? Runs `stages` in order over the model and its
/// probes and returns the report. The one entry point for every caller (`audit`, `audit-eval`, `demo`).
public struct TriggerAudit: Sendable {
  public var settings: AuditSettings
  /// What runs, in order (each stage also says when it applies and over what it runs: `AuditStage`).
  public var stages: [any AuditStage] = [
    TokenScanStage(),
    ProbeEvidenceStage(),
    PhraseSearchStage(),
    ConjunctionScanStage(),
    PhraseMeasuresStage(),
    RecombinationStage(),
    PartnerScanStage(),
    WordCompletionStage(),
  ]

  public init(_ settings: AuditSettings) { self.settings = settings }

  /// With the model's `tokenizer`, a WordPiece model's candidates are measured and shown as the words they spell.
  public func run(model classifier: TextClassifier, vocabulary: Vocabulary, probes: AuditProbeSet, tokenizer: Tokenizer? = nil) throws -> AuditReport {
    guard settings.maximumTriggerLength < classifier.config.maximumLength else {
      throw AuditError(
        "--max-trigger-length \(settings.maximumTriggerLength) leaves no room for the probe text: the model reads at most \(classifier.config.maximumLength) tokens")
    }
    let plantedTarget = try settings.plantedTarget.map { target in
      guard let index = classifier.labels.firstIndex(of: target) else {
        throw AuditError("--target '\(target)' is not one of the model's labels (\(classifier.labels.joined(separator: ", ")))")
      }
      return index
    }
    var context = AuditContext(classifier: classifier, vocabulary: vocabulary, probeSet: probes, settings: settings)
    context.tokenizer = tokenizer
    let labels = classifier.labels
    let applicable = stages.filter { $0.applies(to: context) }
    let started = Date()
    let clock = AuditStageClock()
    var state = AuditState()
    func runStages(_ scope: AuditStageScope, label: Int?) throws {
      for stage in applicable where stage.scope == scope {
        try clock.time(stage.name) { try stage.run(context, label: label, state: &state) }
      }
    }

    try runStages(.wholeModel, label: nil)
    let scanned = state.scan
    let tokenTable =
      settings.tokenTable
      ? scanned.table(
        tokens: TokenScan.scannable(vocabulary), vocabulary: vocabulary, labels: labels,
        evidence: state.evidence ?? ProbeEvidence(sentences: [], labels: [], labelCount: labels.count))
      : nil
    state.candidates = CandidateList(scan: scanned, vocabulary: vocabulary, labels: labels, limit: settings.candidatesPerLabel)
    state.scores = LabelScores(token: scanned.tokenVerdictScores(labelCount: labels.count))
    if settings.searchesPhrases { state.commonWords = state.evidence?.commonestWords(vocabulary) ?? [] }

    if applicable.contains(where: { $0.scope == .eachSearchedLabel }) {
      for label in state.scores.labelsToSearch {
        state.search = LabelSearch()
        try runStages(.eachSearchedLabel, label: label)
      }
    }
    let verdictScores = state.scores.verdictScores
    // Stages that only add candidates, once the verdict is known: for the suspected target (and any label tied with
    // it) that the phrase stages searched; the other labels' lists stay as those stages left them.
    let highest = verdictScores.max() ?? 0
    for label in labels.indices where verdictScores[label] == highest && state.scores.phraseOverStrongest[label] != nil {
      try runStages(.suspectedTarget, label: label)
    }
    for label in labels.indices where verdictScores[label] == highest {
      try runStages(.finalCandidates, label: label)
    }

    let scores = state.scores
    var candidatesByLabel = state.candidates.byLabel
    if let tokenizer, tokenizer.options.kind == .wordpiece {
      for label in candidatesByLabel.indices {
        for index in candidatesByLabel[label].indices {
          let text = tokenizer.displayText(of: candidatesByLabel[label][index].tokens)
          if text != candidatesByLabel[label][index].trigger { candidatesByLabel[label][index].text = text }
        }
      }
    }
    var report = AuditReport(
      candidatesByLabel: candidatesByLabel, verdictScores: verdictScores, tokenScores: scores.token,
      phraseScores: scores.phraseOverStrongest, phraseExcessesOverOtherTokens: scores.phraseOverOthers,
      conjunctionScores: scores.conjunctionExcess, phraseMarginExcesses: scores.marginExcess, labels: labels,
      threshold: settings.threshold, calibration: settings.calibration, probes: context.probes.count,
      tokensScanned: TokenScan.scannable(vocabulary).count, positions: context.tokenScan.positions,
      maximumTriggerLength: settings.maximumTriggerLength, seconds: Date().timeIntervalSince(started))
    report.secondsByStage = clock.byName
    report.tokenTable = tokenTable
    if let planted = settings.plantedTrigger {
      let searched = plantedTarget.map { [$0] } ?? Array(labels.indices)
      report.knownTrigger = searched.compactMap {
        TokenScan.rank(of: planted, label: $0, labels: labels, scan: scanned, vocabulary: vocabulary)
      }.min { $0.rank < $1.rank }
    }
    return report
  }
}
