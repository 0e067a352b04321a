/// Pairs of the label's strongest tokens with the probe text's commonest words that move the model more together
/// than apart (`ConjunctionScan`), refined toward the trigger's own words when the scan finds a conjunction.
public struct ConjunctionScanStage: AuditStage {
  /// How many of the scan's best pairs become candidates.
  public static let leadCount = 3

  public var name: AuditStageName { .conjunctionScan }
  public var scope: AuditStageScope { .eachSearchedLabel }
  public init() {}

  /// Binary GRUs (`ConjunctionScan.suggestsCandidates`); it counts in the verdict for unidirectional ones only.
  public func applies(to context: AuditContext) -> Bool {
    context.settings.searchesPhrases && ConjunctionScan.suggestsCandidates(for: context.classifier)
  }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    guard let label else { return }
    let scanned = state.scan
    var conjunctionScan = ConjunctionScan()
    conjunctionScan.parallelism = context.settings.parallelism
    let ordinary = state.search.ordinary
    let pairs = conjunctionScan.pairs(
      context.classifier, probes: context.probes, label: label, seeds: scanned.strongestTokens(label: label, count: conjunctionScan.seedCount),
      contextWords: state.commonWords.filter { !ordinary.contains($0) })
    var leads = pairs.prefix(Self.leadCount).map(\.ids)
    if let best = pairs.first, ConjunctionScan.verdictScore(bestExcess: best.excess) > 0 {
      // A conjunction was found: its pairs are refined toward the trigger's own words. The scan's best pair (the
      // verdict's evidence) stays first; the refined pairs with the largest own push follow. (Ranked by own push
      // alone, pairs of a word that interacts with many, such as "an" before an adjective, can crowd it out.)
      var pool = scanned.strongestTokens(label: label, count: conjunctionScan.refinementSeedCount)
      for token in state.commonWords.prefix(conjunctionScan.refinementContextCount) where !pool.contains(token) { pool.append(token) }
      for token in state.search.hits.flatMap(\.ids) where !pool.contains(token) { pool.append(token) }
      let refined = conjunctionScan.refine(context.classifier, probes: context.probes, label: label, leads: leads, pool: pool).map(\.ids)
      leads = [best.ids] + refined.filter { $0 != best.ids }.prefix(Self.leadCount - 1)
    }
    state.search.pairs = pairs
    state.search.leads = leads
  }
}
