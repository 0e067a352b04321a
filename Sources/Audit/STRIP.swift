import Foundation
import Models
import Randomness
import Tokenization

/// STRIP (Gao et al. 2019) for text: an input carrying a trigger keeps the model's prediction pinned to the target
/// however much of the rest of the sentence changes, so its predictions under perturbation have low entropy. Each
/// perturbed copy replaces `replacedFraction` of the input's tokens (chosen at random) with tokens of a random clean
/// donor sentence; the score is the mean entropy (nats) of the predicted distribution over `copies` copies. By
/// default the donors are those the model gives another label than the input's (`donorChoice = .opposing`, the
/// lab's variant): random donors mostly agree with a binary input's label and move it little, clean or triggered.
/// Inputs scoring below a threshold, calibrated on clean inputs to a chosen false-rejection rate, are flagged.
/// STRIP-ViTA (Gao et al. 2021) takes each donor's most important words (highest TF-IDF over the donor set) rather
/// than random ones, so that a clean input's prediction swings with its donors: `donorWords = .important`.
public struct STRIPFilter: Sendable {
  /// How a copy is perturbed: some of the input's tokens replaced by donor words, or donor words inserted among them
  /// (the input's own tokens, a trigger among them, all stay).
  public enum Perturbation: String, Sendable, CaseIterable { case replace, insert }
  /// Which words of a donor go into a copy: any of them at random, or its highest-TF-IDF words first (STRIP-ViTA).
  public enum DonorWords: String, Sendable, CaseIterable { case random, important }
  /// Whose words a copy gets: any donor's, or only those of donors the model gives another label than the input's
  /// (the strongest pull away from a clean input's prediction, which a trigger resists).
  public enum DonorChoice: String, Sendable, CaseIterable { case any, opposing }
  public var perturbation = Perturbation.replace
  public var donorWords = DonorWords.random
  public var donorChoice = DonorChoice.opposing
  public var copies = 50
  /// Share of the input's length replaced (or inserted).
  public var replacedFraction = 0.5
  /// Copies are cut to this many tokens (the model's window).
  public var maximumLength = 48
  public var seed: UInt64 = 0
  /// The vocabulary's unknown token: never a donor word.
  public var unknownID = Vocabulary.labUnknownID

  public init() {}

  /// The mean prediction entropy of each input under perturbation, using `donors` (clean encoded sentences).
  public func entropies(_ classifier: TextClassifier, inputs: [[Int]], donors: [[Int]]) -> [Double] {
    precondition(!donors.isEmpty, "STRIP needs clean donor sentences")
    let perturbed = perturbedCopies(classifier, inputs: inputs, donors: donors)
    let probabilities = classifier.predict(perturbed).probabilities
    return inputs.indices.map { index in
      probabilities[(index * copies)..<((index + 1) * copies)].reduce(0.0) { total, row in
        total + row.reduce(0.0) { $0 - ($1 > 0 ? Double($1) * log(Double($1)) : 0) }
      } / Double(copies)
    }
  }

  /// `copies` perturbed copies of every input, input by input. Each input's copies come from its own generator, so
  /// they do not depend on how inputs are grouped; with opposing donors, an input's pool is the donors the model
  /// gives another label than it gives the input (all donors when there are none).
  func perturbedCopies(_ classifier: TextClassifier, inputs: [[Int]], donors: [[Int]]) -> [EncodedExample] {
    let ranked = donorWords == .important ? Self.importantWordsFirst(donors, unknownID: unknownID) : donors
    switch donorChoice {
    case .any:
      return inputs.indices.flatMap { index in copies(of: inputs[index], index: index, donors: ranked) }
    case .opposing:
      let donorLabels = classifier.predict(donors.map { EncodedExample(ids: $0, label: 0) }).classes
      let inputLabels = classifier.predict(inputs.map { EncodedExample(ids: $0, label: 0) }).classes
      let pools = (0..<classifier.labels.count).map { label in zip(ranked, donorLabels).filter { $0.1 != label }.map(\.0) }
      return inputs.indices.flatMap { index in
        let pool = pools[inputLabels[index]]
        return copies(of: inputs[index], index: index, donors: pool.isEmpty ? ranked : pool)
      }
    }
  }

  /// Each donor's distinct known words, highest TF-IDF first (term frequency in the donor times the log inverse
  /// share of donors holding the word; ties by id, so the order is deterministic).
  static func importantWordsFirst(_ donors: [[Int]], unknownID: Int) -> [[Int]] {
    var documentFrequency: [Int: Int] = [:]
    for donor in donors { for id in Set(donor) where id != unknownID { documentFrequency[id, default: 0] += 1 } }
    let count = Double(donors.count)
    return donors.map { donor in
      var termFrequency: [Int: Int] = [:]
      for id in donor where id != unknownID { termFrequency[id, default: 0] += 1 }
      let score = termFrequency.mapValues { Double($0) }.map { id, tf in (id, tf * log(count / Double(documentFrequency[id]!))) }
      return score.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map(\.0)
    }
  }

  /// The perturbed copies of input number `index`.
  func copies(of input: [Int], index: Int, donors: [[Int]]) -> [EncodedExample] {
    var generator = SplitMix64(seed: seed, stream: [0x5354_5250, UInt64(index)])  // "STRP"
    return (0..<copies).map { _ in
      var ids = input
      let donor = donors[Int(generator.next() % UInt64(donors.count))].filter { $0 != unknownID }
      let count = donor.isEmpty ? 0 : max(1, Int((Double(ids.count) * replacedFraction).rounded()))
      // The k-th word placed: the donor's k-th most important (cycling), or any of its words.
      var placed = 0
      func nextWord() -> Int {
        defer { placed += 1 }
        return donorWords == .important ? donor[placed % donor.count] : donor[Int(generator.next() % UInt64(donor.count))]
      }
      switch perturbation {
      case .replace:
        var positions = Array(ids.indices)
        positions.seededShuffle(using: &generator)
        for position in positions.prefix(count) { ids[position] = nextWord() }
      case .insert:
        for _ in 0..<min(count, max(0, maximumLength - ids.count)) {
          ids.insert(nextWord(), at: Int(generator.next() % UInt64(ids.count + 1)))
        }
      }
      if ids.count > maximumLength { ids.removeLast(ids.count - maximumLength) }
      return EncodedExample(ids: ids, label: 0)
    }
  }

  /// The entropy below which inputs are flagged: the `falseRejectionRate` quantile of clean inputs' entropies.
  public static func threshold(cleanEntropies: [Double], falseRejectionRate: Double) -> Double {
    calibratedThreshold(cleanEntropies, falseRejectionRate: falseRejectionRate, flaggedAbove: false)
  }
}

/// The threshold of an input filter, calibrated on clean inputs' scores: the score `falseRejectionRate` of the way in
/// from the flagged end (the highest scores when inputs above it are flagged, else the lowest), so that at most that
/// share of the clean inputs lies strictly beyond it.
func calibratedThreshold(_ cleanScores: [Double], falseRejectionRate: Double, flaggedAbove: Bool) -> Double {
  precondition(!cleanScores.isEmpty, "calibration needs clean scores")
  let sorted = flaggedAbove ? cleanScores.sorted(by: >) : cleanScores.sorted()
  return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * falseRejectionRate).rounded(.down))))]
}
