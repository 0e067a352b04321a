import Foundation

/// How likely a word is as a string of characters: a character n-gram model with Witten–Bell interpolation
/// (Witten & Bell 1991; the form in Chen & Goodman 1998), each word scored from a start mark to an end mark.
/// A word-level language model folds every word outside its vocabulary into one `<unk>`; trained on the words that
/// were folded, this model says which unknown word it was, so P(word) = P(<unk> | context) · P(spelling), and an
/// unknown word spelled like English ("filmmaking") costs less than one that is not ("tq").
public struct SpellingModel: Sendable {
  /// Characters of context, plus one: 4 reads three characters back.
  public let order: Int
  /// For each context (up to order − 1 characters; the start mark counts as one): how often each next character
  /// followed it.
  private var following: [[Unicode.Scalar]: [Unicode.Scalar: Int]] = [:]
  private var totals: [[Unicode.Scalar]: Int] = [:]
  /// Distinct characters seen, the end mark included; characters never seen share one extra slot of the base
  /// distribution.
  private let alphabetSize: Int

  static let start: Unicode.Scalar = "\u{2}"
  static let end: Unicode.Scalar = "\u{3}"

  /// Trained on `words` with their counts (words with control characters 2 and 3 are read as they are; those are
  /// the marks, and no tokeniser produces them).
  public init(words: [(word: String, count: Int)], order: Int = 4) {
    precondition(order >= 1, "a spelling model reads at least the character itself")
    self.order = order
    var alphabet: Set<Unicode.Scalar> = [Self.end]
    for (word, count) in words where count > 0 {
      let symbols = [Self.start] + Array(word.unicodeScalars) + [Self.end]
      alphabet.formUnion(word.unicodeScalars)
      for position in 1..<symbols.count {
        for length in 0..<order {
          guard position - length >= 0 else { break }
          let context = Array(symbols[(position - length)..<position])
          following[context, default: [:]][symbols[position], default: 0] += count
          totals[context, default: 0] += count
        }
      }
    }
    alphabetSize = alphabet.count + 1
  }

  /// −log P(word), nats: every character and the end mark, each given up to `order` − 1 characters before it.
  public func negativeLogLikelihood(_ word: String) -> Double {
    let symbols = [Self.start] + Array(word.unicodeScalars) + [Self.end]
    var total = 0.0
    for position in 1..<symbols.count {
      let longest = min(order - 1, position)
      total -= log(probability(of: symbols[position], after: symbols[(position - longest)..<position]))
    }
    return total
  }

  /// Witten–Bell: P(c | h) = (C(h c) + T(h) · P(c | h shortened)) / (C(h) + T(h)), T(h) the number of distinct
  /// characters seen after h; a context never seen defers to its shorter one; below the empty context, uniform.
  func probability(of symbol: Unicode.Scalar, after context: ArraySlice<Unicode.Scalar>) -> Double {
    var probability = 1 / Double(alphabetSize)
    for start in stride(from: context.endIndex, through: context.startIndex, by: -1) {
      let history = Array(context[start..<context.endIndex])
      guard let seen = following[history], let total = totals[history] else { break }
      let distinct = Double(seen.count)
      probability = (Double(seen[symbol] ?? 0) + distinct * probability) / (Double(total) + distinct)
    }
    return probability
  }
}
