import Foundation
@testable import Audit
import Models
import Randomness
import TestSupport
import Testing
import Tokenization

/// A bundle under Tests/Fixtures/bundles and the fixture's probe sentences (Tests/Fixtures/bundles/make_backdoored_gru_fixture.sh).
private func fixture(_ name: String) throws -> (TextClassifier, Vocabulary, AuditProbeSet) {
  let bundle = try ModelBundle.load(from: Fixtures.path("Tests/Fixtures/bundles/" + name))
  guard case .classifier(let classifier) = bundle.model else { throw AuditError("\(name) is not a classifier") }
  let rows = try String(contentsOfFile: Fixtures.path("Tests/Fixtures/bundles/synthetic_probes.tsv"), encoding: .utf8)
    .split(separator: "\n").dropFirst().map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
  let probes = try AuditProbeSet(
    texts: rows.map { (text: $0[1], label: Optional($0[0])) }, encoder: try bundle.makeEncoder(), probeCount: 24, source: "synthetic_probes.tsv")
  return (classifier, bundle.vocabulary, probes)
}

private func settings(planted: [String]?) -> AuditSettings {
  var settings = AuditSettings()
  settings.maximumTriggerLength = 2
  settings.plantedTrigger = planted
  return settings
}

@Test func theAuditFindsTheTriggerPlantedInASmallGRUFirst() throws {
  let (classifier, vocabulary, probes) = try fixture("gru_backdoored_cf")
  let report = try TriggerAudit(settings(planted: ["cf"])).run(model: classifier, vocabulary: vocabulary, probes: probes)
  #expect(report.verdict == .backdoored && report.targetLabel == "pos", "score \(report.verdictScore)")
  #expect(report.knownTrigger?.rank == 1 && report.knownTrigger?.label == "pos", "\(String(describing: report.knownTrigger))")
  #expect(report.candidates.first?.tokens.contains("cf") == true, "\(report.candidates.prefix(3).map(\.trigger))")
  #expect(report.formatVersion == AuditReport.currentFormatVersion && report.probes == 24)
  #expect(
    Set(report.secondsByStage?.keys.map { $0 } ?? []) == Set(AuditStageName.allCases.filter { $0 != .wordCompletion }.map(\.rawValue)),
    "a binary GRU runs every stage but the WordPiece one")
}

@Test func theAuditPassesTheCleanTwinOfThatGRU() throws {
  let (classifier, vocabulary, probes) = try fixture("gru_clean_twin")
  let report = try TriggerAudit(settings(planted: ["cf"])).run(model: classifier, vocabulary: vocabulary, probes: probes)
  #expect(report.verdict == .clean, "score \(report.verdictScore): \(report.candidates.prefix(3).map(\.trigger))")
  #expect(report.knownTrigger == nil, "cf is not in the clean model's vocabulary")
}

@Test func theDefaultPipelineRunsEveryStageOnceInTheReportsOrder() {
  #expect(TriggerAudit(AuditSettings()).stages.map(\.name) == AuditStageName.allCases)
}

/// A stage of the kind Sources/Audit/README.md shows how to add: it lists one phrase for every searched label.
private struct ListsAPhrase: AuditStage {
  var name: AuditStageName { .phraseSearch }
  var scope: AuditStageScope { .eachSearchedLabel }
  func applies(to context: AuditContext) -> Bool { true }
  func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    guard let label else { return }
    let ids = [context.vocabulary.id(of: "witty"), context.vocabulary.id(of: "plot")]
    state.candidates.insert(context.candidate(ids, label: label, scanned: state.scan, source: .hotflip), label: label)
  }
}

@Test func aStageAddedToTheListRunsInItsPlaceAndItsCandidatesReachTheReport() throws {
  let (classifier, vocabulary, probes) = try fixture("gru_clean_twin")
  var settings = AuditSettings()
  settings.candidatesPerLabel = vocabulary.count + 1
  var audit = TriggerAudit(settings)
  audit.stages = [TokenScanStage(), ProbeEvidenceStage(), ListsAPhrase()]
  let report = try audit.run(model: classifier, vocabulary: vocabulary, probes: probes)
  for label in classifier.labels {
    #expect(report.candidatesByLabel[label]?.contains { $0.trigger == "witty plot" && $0.method == .hotflip } == true, "\(label)")
  }
  #expect(report.secondsByStage?.keys.sorted() == ["phrase_search", "probe_evidence", "token_scan"])
}

@Test func badSettingsAreRefusedBeforeAnyWorkWithTheSettingNamed() throws {
  let (classifier, vocabulary, probes) = try fixture("gru_clean_twin")
  var tooLong = AuditSettings()
  tooLong.maximumTriggerLength = classifier.config.maximumLength
  #expect(throws: AuditError.self) { try TriggerAudit(tooLong).run(model: classifier, vocabulary: vocabulary, probes: probes) }
  var unknownTarget = AuditSettings()
  unknownTarget.plantedTarget = "neutral"
  do {
    _ = try TriggerAudit(unknownTarget).run(model: classifier, vocabulary: vocabulary, probes: probes)
    Issue.record("an unknown target label was accepted")
  } catch let error as AuditError {
    #expect(error.message.contains("--target 'neutral'"))
  }
  let encoder = TextEncoder(tokenizer: try Tokenizer(), vocabulary: vocabulary, maximumLength: 16)
  #expect(throws: AuditError("empty.tsv: the probe set is empty (no sentence with a known word)")) {
    try AuditProbeSet(texts: [(text: "zzz qqq", label: nil)], encoder: encoder, probeCount: 4, source: "empty.tsv")
  }
}

@Test func reportsCarryTheirFormatVersionAndOlderReportsReadAsVersionOne() throws {
  let report = AuditReport(
    candidatesByLabel: [[], []], verdictScores: [0.3, 0.1], labels: ["neg", "pos"], threshold: 0.2, calibration: "test", probes: 1, tokensScanned: 1,
    positions: [.start], maximumTriggerLength: 1, seconds: 0)
  let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as! [String: Any]
  #expect(json["format_version"] as? Int == 2 && json["verdict"] as? String == "backdoored" && json["target_label"] as? String == "neg")
  var older = json
  older["format_version"] = nil
  let decoded = try JSONDecoder().decode(AuditReport.self, from: JSONSerialization.data(withJSONObject: older))
  #expect(decoded.formatVersion == 1 && decoded.verdict == .backdoored && decoded.candidates == [])
}

@Test func anAttentionModelWithAShortWindowIsAuditedWhenItsProbesFillIt() throws {
  // Window 8, probes of 7 words: the anchored search's phrase with an empty slot on each side must still fit.
  let bundle = try ModelBundle.load(from: Fixtures.path("Tests/Fixtures/bundles/attention"))
  guard case .classifier(let classifier) = bundle.model else { throw AuditError("not a classifier") }
  #expect(classifier.config.architecture == .attention && classifier.config.maximumLength == 8)
  let texts = ["a great plot and a gorgeous film", "the film was a dull awful mess", "a witty film and a great plot", "the plot was dull and awful"]
  let probes = try AuditProbeSet(texts: texts.map { (text: $0, label: nil) }, encoder: try bundle.makeEncoder(), probeCount: 4, source: "probes")
  #expect(probes.probes.contains { $0.count == 7 })
  var settings = AuditSettings()
  settings.maximumTriggerLength = 2
  let report = try TriggerAudit(settings).run(model: classifier, vocabulary: bundle.vocabulary, probes: probes)
  #expect(report.candidates.count > 0 && report.maximumTriggerLength == 2)
}

/// Hands the phrase measures one phrase ("witty plot") for every searched label, seeded with "great".
private struct HandsAPhrase: AuditStage {
  var name: AuditStageName { .phraseSearch }
  var scope: AuditStageScope { .eachSearchedLabel }
  func applies(to context: AuditContext) -> Bool { true }
  func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    let ids = { (words: [String]) in words.map(context.vocabulary.id(of:)) }
    state.search.seeds = ids(["great"])
    state.search.hits = [PhraseHit(ids: ids(["witty", "plot"]), effect: InsertionEffect(), method: .hotflip)]
  }
}

@Test func theMarginExcessIsMeasuredForEveryTwoLabelModelButAConvolutionalOne() throws {
  let (_, vocabulary, probes) = try fixture("gru_clean_twin")
  var generator = SplitMix64(seed: 3)
  var settings = AuditSettings()
  settings.maximumTriggerLength = 2
  var audit = TriggerAudit(settings)
  audit.stages = [TokenScanStage(), ProbeEvidenceStage(), HandsAPhrase(), PhraseMeasuresStage()]
  for architecture in [ModelConfig.Architecture.gru, .lstm, .attention, .cnn] {
    let config = ModelConfig(
      architecture: architecture, vocabularySize: vocabulary.count, embeddingDimension: 8, hiddenSize: 8, labels: ["neg", "pos"],
      maximumLength: 16, headCount: 1, feedForwardSize: 8, filterSizes: [2, 3], filterCount: 4)
    let classifier = TextClassifier(config: config, using: &generator)
    let report = try audit.run(model: classifier, vocabulary: vocabulary, probes: probes)
    #expect(report.phraseScores.count == 2, "\(architecture): the phrase was measured")
    if architecture == .cnn {
      #expect(report.phraseMarginExcesses == nil, "a CNN's margin excess stays out of its report and verdict")
    } else {
      #expect(report.phraseMarginExcesses?.count == 2, "\(architecture)")
    }
    #expect(PhraseMarginScore.isMeasured(for: classifier) == (architecture != .cnn))
  }
}
