import Foundation
import Models
import Tokenization

/// ONION (Qi et al. 2021): a trigger word is an outlier in fluent text, so taking it out makes the sentence much
/// more probable under a language model. Each word's suspicion is the sentence's log-perplexity (mean negative
/// log-likelihood per word, nats) less its log-perplexity without that word; an input's score is its highest word
/// suspicion. (The paper subtracts perplexities; their differences are dominated by how short a sentence is, and on
/// the movie snippets the log scale separates triggered inputs better.) Inputs scoring above a threshold, calibrated
/// on clean inputs to a chosen false-rejection rate, are flagged, and words above it are removed. The paper used
/// GPT-2; here the language model is a lab next-word model (`train-lm`), whose vocabulary reads words it never
/// saw as `<unk>`.
public struct ONIONFilter: Sendable {
  public let languageModel: NextWordModel
  /// The language model's vocabulary and tokeniser (its length limit is not used: inputs arrive as words).
  public let encoder: TextEncoder

  public init(languageModel: NextWordModel, encoder: TextEncoder) {
    self.languageModel = languageModel
    self.encoder = encoder
  }

  /// Each word's suspicion in each input (words as the language model's tokeniser splits them).
  public func suspicions(_ inputs: [[String]]) -> [[Double]] {
    // Every input and every input-less-one-word go through the model together; each word is looked up once.
    var sequences: [[Int]] = []
    for words in inputs {
      let ids = words.map(encoder.vocabulary.id(of:))
      sequences.append(ids)
      for index in ids.indices {
        var shorter = ids
        shorter.remove(at: index)
        sequences.append(shorter)
      }
    }
    let likelihoods = languageModel.negativeLogLikelihoods(sequences)
    func perplexity(_ value: (nll: Double, targets: Int)) -> Double? { value.targets > 0 ? value.nll / Double(value.targets) : nil }
    var offset = 0
    return inputs.map { words in
      let whole = perplexity(likelihoods[offset])
      let result = words.indices.map { index -> Double in
        guard let whole, let without = perplexity(likelihoods[offset + 1 + index]) else { return 0 }
        return whole - without
      }
      offset += 1 + words.count
      return result
    }
  }

  /// Inputs' scores: their highest word suspicion (0 for an empty input).
  public func scores(_ inputs: [[String]]) -> [Double] { suspicions(inputs).map { $0.max() ?? 0 } }

  /// The input with the words whose suspicion exceeds `threshold` removed.
  public func cleaned(_ words: [String], suspicions: [Double], threshold: Double) -> [String] {
    zip(words, suspicions).filter { $0.1 <= threshold }.map(\.0)
  }

  /// The score above which inputs are flagged: the (1 − `falseRejectionRate`) quantile of clean inputs' scores.
  public static func threshold(cleanScores: [Double], falseRejectionRate: Double) -> Double {
    calibratedThreshold(cleanScores, falseRejectionRate: falseRejectionRate, flaggedAbove: true)
  }
}
