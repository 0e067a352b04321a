import Foundation

/// How the server turns the round's aggregate Δ (what the aggregation rule returned: the mean change it accepts) into
/// the change it applies to the global model (Reddi et al. 2021, "Adaptive Federated Optimization"), as Flower 1.42's
/// strategies compute it, with η the server learning rate and t the round:
/// - sgd: η·Δ (FedAvg when η = 1);
/// - fedavgm: momentum on the pseudo-gradient −Δ, v ← μ·v + (−Δ) (v starts at the first −Δ), change −η·v;
/// - fedadagrad: v ← v + Δ², change η·Δ/(√v + τ) (Flower sets β₁ = 0 here: no momentum);
/// - fedadam: v ← β₂v + (1−β₂)Δ², change η·√(1−β₂^(t+1))/(1−β₁^(t+1))·m/(√v + τ);
/// - fedyogi: v ← v − (1−β₂)Δ²·sign(v − Δ²), change η·m/(√v + τ).
/// FedAdam and FedYogi share m ← β₁m + (1−β₁)Δ. Where Flower departs from the paper the lab follows Flower
/// (docs/federated.md lists it): m and v start at 0, not τ²; FedAdagrad has no momentum; FedAdam divides by a bias
/// correction the paper does not have.
public struct ServerOptimizerSettings: Sendable, Codable, Equatable {
  public enum Kind: String, Sendable, Codable, CaseIterable { case sgd, fedavgm, fedadagrad, fedadam, fedyogi }
  public var kind = Kind.sgd
  /// fedavgm: μ.
  public var momentum = 0.9
  public var beta1 = 0.9
  public var beta2 = 0.99
  /// τ: how adaptive the step is (smaller: more).
  public var tau = 1e-3

  public init(kind: Kind = .sgd) { self.kind = kind }

  enum CodingKeys: String, CodingKey, CaseIterable { case kind, momentum, beta1 = "beta_1", beta2 = "beta_2", tau }

  /// Problems with the settings, each naming its key under `prefix`.
  public func validationProblems(prefix: String) -> [String] {
    var problems: [String] = []
    if !(momentum >= 0 && momentum < 1) { problems.append("\(prefix).momentum must be in [0, 1)") }
    if !(beta1 >= 0 && beta1 < 1) { problems.append("\(prefix).beta_1 must be in [0, 1)") }
    if !(beta2 >= 0 && beta2 < 1) { problems.append("\(prefix).beta_2 must be in [0, 1)") }
    if !(tau > 0 && tau.isFinite) { problems.append("\(prefix).tau must be a positive number") }
    return problems
  }
}

/// A server optimiser's running state (momentum, first and second moments), saved in every checkpoint so that a
/// resumed run continues it exactly.
struct ServerOptimizer {
  let settings: ServerOptimizerSettings
  let learningRate: Float
  var firstMoment: [Float] = []
  var secondMoment: [Float] = []

  init(_ settings: ServerOptimizerSettings, learningRate: Float) {
    self.settings = settings
    self.learningRate = learningRate
  }

  /// The change to apply for round `round`'s aggregate `delta`.
  mutating func change(for delta: [Float], round: Int) -> [Float] {
    let n = delta.count
    let eta = learningRate
    switch settings.kind {
    case .sgd:
      return ParameterVector.scaled(delta, by: eta)
    case .fedavgm:
      let mu = Float(settings.momentum)
      if firstMoment.count != n {
        firstMoment = delta.map { -$0 }
      } else {
        for i in 0..<n { firstMoment[i] = mu * firstMoment[i] - delta[i] }
      }
      return firstMoment.map { -eta * $0 }
    case .fedadagrad, .fedadam, .fedyogi:
      let beta1 = settings.kind == .fedadagrad ? 0 : Float(settings.beta1), beta2 = Float(settings.beta2), tau = Float(settings.tau)
      if firstMoment.count != n { firstMoment = [Float](repeating: 0, count: n) }
      if secondMoment.count != n { secondMoment = [Float](repeating: 0, count: n) }
      for i in 0..<n {
        let d = delta[i], square = d * d
        firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * d
        switch settings.kind {
        case .fedadagrad: secondMoment[i] += square
        case .fedadam: secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * square
        default:
          let v = secondMoment[i]
          secondMoment[i] = v - (1 - beta2) * square * (v - square > 0 ? 1 : (v - square < 0 ? -1 : 0))
        }
      }
      var step = eta
      if settings.kind == .fedadam {
        let t = Double(round) + 1
        step = Float(Double(eta) * (1 - pow(settings.beta2, t)).squareRoot() / (1 - pow(settings.beta1, t)))
      }
      return (0..<n).map { step * firstMoment[$0] / (secondMoment[$0].squareRoot() + tau) }
    }
  }

  /// What a checkpoint keeps.
  var persistentState: [String: [Float]] {
    var state: [String: [Float]] = [:]
    if !firstMoment.isEmpty { state["first_moment"] = firstMoment }
    if !secondMoment.isEmpty { state["second_moment"] = secondMoment }
    return state
  }

  mutating func restore(_ state: [String: [Float]]) {
    firstMoment = state["first_moment"] ?? []
    secondMoment = state["second_moment"] ?? []
  }
}
