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
    sentenceCounts.keys.filter { !vocabulary.isSpecial($0) }
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
