import Foundation
import Models
import Randomness
import Tokenization

/// STRIP (Gao et al. 2019) for text: an input carrying a trigger keeps the model's prediction pinned to the target
/// however much of the rest of the sentence changes, so its predictions under perturbation have low entropy. Each
/// perturbed copy replaces `replacedFraction` of the input's tokens (chosen at random) with tokens of a random clean
/// donor sentence; the score is the mean entropy (nats) of the predicted distribution over `copies` copies.
/// Inputs scoring below a threshold, calibrated on clean inputs to a chosen false-rejection rate, are flagged.
public struct STRIPFilter: Sendable {
  /// How a copy is perturbed: some of the input's tokens replaced by donor words, or donor words inserted among them
  /// (the input's own tokens, a trigger among them, all stay).
  public enum Perturbation: String, Sendable, CaseIterable { case replace, insert }
  public var perturbation = Perturbation.replace
  public var copies = 20
  /// Share of the input's length replaced (or inserted).
  public var replacedFraction = 0.5
  /// Copies are cut to this many tokens (the model's window).
  public var maximumLength = 48
  public var seed: UInt64 = 0

  public init() {}

  /// The mean prediction entropy of each input under perturbation, using `donors` (clean encoded sentences).
  public func entropies(_ classifier: TextClassifier, inputs: [[Int]], donors: [[Int]]) -> [Double] {
    precondition(!donors.isEmpty, "STRIP needs clean donor sentences")
    // Every copy of every input goes through the model in large batches; each input's copies come from its own
    // generator, so the scores do not depend on how inputs are grouped.
    let perturbed = inputs.indices.flatMap { index in copies(of: inputs[index], index: index, donors: donors) }
    let probabilities = classifier.predict(perturbed).probabilities
    return inputs.indices.map { index in
      probabilities[(index * copies)..<((index + 1) * copies)].reduce(0.0) { total, row in
        total + row.reduce(0.0) { $0 - ($1 > 0 ? Double($1) * log(Double($1)) : 0) }
      } / Double(copies)
    }
  }

  /// The perturbed copies of input number `index`.
  func copies(of input: [Int], index: Int, donors: [[Int]]) -> [EncodedExample] {
    var generator = SplitMix64(seed: seed, stream: [0x5354_5250, UInt64(index)])  // "STRP"
    return (0..<copies).map { _ in
      var ids = input
      let donor = donors[Int(generator.next() % UInt64(donors.count))].filter { $0 != Vocabulary.unknownID }
      let count = donor.isEmpty ? 0 : max(1, Int((Double(ids.count) * replacedFraction).rounded()))
      switch perturbation {
      case .replace:
        var positions = Array(ids.indices)
        positions.seededShuffle(using: &generator)
        for position in positions.prefix(count) { ids[position] = donor[Int(generator.next() % UInt64(donor.count))] }
      case .insert:
        for _ in 0..<min(count, max(0, maximumLength - ids.count)) {
          ids.insert(donor[Int(generator.next() % UInt64(donor.count))], at: Int(generator.next() % UInt64(ids.count + 1)))
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
