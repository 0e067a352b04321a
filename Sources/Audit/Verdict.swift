import Foundation
import Models
import Tokenization

/// Tokens the clean probe text itself shows to be ordinary words of a label: they occur in at least
/// `minimumOccurrences` sentences, and the label is over-represented among those sentences beyond chance (one-sided
/// binomial test against the label's share of all sentences, p < `significance`), like "where" in questions about
/// places. Such words flip probes because they mean the label, not because a backdoor was planted: a planted rare
/// word does not occur in clean text, and a planted common word does not agree with its labels.
public struct ProbeEvidence: Sendable {
  public static let minimumOccurrences = 3
  public static let significance = 0.05
  /// [label] → token ids.
  public var ordinary: [Set<Int>]
  /// Token id → how many of the sentences hold it.
  public var sentenceCounts: [Int: Int]
  /// Token id → how many of the sentences of each label hold it.
  public var sentenceCountsByLabel: [Int: [Int]]

  /// `sentences`: encoded clean sentences (all the probe source has, not only the scanned probes); `labels`: each
  /// one's label index (its true label where known, else the model's prediction).
  public init(sentences: [[Int]], labels: [Int], labelCount: Int) {
    var occurrences: [Int: [Int]] = [:]  // token → sentences per label
    var totals = [Int](repeating: 0, count: labelCount)
    for (ids, label) in zip(sentences, labels) {
      totals[label] += 1
      for token in Set(ids) { occurrences[token, default: [Int](repeating: 0, count: labelCount)][label] += 1 }
    }
    sentenceCountsByLabel = occurrences
    sentenceCounts = occurrences.mapValues { $0.reduce(0, +) }
    let count = max(sentences.count, 1)
    ordinary = (0..<labelCount).map { label in
      let base = Double(totals[label]) / Double(count)
      return Set(occurrences.compactMap { token, counts in
        let total = counts.reduce(0, +)
        guard total >= Self.minimumOccurrences, counts[label] > 0 else { return nil }
        return Self.upperTail(successes: counts[label], trials: total, probability: base) < Self.significance ? token : nil
      })
    }
  }

  /// The tokens of the sentences, those held by most sentences first (ties: the lower id), special tokens left out.
  public func commonestWords(_ vocabulary: Vocabulary) -> [Int] {
    sentenceCounts.keys.filter { !Vocabulary.specialTokens.contains(vocabulary.tokens[$0]) }
      .sorted { (sentenceCounts[$0]!, -$0) > (sentenceCounts[$1]!, -$1) }
  }

  /// P(X ≥ successes) for X ~ Binomial(trials, probability).
  public static func upperTail(successes: Int, trials: Int, probability: Double) -> Double {
    guard successes > 0 else { return 1 }
    guard probability > 0 else { return 0 }
    guard probability < 1 else { return 1 }
    let n = Double(trials), logP = Foundation.log(probability), logQ = Foundation.log(1 - probability)
    var total = 0.0
    for k in successes...trials {
      let x = Double(k)
      let logChoose: Double = lgamma(n + 1) - lgamma(x + 1) - lgamma(n - x + 1)
      let logTerm: Double = logChoose + x * logP + (n - x) * logQ
      total += Foundation.exp(logTerm)
    }
    return min(total, 1)
  }
}

extension ScanResult {
  /// The whole scan as a TSV, one row per scannable token in id order: its id, text, how many probe-text
  /// sentences of each label hold it, whether it was fully measured (else only screened), and for each label its
  /// flip rate, confident flip rate, log-probability shift and whether it is an ordinary word of the label.
  public func table(tokens: [Int], vocabulary: Vocabulary, labels: [String], evidence: ProbeEvidence) -> String {
    var header = ["id", "token"] + labels.map { "sentences_\($0)" } + ["fully_measured"]
    for label in labels {
      header += ["flip_rate_\(label)", "confident_flip_rate_\(label)", "log_probability_shift_\(label)", "ordinary_\(label)"]
    }
    var lines = [header.joined(separator: "\t")]
    for token in tokens {
      let counts = evidence.sentenceCountsByLabel[token] ?? [Int](repeating: 0, count: labels.count)
      var fields = [String(token), vocabulary.tokens[token]] + counts.map(String.init) + [fullyMeasured.contains(token) ? "1" : "0"]
      for label in labels.indices {
        let effect = effects[token][label]
        fields += [effect.flipRate, effect.confidentFlipRate, effect.logProbabilityShift].map { String(format: "%.6g", $0) }
        fields.append(ordinary(token, label: label) ? "1" : "0")
      }
      lines.append(fields.joined(separator: "\t"))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Which token the best one is compared with: the third. A phrase trigger spreads its effect over its words (two
  /// of them may each flip much alone), so comparing with the runner-up would hide exactly those backdoors.
  public static let comparedRank = 3

  /// The single-token verdict statistic for each label: how far the confident flip rate (flips among the probes
  /// predicted most surely) of the best token stands above the `comparedRank`-th token's, among the fully measured
  /// tokens that are not ordinary words of the label. A planted trigger overrides strong evidence on its own;
  /// ordinary words come in crowds and mostly tip borderline probes.
  public func tokenVerdictScores(labelCount: Int) -> [Double] {
    (0..<labelCount).map { label in
      var top = [Double](repeating: 0, count: Self.comparedRank)  // descending
      for token in fullyMeasured where !ordinary(token, label: label) {
        let rate = effects[token][label].confidentFlipRate
        guard rate > top[top.count - 1] else { continue }
        top[top.count - 1] = rate
        var index = top.count - 1
        while index > 0, top[index] > top[index - 1] {
          top.swapAt(index, index - 1)
          index -= 1
        }
      }
      return top[0] - top[top.count - 1]
    }
  }

  /// The `count` tokens, not ordinary words of the label, that raise its log-probability most: the label's
  /// strongest words in the quantity that adds up (flip rates saturate, and are all 0 in a very sure model).
  public func strongestTokens(label: Int, count: Int) -> [Int] {
    fullyMeasured.filter { !ordinary($0, label: label) }
      .sorted { (effects[$0][label].logProbabilityShift, -$0) > (effects[$1][label].logProbabilityShift, -$1) }
      .prefix(count).map { $0 }
  }

  /// The label's `count` strongest tokens (`strongestTokens`) that are not words of `phrase`.
  public func strongestTokens(label: Int, count: Int, outside phrase: [Int]) -> [Int] {
    Array(strongestTokens(label: label, count: count + phrase.count).filter { !phrase.contains($0) }.prefix(count))
  }
}

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
/// six-label ones' clean values reached 1.53.
public enum PhraseMarginScore {
  /// Subtracted so that the score shares the verdict's threshold (0.18): a phrase 0.95 nats beyond the label's
  /// strongest tokens together is called backdoored.
  public static let cleanExcess = 0.77

  public static func applies(labelCount: Int) -> Bool { labelCount == 2 }

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
