import Foundation
import Models
import Synchronization
import Tokenization

/// ONION (Qi et al. 2021): a trigger word is an outlier in fluent text, so taking it out makes the sentence much
/// more probable under a language model. Each word's suspicion is the sentence's total negative log-likelihood (nats)
/// less its total without that word: what the word costs where it stands and what it does to the words after it
/// (`Scale`: the paper subtracts perplexities, whose differences grow with how short a sentence is; log-perplexities,
/// nats per word, are the third choice). An input's score is its highest word suspicion; inputs scoring above a
/// threshold calibrated on clean inputs to a chosen false-rejection rate are flagged. Words above a second threshold,
/// `Removal`, are removed before the classifier reads the input. The paper used GPT-2; here the language model is a
/// lab next-word model (`train-lm`). A word-level model reads words it never saw as `<unk>`: with a `SpellingModel` of
/// the words its vocabulary left out, an unknown word costs −log P(<unk> | context) − log P(spelling); without one,
/// every unknown word costs what `<unk>` does, however odd it is. A WordPiece model (`train-lm --wordpiece-size`)
/// spells every word in its pieces, as GPT-2 does: a word costs what its pieces do, and removing it removes them all.
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
  /// language model's cost (a softmax over its vocabulary per word of each input-less-one-word) dominates ONION.
  private let known = Known()

  private final class Known: Sendable { let byInput = Mutex<[[String]: [Double]]>([:]) }

  public enum Scale: String, CaseIterable, Sendable { case logPerplexity = "log-perplexity", perplexity, nats }

  /// Cuts an input into the words ONION scores and removes: the language model's own tokeniser for a word-level model,
  /// the lab's word tokeniser for a WordPiece one (whose tokeniser yields pieces).
  public let wordTokenizer: Tokenizer

  public init(languageModel: NextWordModel, encoder: TextEncoder, scale: Scale = .nats, spelling: SpellingModel? = nil) throws(TokenizationError) {
    self.languageModel = languageModel
    self.encoder = encoder
    self.scale = scale
    self.spelling = spelling
    wordTokenizer = encoder.tokenizer.options.kind == .wordpiece ? try Tokenizer() : encoder.tokenizer
  }

  /// Whether the language model reads words as WordPiece pieces.
  public var readsPieces: Bool { encoder.tokenizer.options.kind == .wordpiece }

  /// The words ONION scores in `text`.
  public func words(in text: String) -> [String] { wordTokenizer.words(in: text) }

  /// The language model's ids for one word: its id (maybe `<unk>`) for a word-level model, its pieces for a WordPiece
  /// one (none for a word of characters BERT's normaliser drops).
  public func units(of word: String) -> [Int] {
    readsPieces ? encoder.tokenizer.words(in: word).map(encoder.vocabulary.id(of:)) : [encoder.vocabulary.id(of: word)]
  }

  /// The share of `inputs`' words the language model reads without `<unk>`, and the share it reads as one token (the
  /// same for a word-level model; for a WordPiece model, the words that are whole entries of its vocabulary).
  public func coverage(of inputs: [[String]]) -> (known: Double, whole: Double) {
    var (words, known, whole) = (0, 0, 0)
    var seen: [String: [Int]] = [:]
    for word in inputs.joined() {
      let ids = seen[word] ?? units(of: word)
      seen[word] = ids
      words += 1
      if !ids.isEmpty && !ids.contains(encoder.vocabulary.unknownID) { known += 1 }
      if ids.count == 1 && ids[0] != encoder.vocabulary.unknownID { whole += 1 }
    }
    return (Double(known) / Double(max(words, 1)), Double(whole) / Double(max(words, 1)))
  }

  /// Each word's suspicion in each input (words as `words(in:)` cuts them).
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
    // `spellings` holds, per sequence, what spelling out its unknown words adds (the first token is no target; only a
    // word-level model spells, so a spelled word is one token). Word i's tokens start at `spans[i].lowerBound`: the
    // input less word i predicts its targets before that from the same prefixes as the whole input does, so only its
    // targets from there on are scored and the earlier ones are taken from the whole input's.
    var sequences: [[Int]] = [], starts: [Int] = [], spellings: [Double] = [], allSpans: [[Range<Int>]] = []
    var unitsByWord: [String: [Int]] = [:]
    let unknown = encoder.vocabulary.unknownID
    for words in inputs {
      var ids: [Int] = [], spans: [Range<Int>] = []
      for word in words {
        let units = unitsByWord[word] ?? self.units(of: word)
        unitsByWord[word] = units
        spans.append(ids.count..<(ids.count + units.count))
        ids += units
      }
      let costs = zip(words, spans).map { word, span in
        !readsPieces && ids[span.lowerBound] == unknown ? spelling?.negativeLogLikelihood(word) ?? 0 : 0
      }
      let all = costs.reduce(0, +)
      sequences.append(ids)
      starts.append(1)
      spellings.append(all - (costs.first ?? 0))
      for (index, span) in spans.enumerated() {
        var shorter = ids
        shorter.removeSubrange(span)
        sequences.append(shorter)
        starts.append(max(span.lowerBound, 1))
        let first = index == 0 ? 1 : 0
        spellings.append(all - costs[index] - (first < costs.count ? costs[first] : 0))
      }
      allSpans.append(spans)
    }
    let targetLikelihoods = languageModel.targetNegativeLogLikelihoods(sequences, from: starts)
    var likelihoods: [(nll: Double, targets: Int)] = []
    likelihoods.reserveCapacity(sequences.count)
    var first = 0
    for (words, spans) in zip(inputs, allSpans) {
      let whole = targetLikelihoods[first]
      likelihoods.append((whole.reduce(0, +), whole.count))
      for (index, span) in spans.enumerated() {
        let sharedCount = max(span.lowerBound - 1, 0)
        let shared = whole.prefix(sharedCount).reduce(0, +), rest = targetLikelihoods[first + 1 + index]
        likelihoods.append((shared + rest.reduce(0, +), sharedCount + rest.count))
      }
      first += 1 + words.count
    }
    likelihoods = zip(likelihoods, spellings).map { value, spelled in (nll: value.nll + (value.targets > 0 ? spelled : 0), targets: value.targets) }
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

  /// How the suspicion above which words are removed is chosen.
  public enum Removal: Sendable, Equatable {
    /// Qi et al.'s choice: as low as clean accuracy allows, staying within this drop (a share: 0.02 is 2 points) of
    /// the accuracy with nothing removed.
    case accuracyDrop(Double)
    /// The threshold that flags inputs (removes words only from the inputs it flags).
    case flaggingThreshold
  }

  /// The lowest removal threshold whose clean accuracy stays within `maximumDrop` of the accuracy with nothing removed:
  /// candidate thresholds (`candidates` quantiles of the clean inputs' word suspicions) are tried from the highest
  /// down, and the scan stops at the first whose `accuracy` falls more than `maximumDrop` below; the one before it is
  /// chosen, so every threshold between it and "remove nothing" kept the accuracy too. `accuracy(t)` is the clean
  /// accuracy with the words above `t` removed. Returns the threshold, the accuracy with nothing removed, and at it.
  public static func removalThreshold(
    cleanSuspicions: [[Double]], maximumDrop: Double, candidates: Int = 100, accuracy: (_ threshold: Double) -> Double
  ) -> (threshold: Double, accuracyBefore: Double, accuracyAfter: Double) {
    let all = cleanSuspicions.flatMap { $0 }.filter(\.isFinite).sorted()
    let before = accuracy(.infinity)
    guard let highest = all.last else { return (.infinity, before, before) }
    var chosen = (threshold: highest, accuracyBefore: before, accuracyAfter: before)
    var tried: Set<Double> = [highest]
    for step in 1...max(candidates, 1) {
      // The quantile 1 − step/candidates: about step/candidates of the clean words lie above it.
      let position = Int((Double(all.count - 1) * (1 - Double(step) / Double(max(candidates, 1)))).rounded(.down))
      let threshold = all[max(position, 0)]
      guard tried.insert(threshold).inserted else { continue }
      let after = accuracy(threshold)
      if after < before - maximumDrop - 1e-12 { break }
      chosen = (threshold, before, after)
    }
    return chosen
  }

  /// The score above which inputs are flagged: the (1 − `falseRejectionRate`) quantile of clean inputs' scores.
  public static func threshold(cleanScores: [Double], falseRejectionRate: Double) -> Double {
    calibratedThreshold(cleanScores, falseRejectionRate: falseRejectionRate, flaggedAbove: true)
  }
}
