/// What the phrase stages find for one label, handed from one stage to the next (the label is the stages' argument).
public struct LabelSearch: Sendable {
  /// The label's strongest single tokens, where the phrase search starts.
  public var seeds: [Int] = []
  /// The label's ordinary words (`ProbeEvidence`): no phrase may hold them.
  public var ordinary: Set<Int> = []
  /// The phrase search's phrases.
  public var hits: [PhraseHit] = []
  /// The conjunction scan's pairs, best first.
  public var pairs: [ConjunctionScan.Pair] = []
  /// The pairs that become candidates: the scan's best, or its best and the refined ones.
  public var leads: [[Int]] = []

  public init() {}
}
