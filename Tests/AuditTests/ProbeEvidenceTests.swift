@testable import Audit
import Models
import Testing

@Test func wordsTheProbeTextTiesToALabelBeyondChanceAreOrdinary() {
  let threeOfThree = ProbeEvidence(sentences: [[5], [5], [5], [6]], labels: [1, 1, 1, 0], labelCount: 2)
  #expect(threeOfThree.ordinary[1].isEmpty, "3 of 3 at a base rate of 0.75 is chance (p = 0.42)")
  #expect(abs(ProbeEvidence.upperTail(successes: 3, trials: 3, probability: 0.5) - 0.125) < 1e-12)
  #expect(abs(ProbeEvidence.upperTail(successes: 1, trials: 2, probability: 0.5) - 0.75) < 1e-12)
}

@Test func theEvidenceStageUsesTheProbesOwnLabelsElseThePredictionsAndMarksTheScan() throws {
  let (model, vocabulary, probes) = try handSetModel(backdoored: true)
  // Every positive probe labelled; the negative ones unlabelled, so the model's prediction (neg) stands in.
  let sentences = probes.indices.map { (ids: probes[$0], label: $0 % 2 == 0 ? Optional("pos") : nil) }
  let context = AuditContext(
    classifier: model, vocabulary: vocabulary, probeSet: AuditProbeSet(sentences: sentences, probeCount: 10), settings: AuditSettings())
  var state = AuditState()
  try TokenScanStage().run(context, label: nil, state: &state)
  try ProbeEvidenceStage().run(context, label: nil, state: &state)
  let evidence = try #require(state.evidence)
  #expect(evidence.ordinary[1].contains(vocabulary.id(of: "great")) && evidence.ordinary[0].contains(vocabulary.id(of: "awful")))
  #expect(state.scan.ordinaryWords == evidence.ordinary, "the scan ranks ordinary words last from here on")
  #expect(context.probes.count == 10 && evidence.sentenceCounts[vocabulary.id(of: "film")] == probes.count, "the evidence reads every sentence")
}
