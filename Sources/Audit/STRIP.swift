import Foundation
import Models
import Randomness
import Tokenization

/// STRIP (Gao et al. 2019) for text, as STRIP-ViTA (Gao et al. 2021) perturbs it: an input carrying a trigger keeps
/// the model's prediction pinned to the target however much of the rest of the sentence changes. Each of `copies`
/// perturbed copies replaces `replacedFraction` of the input's tokens, its least important words (lowest TF-IDF
/// against the donors), with the most important words of a clean donor sentence. A rare trigger word, which few clean
/// sentences hold, is among an input's most important words, so it survives in every copy; random positions
/// (`replacedWords = .random`, the original recipe) delete it from about `replacedFraction` of the copies.
/// Lab variants, each with the original as an option: the donors are those the model gives another label than the
/// input's (`donorChoice = .opposing`; random donors mostly agree with a binary input's label and move it little,
/// clean or triggered), and the score is the copies' mean probability of leaving the input's label
/// (`score = .departure`; STRIP's mean entropy, `.entropy`, scores a clean copy that flips confidently to the donors'
/// label as low as a pinned one). Inputs scoring below a threshold, calibrated on clean inputs to a chosen
/// false-rejection rate, are flagged.
public struct STRIPFilter: Sendable {
  /// How a copy is perturbed: some of the input's tokens replaced by donor words, or donor words inserted among them
  /// (the input's own tokens, a trigger among them, all stay).
  public enum Perturbation: String, Sendable, CaseIterable { case replace, insert }
  /// Which words of a donor go into a copy: any of them at random, or its highest-TF-IDF words first (STRIP-ViTA).
  public enum DonorWords: String, Sendable, CaseIterable { case random, important }
  /// Whose words a copy gets: any donor's, or only those of donors the model gives another label than the input's
  /// (the strongest pull away from a clean input's prediction, which a trigger resists).
  public enum DonorChoice: String, Sendable, CaseIterable { case any, opposing }
  /// Which of the input's tokens a copy replaces: random positions, or those of its lowest-TF-IDF words (STRIP-ViTA;
  /// the document frequencies are the donors', ties broken at random in each copy).
  public enum ReplacedWords: String, Sendable, CaseIterable {
    case random
    case leastImportant = "least-important"
  }
  public var perturbation = Perturbation.replace
  public var donorWords = DonorWords.important
  public var donorChoice = DonorChoice.opposing
  public var replacedWords = ReplacedWords.leastImportant
  public var copies = 50
  /// Share of the input's length replaced (or inserted). With random positions, half (`randomPositionsFraction`)
  /// keeps a trigger in half the copies.
  public var replacedFraction = 0.8
  public static let randomPositionsFraction = 0.5
  /// Copies are cut to this many tokens (the model's window).
  public var maximumLength = 48
  public var seed: UInt64 = 0
  /// The vocabulary's unknown token: never a donor word.
  public var unknownID = Vocabulary.labUnknownID

  public init() {}

  /// What an input's copies are scored by; low scores are flagged. `entropy`: the mean entropy (nats) of their
  /// predicted distributions (STRIP's). `departure`: the mean probability they give labels other than the one the
  /// model gives the input unperturbed. With opposing donors a clean input's copies lean to the donors' label, often
  /// confidently, which entropy cannot tell from a trigger holding them; a triggered input's copies stay with it.
  public enum Score: String, Sendable, CaseIterable { case entropy, departure }
  public var score = Score.departure

  /// Each input's score under perturbation (`score`), using `donors` (clean encoded sentences).
  public func scores(_ classifier: TextClassifier, inputs: [[Int]], donors: [[Int]]) -> [Double] {
    precondition(!donors.isEmpty, "STRIP needs clean donor sentences")
    // The labels the model gives the inputs unperturbed: what departure departs from, and what opposing donors oppose.
    let inputLabels = score == .departure || donorChoice == .opposing ? Self.labels(classifier, of: inputs) : []
    let perturbed = perturbedCopies(classifier, inputs: inputs, donors: donors, inputLabels: inputLabels)
    let probabilities = classifier.predict(perturbed).probabilities
    return inputs.indices.map { index in
      probabilities[(index * copies)..<((index + 1) * copies)].reduce(0.0) { total, row in
        switch score {
        case .entropy: total + row.reduce(0.0) { $0 - ($1 > 0 ? Double($1) * log(Double($1)) : 0) }
        case .departure: total + 1 - Double(row[inputLabels[index]])
        }
      } / Double(copies)
    }
  }

  /// `copies` perturbed copies of every input, input by input. Each input's copies come from its own generator, so
  /// they do not depend on how inputs are grouped; with opposing donors, an input's pool is the donors the model
  /// gives another label than it gives the input (all donors when there are none); `inputLabels`, when given, are
  /// those labels.
  func perturbedCopies(_ classifier: TextClassifier, inputs: [[Int]], donors: [[Int]], inputLabels: [Int]? = nil) -> [EncodedExample] {
    let ranked = donorWords == .important ? Self.importantWordsFirst(donors, unknownID: unknownID) : donors
    let importance = replacedWords == .leastImportant ? WordImportance(donors: donors) : nil
    switch donorChoice {
    case .any:
      return inputs.indices.flatMap { index in copies(of: inputs[index], index: index, donors: ranked, importance: importance) }
    case .opposing:
      let donorLabels = Self.labels(classifier, of: donors)
      let inputLabels = inputLabels ?? Self.labels(classifier, of: inputs)
      let pools = (0..<classifier.labels.count).map { label in zip(ranked, donorLabels).filter { $0.1 != label }.map(\.0) }
      return inputs.indices.flatMap { index in
        let pool = pools[inputLabels[index]]
        return copies(of: inputs[index], index: index, donors: pool.isEmpty ? ranked : pool, importance: importance)
      }
    }
  }

  /// The label the model gives each encoded text.
  static func labels(_ classifier: TextClassifier, of texts: [[Int]]) -> [Int] {
    classifier.predict(texts.map { EncodedExample(ids: $0, label: 0) }).classes
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

  /// The perturbed copies of input number `index`; `importance` scores its words when the least important are
  /// replaced.
  func copies(of input: [Int], index: Int, donors: [[Int]], importance: WordImportance? = nil) -> [EncodedExample] {
    var generator = SplitMix64(seed: seed, stream: [0x5354_5250, UInt64(index)])  // "STRP"
    let inputScores = importance?.scores(of: input)
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
        if let inputScores {
          // Least important first; the shuffle above breaks ties (a sort that keeps the shuffled order of equals).
          positions = positions.enumerated().sorted {
            inputScores[$0.element] != inputScores[$1.element] ? inputScores[$0.element] < inputScores[$1.element] : $0.offset < $1.offset
          }.map(\.element)
        }
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

  /// TF-IDF of an input's words against a set of clean sentences: the word's count in the input times
  /// log((1 + sentences) / (1 + sentences holding it)), so a word no clean sentence holds scores highest.
  struct WordImportance {
    let documentFrequency: [Int: Int]
    let sentences: Int

    init(donors: [[Int]]) {
      var frequency: [Int: Int] = [:]
      for donor in donors { for id in Set(donor) { frequency[id, default: 0] += 1 } }
      documentFrequency = frequency
      sentences = donors.count
    }

    /// Each position's score (positions of the same word score alike).
    func scores(of input: [Int]) -> [Double] {
      var termFrequency: [Int: Int] = [:]
      for id in input { termFrequency[id, default: 0] += 1 }
      return input.map { id in
        Double(termFrequency[id]!) * log(Double(1 + sentences) / Double(1 + documentFrequency[id, default: 0]))
      }
    }
  }

  /// The score below which inputs are flagged: the `falseRejectionRate` quantile of clean inputs' scores.
  public static func threshold(cleanScores: [Double], falseRejectionRate: Double) -> Double {
    calibratedThreshold(cleanScores, falseRejectionRate: falseRejectionRate, flaggedAbove: false)
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
