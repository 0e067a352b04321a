/// The evidence each label's verdict score is made of; nil where a stage did not run for the label or found nothing.
public struct LabelScores: Sendable, Equatable {
  /// `ScanResult.tokenVerdictScores`: the best token's confident flip rate less the third's.
  public var token: [Double]
  /// `phraseExcess` of the searched phrases over the label's strongest tokens together (0 when none was found).
  public var phraseOverStrongest: [Double?]
  /// `phraseExcess` of the best phrase over the label's strongest tokens outside it.
  public var phraseOverOthers: [Double?]
  /// The conjunction scan's best pair's excess (nats), where the scan counts in the verdict (`ConjunctionScan.applies`).
  public var conjunctionExcess: [Double?]
  /// `phraseMarginExcess`: nats the best phrase moves the label's margin beyond its strongest tokens together.
  public var marginExcess: [Double?]

  public init(token: [Double]) {
    self.token = token
    let none = [Double?](repeating: nil, count: token.count)
    phraseOverStrongest = none
    phraseOverOthers = none
    conjunctionExcess = none
    marginExcess = none
  }

  public var labelCount: Int { token.count }

  /// `PhraseScore.verdictScore` of the label's phrases (0 when not searched).
  public func phraseScore(_ label: Int) -> Double {
    phraseOverStrongest[label].map { PhraseScore.verdictScore(overStrongest: $0, overOthers: phraseOverOthers[label]) } ?? 0
  }

  /// `ConjunctionScan.verdictScore` of the label's best pair (0 when the scan does not count for this model).
  public func conjunctionScore(_ label: Int) -> Double {
    conjunctionExcess[label].map { ConjunctionScan.verdictScore(bestExcess: $0) } ?? 0
  }

  /// The label's verdict score: the largest of its token, phrase, conjunction and (two-label models) margin scores.
  public func verdictScore(_ label: Int) -> Double {
    labelVerdictScore(
      token: token[label], phrase: phraseOverStrongest[label], phraseOverOthers: phraseOverOthers[label],
      conjunctionExcess: conjunctionExcess[label], marginExcess: marginExcess[label], labelCount: labelCount)
  }

  public var verdictScores: [Double] { token.indices.map(verdictScore) }

  /// The labels the phrase search runs for: every label of a binary model, else the three with the highest token
  /// scores (ties to the first label).
  public var labelsToSearch: [Int] { Array(token.indices.sorted { (token[$0], -$0) > (token[$1], -$1) }.prefix(3)) }
}
