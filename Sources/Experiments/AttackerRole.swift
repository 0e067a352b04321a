import Attacks
import Federated

/// Who attacks, when and how, as both scenarios apply it: which clients are forced into a round, which are
/// attacking, the constraints on their local training, and what is done to their update afterwards.
struct AttackerRole: Sendable {
  var attackers: [Int]
  var behaviour: AttackBehaviour?
  var schedule: AttackSchedule?
  /// FedProx's μ for benign clients.
  var proximalMu: Float
  var clientsPerRound: Int
  var serverLearningRate: Float
  /// `attack.inert`: scheduled (and forced into rounds) as configured, but never attacking.
  var inert = false

  func forcedClients(round: Int) -> Set<Int> {
    guard let schedule, schedule.forcesParticipation, schedule.isActive(round: round) else { return [] }
    return Set(attackers)
  }

  func isAttacking(client: Int, round: Int) -> Bool {
    guard !inert, let schedule, schedule.isActive(round: round) else { return false }
    return attackers.contains(client)
  }

  /// Local-training constraints: FedProx for benign clients; the behaviour's for attackers (`embeddingMask`:
  /// the coordinates a rare-embedding attacker may move).
  func constraints(attacking: Bool, context: RoundContext, embeddingMask: [Bool]? = nil) -> LocalConstraints {
    var constraints = LocalConstraints(proximalMu: attacking ? 0 : proximalMu)
    guard attacking, let behaviour else { return constraints }
    switch behaviour {
    case .constrainAndScale(let taskWeight, _): constraints.taskWeight = taskWeight
    case .projectedGradientDescent(let radius): constraints.radius = radius
    case .neurotoxin(let topPercent, let radius, _):
      constraints.radius = radius
      constraints.movableCoordinates = MaliciousUpdates.neurotoxinMask(
        previousChange: context.previousGlobalChange, parameterCount: context.globalVector.count, topPercent: topPercent)
    case .rareEmbedding: constraints.movableCoordinates = embeddingMask
    default: break
    }
    return constraints
  }

  /// An attacker's trained update after boosting (replacement behaviours) or sign flipping.
  func finish(_ delta: [Float], attacking: Bool) -> [Float] {
    guard attacking, let behaviour else { return delta }
    var result = delta
    if let boost = behaviour.boost(clientsPerRound: clientsPerRound, serverLearningRate: serverLearningRate) {
      result = ParameterVector.scaled(result, by: boost)
    }
    if case .signFlipping(let scale) = behaviour { result = ParameterVector.scaled(result, by: -scale) }
    return result
  }
}
