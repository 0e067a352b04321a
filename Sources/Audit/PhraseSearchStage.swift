/// Phrases toward the label (`PhraseSearch`: HotFlip, relaxed and anchored searches), seeded with its strongest
/// single tokens, without its ordinary words.
public struct PhraseSearchStage: AuditStage {
  public var name: AuditStageName { .phraseSearch }
  public var scope: AuditStageScope { .eachSearchedLabel }
  public init() {}

  public func applies(to context: AuditContext) -> Bool { context.settings.searchesPhrases }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    guard let label else { return }
    var search = PhraseSearch()
    search.maximumLength = context.settings.maximumTriggerLength
    search.parallelism = context.settings.parallelism
    let scanned = state.scan
    state.search.ordinary = label < scanned.ordinaryWords.count ? scanned.ordinaryWords[label] : []
    state.search.seeds = scanned.strongestTokens(label: label, count: max(search.seedCount, search.maximumLength))
    state.search.hits = search.search(
      context.classifier, vocabulary: context.vocabulary, probes: Array(context.probes.prefix(PhraseSearch.searchProbes)), label: label,
      seeds: state.search.seeds, excluded: state.search.ordinary, commonWords: state.commonWords)
  }
}
