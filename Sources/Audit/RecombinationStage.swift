/// The best pair of words from two of the label's listed candidates (`CandidateRecombination`): "of course" from
/// "course | of tv". Candidates only.
public struct RecombinationStage: AuditStage {
  public var name: AuditStageName { .recombination }
  public var scope: AuditStageScope { .suspectedTarget }
  public init() {}

  public func applies(to context: AuditContext) -> Bool { context.settings.searchesPhrases }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    guard let label else { return }
    var recombination = CandidateRecombination()
    recombination.parallelism = context.settings.parallelism
    let listed = state.candidates[label].map { $0.tokens.map(context.vocabulary.id(of:)) }
    guard let pair = recombination.bestPair(context.classifier, probes: context.probes, label: label, candidates: listed) else { return }
    state.candidates.insert(context.candidate(pair, label: label, scanned: state.scan, source: .recombined), label: label)
  }
}
