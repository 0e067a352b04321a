import Attacks
import Randomness
import Testing

@Test func schedulesSayWhenAttackersAttack() {
  let single = AttackSchedule.single(round: 5)
  #expect((1...10).filter(single.isActive) == [5] && single.forcesParticipation && single.lastRound == 5)
  let fixed = AttackSchedule.fixedFrequency(every: 3, start: 2, until: 10)
  #expect((1...12).filter(fixed.isActive) == [2, 5, 8])
  let pool = AttackSchedule.randomPool(start: 3, until: nil)
  #expect(!pool.forcesParticipation && !pool.isActive(round: 2) && pool.isActive(round: 300) && pool.lastRound == nil)
}

@Test func neurotoxinMasksTheCoordinatesBenignClientsMoveMost() {
  let change: [Float] = [0.1, -5, 0.2, 3, 0, 0, 0.05, -0.3, 0.01, 2]
  let mask = MaliciousUpdates.neurotoxinMask(previousChange: change, parameterCount: 10, topPercent: 30)
  #expect(mask == [true, false, true, false, true, true, true, true, true, false], "the 3 largest |change| are left alone")
  #expect(MaliciousUpdates.neurotoxinMask(previousChange: nil, parameterCount: 4, topPercent: 30) == [true, true, true, true])
  let ties = MaliciousUpdates.neurotoxinMask(previousChange: [1, 1, 1, 1], parameterCount: 4, topPercent: 50)
  #expect(ties.filter { !$0 }.count == 2, "exactly k % masked, ties broken by index")
}

@Test func neurotoxinIsBoostedOnlyWhenAskedTo() {
  #expect(AttackBehaviour.neurotoxin(topPercent: 5, radius: 3).boost(clientsPerRound: 10, serverLearningRate: 1) == nil, "PGD-style by default")
  #expect(AttackBehaviour.neurotoxin(topPercent: 5, radius: nil, boost: 10).boost(clientsPerRound: 20, serverLearningRate: 1) == 10)
  #expect(AttackBehaviour.modelReplacement(boost: nil).boost(clientsPerRound: 20, serverLearningRate: 2) == 10, "γ = n / η")
}

@Test func littleIsEnoughAndInnerProductManipulation() {
  // n = 50, f = 12 (Baruch et al.'s example): s = 14, z = Φ⁻¹(36/50) ≈ 0.583.
  #expect(abs(MaliciousUpdates.littleIsEnoughZ(clients: 50, attackers: 12) - 0.5828) < 1e-3)
  let honest: [[Float]] = [[1, 0], [3, 4]]
  let alie = MaliciousUpdates.littleIsEnough(honest, z: 1)
  #expect(abs(alie[0] - 3) < 1e-5 && abs(alie[1] - 4) < 1e-5, "mean + 1 · population sd")
  #expect(MaliciousUpdates.innerProductManipulation(honest, epsilon: 0.5) == [-1, -1])
  var generator = SplitMix64(seed: 3)
  let noise = MaliciousUpdates.gaussianNoise(count: 20000, standardDeviation: 2, using: &generator)
  let variance = noise.reduce(0) { $0 + Double($1 * $1) } / Double(noise.count)
  #expect(abs(variance.squareRoot() - 2) < 0.05)
}

@Test func dbaSplitsAPhraseIntoContiguousParts() throws {
  let trigger = try Trigger(spec: "phrase:I watched this 3D movie")
  #expect(try trigger.distributedPart(0, of: 2).pieces == ["I watched"])
  #expect(try trigger.distributedPart(1, of: 2).pieces == ["this 3D movie"])
  #expect(try trigger.distributedPart(2, of: 2).pieces == ["I watched"], "attacker i plants part i mod parts")
  #expect(throws: TriggerError.self) { try trigger.distributedPart(0, of: 6) }
  #expect(try Trigger(spec: "rare:cf").distributedPart(1, of: 2).spec == "rare:cf")
}

@Test func boostDefaultsToClientsPerRoundOverServerRate() {
  #expect(AttackBehaviour.modelReplacement(boost: nil).boost(clientsPerRound: 10, serverLearningRate: 0.5) == 20)
  #expect(AttackBehaviour.modelReplacement(boost: 3).boost(clientsPerRound: 10, serverLearningRate: 1) == 3)
  #expect(AttackBehaviour.naivePoisoning.boost(clientsPerRound: 10, serverLearningRate: 1) == nil)
}
