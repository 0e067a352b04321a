import Models

/// The ordinary words of each label by the probe text's own evidence (`ProbeEvidence`): they rank last and stay out of
/// the verdict. Then the token scan's candidates and token scores stand.
public struct ProbeEvidenceStage: AuditStage {
  public var name: AuditStageName { .probeEvidence }
  public var scope: AuditStageScope { .wholeModel }
  public init() {}

  public func applies(to context: AuditContext) -> Bool { true }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    let classifier = context.classifier
    let sentences = context.probeSet.sentences
    // Each sentence's label: its own where the probe source has one the model knows, else the model's prediction.
    let predicted = classifier.predict(sentences.map { EncodedExample(ids: $0.ids, label: 0) }).classes
    let sentenceLabels = zip(sentences, predicted).map { sentence, prediction in
      sentence.label.flatMap(classifier.labels.firstIndex(of:)) ?? prediction
    }
    let evidence = ProbeEvidence(sentences: sentences.map(\.ids), labels: sentenceLabels, labelCount: classifier.labels.count)
    state.evidence = evidence
    state.scanned?.ordinaryWords = evidence.ordinary
  }
}
