import Foundation
import Models
import Synchronization
import Tokenization

/// ONION (Qi et al. 2021): a trigger word is an outlier in fluent text, so taking it out makes the sentence much
/// more probable under a language model. Each word's suspicion is the sentence's log-perplexity (mean negative
/// log-likelihood per word, nats) less its log-perplexity without that word; an input's score is its highest word
/// suspicion. (The paper subtracts perplexities, `Scale.perplexity`; their differences grow with how short a sentence
/// is.) Inputs scoring above a threshold, calibrated
/// on clean inputs to a chosen false-rejection rate, are flagged, and words above it are removed. The paper used
/// GPT-2; here the language model is a lab next-word model (`train-lm`), whose vocabulary reads words it never
/// saw as `<unk>`. With a `SpellingModel` of the words its vocabulary left out, an unknown word costs
/// −log P(<unk> | context) − log P(spelling), as GPT-2 would spell it out in pieces; without one, every unknown word
/// costs what `<unk>` does, however odd it is.
public struct ONIONFilter: Sendable {
  public let languageModel: NextWordModel
  /// The language model's vocabulary and tokeniser (its length limit is not used: inputs arrive as words).
  public let encoder: TextEncoder
  /// What a word's suspicion subtracts: log-perplexities (mean negative log-likelihood per word), perplexities, or
  /// total negative log-likelihoods (nats: what the word costs where it stands, and what it does to the words after).
  public let scale: Scale
  /// Spells out the words the language model reads as `<unk>` (nil: they cost what `<unk>` does).
  public let spelling: SpellingModel?
  /// Suspicions already computed, by input: a filter run scores the same texts again when it cleans them, and the
  /// language model's cost (a full softmax per word per input-less-one-word) dominates ONION.
  private let known = Known()

  private final class Known: Sendable { let byInput = Mutex<[[String]: [Double]]>([:]) }

  public enum Scale: String, CaseIterable, Sendable { case logPerplexity = "log-perplexity", perplexity, nats }

  public init(languageModel: NextWordModel, encoder: TextEncoder, scale: Scale = .logPerplexity, spelling: SpellingModel? = nil) {
    self.languageModel = languageModel
    self.encoder = encoder
    self.scale = scale
    self.spelling = spelling
  }

  /// Each word's suspicion in each input (words as the language model's tokeniser splits them).
  public func suspicions(_ inputs: [[String]]) -> [[Double]] {
    let cached = known.byInput.withLock { table in inputs.map { table[$0] } }
    var missing: [[String]] = []
    var seen = Set<[String]>()
    for (words, result) in zip(inputs, cached) where result == nil && seen.insert(words).inserted { missing.append(words) }
    let computed = Dictionary(uniqueKeysWithValues: zip(missing, computeSuspicions(missing)))
    known.byInput.withLock { table in table.merge(computed) { old, _ in old } }
    return zip(inputs, cached).map { words, result in result ?? computed[words]! }
  }

  private func computeSuspicions(_ inputs: [[String]]) -> [[Double]] {
    // Every input and every input-less-one-word go through the model together; each word is looked up once.
    // `spellings` holds, per sequence, what spelling out its unknown words adds (the first word is no target).
    var sequences: [[Int]] = [], spellings: [Double] = []
    let unknown = encoder.vocabulary.unknownID
    for words in inputs {
      let ids = words.map(encoder.vocabulary.id(of:))
      let costs = zip(words, ids).map { word, id in id == unknown ? spelling?.negativeLogLikelihood(word) ?? 0 : 0 }
      let all = costs.reduce(0, +)
      sequences.append(ids)
      spellings.append(all - (costs.first ?? 0))
      for index in ids.indices {
        var shorter = ids
        shorter.remove(at: index)
        sequences.append(shorter)
        let first = index == 0 ? 1 : 0
        spellings.append(all - costs[index] - (first < costs.count ? costs[first] : 0))
      }
    }
    let likelihoods = zip(languageModel.negativeLogLikelihoods(sequences), spellings).map { value, spelled in
      (nll: value.nll + (value.targets > 0 ? spelled : 0), targets: value.targets)
    }
    let scale = scale
    func perplexity(_ value: (nll: Double, targets: Int)) -> Double? {
      guard value.targets > 0 else { return nil }
      let logPerplexity = value.nll / Double(value.targets)
      switch scale {
      case .logPerplexity: return logPerplexity
      case .perplexity: return exp(logPerplexity)
      case .nats: return value.nll
      }
    }
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
