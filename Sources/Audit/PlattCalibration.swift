import Foundation

/// Platt scaling (Platt 1999): a verdict score turned into P(backdoored) = 1 / (1 + exp(−(slope · score + intercept))),
/// fitted by maximum likelihood with Platt's smoothed targets, (N₊ + 1)/(N₊ + 2) for each backdoored model and
/// 1/(N₋ + 2) for each clean one, which keep both parameters finite when the scores separate the two kinds. Newton's
/// method with a halving line search (Lin, Lin and Weng 2007 write Platt's fit this way).
public struct PlattCalibration: Sendable, Codable, Equatable {
  public var slope: Double
  public var intercept: Double

  public init(slope: Double, intercept: Double) {
    self.slope = slope
    self.intercept = intercept
  }

  public func probability(_ score: Double) -> Double {
    let z = slope * score + intercept
    // Both forms are the same function; each is the one that cannot overflow on its side.
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
  }

  /// The fit on `scores` of models whose kind `backdoored` gives; nil unless both kinds are present.
  public static func fit(scores: [Double], backdoored: [Bool]) -> PlattCalibration? {
    precondition(scores.count == backdoored.count, "one kind per score")
    let positives = backdoored.count { $0 }, negatives = backdoored.count - positives
    guard positives > 0, negatives > 0, scores.allSatisfy(\.isFinite) else { return nil }
    let high = (Double(positives) + 1) / (Double(positives) + 2), low = 1 / (Double(negatives) + 2)
    let targets = backdoored.map { $0 ? high : low }
    func loss(_ slope: Double, _ intercept: Double) -> Double {
      zip(scores, targets).reduce(0) { total, pair in
        // −[t log p + (1 − t) log(1 − p)] with z = slope·s + intercept, written to stay finite for large |z|.
        let z = slope * pair.0 + intercept
        let softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
        return total + softplus - pair.1 * z
      }
    }
    var (slope, intercept) = (0.0, log((Double(positives) + 1) / (Double(negatives) + 1)))
    var current = loss(slope, intercept)
    for _ in 0..<100 {
      var (gradientSlope, gradientIntercept, hessianSlope, hessianCross, hessianIntercept) = (0.0, 0.0, 0.0, 0.0, 0.0)
      let calibration = PlattCalibration(slope: slope, intercept: intercept)
      for (score, target) in zip(scores, targets) {
        let p = calibration.probability(score)
        let weight = max(p * (1 - p), 1e-12)
        gradientSlope += (p - target) * score
        gradientIntercept += p - target
        hessianSlope += weight * score * score
        hessianCross += weight * score
        hessianIntercept += weight
      }
      if abs(gradientSlope) < 1e-10 && abs(gradientIntercept) < 1e-10 { break }
      hessianSlope += 1e-12
      hessianIntercept += 1e-12
      let determinant = hessianSlope * hessianIntercept - hessianCross * hessianCross
      let stepSlope = (hessianIntercept * gradientSlope - hessianCross * gradientIntercept) / determinant
      let stepIntercept = (hessianSlope * gradientIntercept - hessianCross * gradientSlope) / determinant
      var length = 1.0
      while length >= 1e-10 {
        let (nextSlope, nextIntercept) = (slope - length * stepSlope, intercept - length * stepIntercept)
        let next = loss(nextSlope, nextIntercept)
        if next < current + 1e-4 * length * (gradientSlope * -stepSlope + gradientIntercept * -stepIntercept) {
          (slope, intercept, current) = (nextSlope, nextIntercept, next)
          break
        }
        length /= 2
      }
      if length < 1e-10 { break }
    }
    return PlattCalibration(slope: slope, intercept: intercept)
  }

  /// Each model's probability from a fit on all the others (leave-one-out): how a calibration made on other models of
  /// the same kinds scores a model it has not seen. nil where the others lack one of the kinds.
  public static func leaveOneOut(scores: [Double], backdoored: [Bool]) -> [Double?] {
    scores.indices.map { held in
      let others = scores.indices.filter { $0 != held }
      return fit(scores: others.map { scores[$0] }, backdoored: others.map { backdoored[$0] })?.probability(scores[held])
    }
  }
}

/// How good a P(backdoored) is, as TrojAI scores detectors: the mean cross-entropy (nats) and Brier score over the
/// models, beside what a constant guess of the share of backdoored models gets.
public struct ProbabilityScores: Sendable, Codable, Equatable {
  public var models: Int
  public var crossEntropy: Double
  public var brier: Double
  /// The same two for the constant guess p = share of backdoored models.
  public var priorCrossEntropy: Double
  public var priorBrier: Double

  /// Probabilities are clipped to [1e-6, 1 − 1e-6] for the cross-entropy, so one confident miss counts ~13.8 nats,
  /// not infinity. nil without models.
  public init?(probabilities: [Double], backdoored: [Bool]) {
    precondition(probabilities.count == backdoored.count, "one kind per probability")
    guard !probabilities.isEmpty else { return nil }
    func scores(_ p: [Double]) -> (Double, Double) {
      var (entropy, squares) = (0.0, 0.0)
      for (probability, truth) in zip(p, backdoored) {
        let clipped = min(max(probability, 1e-6), 1 - 1e-6)
        entropy -= truth ? log(clipped) : log(1 - clipped)
        squares += (probability - (truth ? 1 : 0)) * (probability - (truth ? 1 : 0))
      }
      return (entropy / Double(p.count), squares / Double(p.count))
    }
    models = probabilities.count
    (crossEntropy, brier) = scores(probabilities)
    let prior = Double(backdoored.count { $0 }) / Double(backdoored.count)
    (priorCrossEntropy, priorBrier) = scores(backdoored.map { _ in prior })
  }

  enum CodingKeys: String, CodingKey {
    case models, crossEntropy = "cross_entropy", brier, priorCrossEntropy = "prior_cross_entropy", priorBrier = "prior_brier"
  }
}
