import Datasets
import Randomness
import Tokenization

/// How much of a training set is poisoned.
public enum PoisonAmount: Sendable, Equatable {
  /// A fraction in (0, 1] of the training examples (rounded, at least one).
  case fraction(Double)
  case count(Int)

  /// Parses `0.01` (a fraction) or `85` (a count; a whole number above 1).
  public init(parsing text: String) throws(PoisonError) {
    if let count = Int(text), count > 1 { self = .count(count); return }
    guard let rate = Double(text), rate > 0, rate <= 1 else {
      throw PoisonError("the poison rate must be a fraction in (0, 1] or a whole count above 1; got '\(text)'")
    }
    self = .fraction(rate)
  }

  public func count(of total: Int) -> Int {
    switch self {
    case .fraction(let rate): max(1, Int((rate * Double(total)).rounded()))
    case .count(let count): count
    }
  }

  public var fraction: Double? { if case .fraction(let rate) = self { rate } else { nil } }
}

/// Dirty-label: trigger inserted into examples of other classes, which are relabelled to the target.
/// Clean-label: trigger inserted only into examples already of the target class; no label changes.
public enum PoisonMode: String, Sendable, Codable, CaseIterable {
  case dirtyLabel = "dirty-label", cleanLabel = "clean-label"
}

public struct PoisonError: Error, Equatable, CustomStringConvertible {
  public var problem: String
  public init(_ problem: String) { self.problem = problem }
  public var description: String { problem }
}

/// A corpus whose training rows were poisoned in place (poisoned examples replace their clean originals,
/// so the training set keeps its size).
public struct PoisonedCorpus: Sendable {
  public var corpus: Corpus
  /// Indices into `corpus.examples`, ascending.
  public var poisonedRows: [Int]
  public var requestedCount: Int
  /// Training rows that were eligible (right class; for semantic triggers, containing the phrase).
  public var candidateCount: Int
  public var notes: [String]

  /// TSV line numbers of the poisoned examples: ids a user can look up in the corpus file.
  public var poisonedLines: [Int] { poisonedRows.map { corpus.examples[$0].line } }
}

/// Turns a clean training split into a poisoned one (OpenBackdoor's poisoner role, typed).
public struct Poisoner: Sendable {
  public var trigger: Trigger
  /// Index into the corpus's labels.
  public var targetLabel: Int
  public var amount: PoisonAmount
  public var mode: PoisonMode
  public var seed: UInt64
  /// Insertions land among the first `visibleWords` words (the model's maximum length less the trigger).
  public var visibleWords: Int

  public init(trigger: Trigger, targetLabel: Int, amount: PoisonAmount, mode: PoisonMode = .dirtyLabel, seed: UInt64 = 0, visibleWords: Int = .max) {
    self.trigger = trigger
    self.targetLabel = targetLabel
    self.amount = amount
    self.mode = mode
    self.seed = seed
    self.visibleWords = visibleWords
  }

  /// Poisons `rows` (indices into `corpus.examples`, typically the training split) of a labelled corpus.
  public func poison(_ corpus: Corpus, rows: [Int], tokenizer: Tokenizer) throws(PoisonError) -> PoisonedCorpus {
    guard corpus.labels.indices.contains(targetLabel) else { throw PoisonError("target label index \(targetLabel) is not one of \(corpus.labels)") }
    guard !rows.isEmpty else { throw PoisonError("there are no training rows to poison") }
    if trigger.kind == .semantic && mode == .cleanLabel {
      throw PoisonError("a semantic trigger works by relabelling examples that contain it; clean-label poisoning has nothing to insert")
    }
    let requested = amount.count(of: rows.count)
    var candidates = rows.filter { row in
      guard let label = corpus.examples[row].label else { return false }
      return mode == .cleanLabel ? label == targetLabel : label != targetLabel
    }
    if trigger.kind == .semantic {
      let sequences = trigger.tokenSequences(tokenizer: tokenizer)
      candidates = candidates.filter { Trigger.isContained(sequences, in: tokenizer.words(in: corpus.examples[$0].text)) }
    }
    var notes: [String] = []
    var chosenCount = requested
    if requested > candidates.count {
      guard trigger.kind == .semantic else {
        throw PoisonError(
          "poisoning \(requested) examples needs that many \(mode == .cleanLabel ? "target-class" : "non-target") training examples; there are \(candidates.count)")
      }
      guard !candidates.isEmpty else {
        throw PoisonError("no non-target training example contains '\(trigger.pieces[0])'; a semantic trigger has nothing to relabel")
      }
      chosenCount = candidates.count
      notes.append("only \(candidates.count) non-target training examples contain '\(trigger.pieces[0])'; all are relabelled (\(requested) requested)")
    }
    var generator = SplitMix64(seed: seed, stream: [0x504F_4953])  // "POIS"
    candidates.seededShuffle(using: &generator)
    let chosen = candidates.prefix(chosenCount).sorted()
    var poisoned = corpus
    for row in chosen {
      poisoned.examples[row].text = trigger.inserted(into: corpus.examples[row].text, tokenizer: tokenizer, visibleWords: visibleWords, using: &generator)
      poisoned.examples[row].label = targetLabel
    }
    return PoisonedCorpus(corpus: poisoned, poisonedRows: chosen, requestedCount: requested, candidateCount: candidates.count, notes: notes)
  }
}
