/// Every vocabulary token inserted into the probes (`TokenScan.twoStage`): each token's effect toward each label.
public struct TokenScanStage: AuditStage {
  public var name: AuditStageName { .tokenScan }
  public var scope: AuditStageScope { .wholeModel }
  public init() {}

  public func applies(to context: AuditContext) -> Bool { true }

  public func run(_ context: AuditContext, label: Int?, state: inout AuditState) throws {
    state.scanned = context.tokenScan.twoStage(context.classifier, vocabulary: context.vocabulary, probes: context.probes)
  }
}
