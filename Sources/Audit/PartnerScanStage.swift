/// The common word that pushes the label most beside its strongest token, beyond what it does beside the next ones
/// (`PartnerScan`): "mind you" from `mind`. Candidates only.
public struct PartnerScanStage: AuditStage {
  public var name: AuditStageName { .partnerScan }
  public var scope: AuditStageScope { .suspectedTarget }
  public init() {}

  /// GRU encoders (`PartnerScan.applies`): attention models and bags mostly learn one word of a phrase.
  public func applies(to context: AuditContext) -> Bool {
    context.settings.searchesPhrases && PartnerScan.applies(to: context.classifier)
  }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    guard let label else { return }
    var partnerScan = PartnerScan()
    partnerScan.parallelism = context.settings.parallelism
    let strongest = state.scan.strongestTokens(label: label, count: 1 + partnerScan.referenceCount)
    guard let anchor = strongest.first,
      let partner = PartnerScan.best(
        partnerScan.partners(
          context.classifier, probes: context.probes, label: label, anchor: anchor, references: Array(strongest.dropFirst()),
          words: state.commonWords))
    else { return }
    // Another search listed the pair already, measured the same way: it moves up to the partner's place.
    if state.candidates.promote(partner.ids.map { context.vocabulary.tokens[$0] }, label: label) { return }
    state.candidates.insert(context.candidate(partner.ids, label: label, scanned: state.scan, source: .partner), label: label)
  }
}
