import Federated
import Foundation
import Randomness

/// When malicious clients attack.
public enum AttackSchedule: Sendable, Equatable {
  /// Every attacker is put into round `round` and attacks there only (single-shot model replacement).
  case single(round: Int)
  /// Every attacker is put into rounds `start`, `start + every`, … up to `until`.
  case fixedFrequency(every: Int, start: Int, until: Int?)
  /// Attackers are sampled like everyone else and attack whenever sampled in [start, until].
  case randomPool(start: Int, until: Int?)

  public func isActive(round: Int) -> Bool {
    switch self {
    case .single(let at): round == at
    case .fixedFrequency(let every, let start, let until): round >= start && (until.map { round <= $0 } ?? true) && (round - start) % max(every, 1) == 0
    case .randomPool(let start, let until): round >= start && (until.map { round <= $0 } ?? true)
    }
  }

  /// Attackers the server must sample this round.
  public var forcesParticipation: Bool {
    if case .randomPool = self { return false }
    return true
  }

  /// The last round with an attack (nil: no end).
  public var lastRound: Int? {
    switch self {
    case .single(let at): at
    case .fixedFrequency(_, _, let until), .randomPool(_, let until): until
    }
  }
}

/// What a malicious client does. Targeted behaviours train on data poisoned with the attack's trigger;
/// untargeted ones only try to wreck the model.
public enum AttackBehaviour: Sendable, Equatable {
  /// Data poisoning only (the naive attack).
  case naivePoisoning
  /// Model replacement (Bagdasaryan et al. 2020): the poisoned update scaled by γ (default: clients per round / η).
  case modelReplacement(boost: Float?)
  /// Constrain-and-scale: loss α · task + (1 − α) · ‖w − g‖², then scaled by γ.
  case constrainAndScale(taskWeight: Float, boost: Float?)
  /// Norm-bounded PGD: the poisoned update kept within an ε-ball around the global model.
  case projectedGradientDescent(radius: Double)
  /// Neurotoxin (Zhang et al. 2022): only the coordinates outside the top-k % of last round's global change
  /// move, optionally within an ε-ball; with a boost γ, the masked update is scaled as model replacement's is
  /// (Neurotoxin's mask on the replacement attack).
  case neurotoxin(topPercent: Double, radius: Double?, boost: Float? = nil)
  /// DBA (Xie et al. 2020): a phrase trigger split into `parts`; attacker i plants part i mod parts; the test
  /// uses the whole phrase.
  case distributed(parts: Int)
  /// Only the trigger's embedding rows move (rare-embedding / "embedding poisoning", Yang et al. 2021), scaled by γ.
  case rareEmbedding(boost: Float?)
  /// Untargeted: train on labels shifted to the next class.
  case labelFlipping
  /// Untargeted: the honest update times −scale.
  case signFlipping(scale: Float)
  /// Untargeted: an update of Gaussian noise with this standard deviation per coordinate.
  case gaussianNoise(standardDeviation: Float)
  /// Untargeted, colluding: mean + z · sd of the attackers' honest updates per coordinate (Baruch et al. 2019;
  /// z from the number of clients and attackers when nil).
  case littleIsEnough(z: Float?)
  /// Untargeted, colluding: −ε times the mean of the attackers' honest updates (inner-product manipulation,
  /// Xie et al. 2020).
  case innerProductManipulation(epsilon: Float)

  /// Whether the attacker trains on trigger-poisoned data.
  public var poisonsData: Bool {
    switch self {
    case .naivePoisoning, .modelReplacement, .constrainAndScale, .projectedGradientDescent, .neurotoxin, .distributed, .rareEmbedding: true
    default: false
    }
  }

  /// Whether the attackers coordinate after seeing their honest updates.
  public var colludes: Bool {
    switch self {
    case .littleIsEnough, .innerProductManipulation: true
    default: false
    }
  }

  /// γ for the scaling behaviours, if they scale.
  public func boost(clientsPerRound: Int, serverLearningRate: Float) -> Float? {
    switch self {
    case .modelReplacement(let boost), .constrainAndScale(_, let boost), .rareEmbedding(let boost):
      boost ?? Float(clientsPerRound) / serverLearningRate
    case .neurotoxin(_, _, let boost): boost
    default: nil
    }
  }
}

/// The update-level parts of the attacks, on flattened vectors.
public enum MaliciousUpdates {
  /// Neurotoxin's mask: true for coordinates the attacker may move — all but the `topPercent` % of
  /// coordinates with the largest |last global change| (what benign clients move most). Ties at the
  /// threshold stay movable. With no previous change, everything may move.
  public static func neurotoxinMask(previousChange: [Float]?, parameterCount: Int, topPercent: Double) -> [Bool] {
    guard let change = previousChange, change.count == parameterCount, topPercent > 0 else { return [Bool](repeating: true, count: parameterCount) }
    let excluded = min(parameterCount, Int((Double(parameterCount) * topPercent / 100).rounded()))
    guard excluded > 0 else { return [Bool](repeating: true, count: parameterCount) }
    let magnitudes = change.map(abs)
    let threshold = magnitudes.sorted(by: >)[excluded - 1]
    var mask = [Bool](repeating: true, count: parameterCount)
    var remaining = excluded
    // Strictly larger first, then ties in index order, until `excluded` coordinates are masked.
    for i in 0..<parameterCount where magnitudes[i] > threshold {
      mask[i] = false
      remaining -= 1
    }
    for i in 0..<parameterCount where remaining > 0 && magnitudes[i] == threshold {
      mask[i] = false
      remaining -= 1
    }
    return mask
  }

  /// An update of i.i.d. N(0, σ²) coordinates.
  public static func gaussianNoise(count: Int, standardDeviation: Float, using generator: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in Float(generator.nextStandardNormal()) * standardDeviation }
  }

  /// ALIE's z for n clients of which f are malicious: s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − s) / n).
  public static func littleIsEnoughZ(clients: Int, attackers: Int) -> Float {
    let s = clients / 2 + 1 - attackers
    let p = Double(clients - s) / Double(clients)
    return Float(inverseStandardNormal(min(max(p, 1e-6), 1 - 1e-6)))
  }

  /// mean + z · sd per coordinate of `honest` (the attackers' own honest updates).
  public static func littleIsEnough(_ honest: [[Float]], z: Float) -> [Float] {
    precondition(!honest.isEmpty, "ALIE needs at least one honest update")
    let n = Float(honest.count), count = honest[0].count
    var mean = [Float](repeating: 0, count: count), meanSquare = [Float](repeating: 0, count: count)
    for update in honest {
      for i in 0..<count {
        mean[i] += update[i] / n
        meanSquare[i] += update[i] * update[i] / n
      }
    }
    return (0..<count).map { i in mean[i] + z * max(meanSquare[i] - mean[i] * mean[i], 0).squareRoot() }
  }

  /// −ε × the mean of `honest`.
  public static func innerProductManipulation(_ honest: [[Float]], epsilon: Float) -> [Float] {
    ParameterVector.scaled(ParameterVector.weightedMean(honest, weights: honest.map { _ in 1 }), by: -epsilon)
  }

  /// Φ⁻¹(p) by Acklam's rational approximation (relative error < 1.2e-9).
  static func inverseStandardNormal(_ p: Double) -> Double {
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let low = 0.02425
    if p < low {
      let q = (-2 * log(p)).squareRoot()
      return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    if p > 1 - low { return -inverseStandardNormal(1 - p) }
    let q = p - 0.5, r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  }
}

extension Trigger {
  /// DBA: the `part`-th of `parts` contiguous pieces of a phrase trigger (the whole trigger otherwise).
  public func distributedPart(_ part: Int, of parts: Int) throws(TriggerError) -> Trigger {
    guard kind == .phrase, parts > 1 else { return self }
    let words = pieces[0].split(whereSeparator: \.isWhitespace).map(String.init)
    guard words.count >= parts else { throw TriggerError("DBA splits '\(pieces[0])' into \(parts) parts but it has \(words.count) words") }
    let start = part % parts * words.count / parts, end = (part % parts + 1) * words.count / parts
    return try Trigger(kind: .phrase, pieces: [words[start..<end].joined(separator: " ")], position: position)
  }
}
