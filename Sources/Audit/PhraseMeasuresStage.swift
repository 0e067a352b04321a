/// The label's phrases and pairs measured like the single tokens (every probe, every position), the phrase, margin and
/// conjunction evidence the verdict reads, and the label's candidates merged with them.
public struct PhraseMeasuresStage: AuditStage {
  public var name: AuditStageName { .phraseMeasures }
  public var scope: AuditStageScope { .eachSearchedLabel }
  public init() {}

  public func applies(to context: AuditContext) -> Bool { context.settings.searchesPhrases }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    guard let label else { return }
    let classifier = context.classifier, vocabulary = context.vocabulary, probes = context.probes
    let maximumLength = context.settings.maximumTriggerLength
    let scanned = state.scan
    let hits = state.search.hits
    let conjunctionExcess = state.search.pairs.first?.excess
    let leads = state.search.leads.filter { lead in !hits.contains { $0.ids == lead } }
    // A bidirectional GRU's pairs are candidates, not evidence: its scan stays out of the verdict.
    if ConjunctionScan.applies(to: classifier) { state.scores.conjunctionExcess[label] = conjunctionExcess }
    var phrases: [TriggerCandidate] = [], pairs: [TriggerCandidate] = []
    if hits.isEmpty && leads.isEmpty {
      state.scores.phraseOverStrongest[label] = 0
    } else {
      let strongest = Array(state.search.seeds.prefix(maximumLength))
      let measured = context.tokenScan.effects(classifier, inserting: [strongest] + hits.map(\.ids) + leads, into: probes).map { $0[label] }
      let robust = scanned.flipRateScale(label: label, vocabulary: vocabulary)
      let found = zip(hits.map { ($0.ids, $0.method) } + leads.map { ($0, CandidateSource.conjunction) }, measured.dropFirst()).map { phrase, effect in
        TriggerCandidate(
          trigger: phrase.0.map { vocabulary.tokens[$0] }.joined(separator: " "), label: classifier.labels[label], effect: effect,
          score: robust.z(effect.flipRate), method: phrase.1)
      }
      phrases = Array(found.prefix(hits.count))
      pairs = Array(found.dropFirst(hits.count))
      // The phrase score is the searched phrases' alone; the conjunction pairs have their own score.
      let bestIndex = measured.dropFirst().prefix(hits.count).indices.max { measured[$0].confidentFlipRate < measured[$1].confidentFlipRate }
      state.scores.phraseOverStrongest[label] = phraseExcess(bestPhrase: bestIndex.map { measured[$0] }, strongestTokensTogether: measured[0])
      // The same phrase against the label's strongest tokens outside it: a planted phrase's words are among the
      // label's strongest tokens only because of the backdoor, so comparing the phrase with them alone compares the
      // trigger with itself.
      state.scores.phraseOverOthers[label] = bestIndex.flatMap { index -> Double? in
        let others = scanned.strongestTokens(label: label, count: maximumLength, outside: hits[index - 1].ids)
        guard !others.isEmpty else { return nil }
        // A phrase of none of the strongest tokens is compared with them again: measured already.
        let othersTogether =
          others == strongest ? measured[0] : context.tokenScan.effects(classifier, inserting: [others], into: probes)[0][label]
        return phraseExcess(bestPhrase: measured[index], strongestTokensTogether: othersTogether)
      }
      if PhraseMarginScore.isMeasured(for: classifier) {
        state.scores.marginExcess[label] = phraseMarginExcess(
          classifier, probes: probes, label: label, strongest: strongest, phrases: hits.map(\.ids), positions: context.tokenScan.positions,
          parallelism: context.settings.parallelism)
      }
    }
    let scores = state.scores
    // When the label's score rests on the conjunction scan, its pairs are the evidence and lead the candidates.
    let pairsLead = scores.conjunctionScore(label) > max(scores.token[label], scores.phraseScore(label))
    state.candidates.add(phrases: phrases, pairs: pairs, label: label, pairsLead: pairsLead)
  }
}
