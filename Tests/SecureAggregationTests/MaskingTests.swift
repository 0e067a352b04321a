import Federated
import Foundation
import Randomness
@testable import SecureAggregation
import Testing

private func randomUpdates(_ n: Int, _ count: Int, seed: UInt64) -> [ClientUpdate] {
  var generator = SplitMix64(seed: seed)
  return (0..<n).map { client in ClientUpdate(client: client * 3, delta: (0..<count).map { _ in Float(generator.nextStandardNormal()) * 0.1 }, exampleCount: 10) }
}

@Test func theServerGetsTheMeanAndNothingElse() throws {
  let updates = randomUpdates(6, 5000, seed: 1)
  let rule = SecureAggregation()
  let result = try rule.aggregate(updates, round: 3)
  let mean = try FederatedAveraging(weighting: .uniform).aggregate(updates, round: 3).delta
  let worst = zip(result.delta, mean).map { abs($0 - $1) }.max()!
  #expect(worst < 1e-6, "fixed point at 2^\(rule.scaleBits(clients: 6)) loses at most \(worst)")
  #expect(try rule.aggregate(updates.reversed(), round: 3) == result, "the same whatever the order, and whatever the random keys")

  // Each masked input on its own looks like uniform noise: no correlation with the update it hides.
  let masked = try rule.maskedInputs(updates.sorted { $0.client < $1.client }, round: 3)
  #expect(masked.count == updates.count && masked.allSatisfy { $0.count == updates[0].delta.count })
  for (input, update) in zip(masked, updates) {
    let decoded = input.map { Double(Int32(bitPattern: $0)) }
    let x = update.delta.map(Double.init)
    let mx = decoded.reduce(0, +) / Double(decoded.count), my = x.reduce(0, +) / Double(x.count)
    let covariance = zip(decoded, x).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
    let correlation = covariance / (sqrt(decoded.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }) * sqrt(x.reduce(0) { $0 + ($1 - my) * ($1 - my) }))
    #expect(abs(correlation) < 0.05, "masked input correlates \(correlation) with its update")
    let spread = decoded.map(abs).reduce(0, +) / Double(decoded.count)
    #expect(spread > 5e8, "masked words spread over the whole 32-bit range")
  }
}

@Test func clientsClipAndTheServerAddsNoise() throws {
  let updates = randomUpdates(4, 2000, seed: 2)
  let clipped = try SecureAggregation(clientClipBound: 0.5).aggregate(updates, round: 1)
  let expected = try FederatedAveraging(weighting: .uniform).aggregate(
    updates.map { update in
      var x = update.delta
      ParameterVector.project(&x, ontoBallOfRadius: 0.5)
      return ClientUpdate(client: update.client, delta: x, exampleCount: 1)
    }, round: 1).delta
  #expect(zip(clipped.delta, expected).allSatisfy { abs($0 - $1) < 1e-6 })
  let noisy = try SecureAggregation(clientClipBound: 0.5, noiseStandardDeviation: 0.01, seed: 4).aggregate(updates, round: 1)
  let noise = zip(noisy.delta, clipped.delta).map { Double($0 - $1) }
  let sd = (noise.reduce(0) { $0 + $1 * $1 } / Double(noise.count)).squareRoot()
  #expect(abs(sd - 0.01) < 0.001)
}

@Test func clientsBeyondTheFixedPointRangeAreRecordedAsClamped() throws {
  var updates = randomUpdates(6, 50, seed: 3)
  updates[2].delta[7] = 40
  updates[4].delta = updates[4].delta.map { $0 * 1e6 }
  let result = try SecureAggregation(range: 8).aggregate(updates, round: 1)
  // Client ids are 0, 3, 6, …: the third and fifth updates are clients 6 and 12.
  #expect(result.verdicts[6] == .clamped && result.verdicts[12] == .clamped)
  #expect([0, 3, 9, 15].allSatisfy { result.verdicts[$0] == .kept })
  // A wider range keeps them whole: the mean is exact again.
  let wide = try SecureAggregation(range: 1e7).aggregate(updates, round: 1)
  #expect(wide.verdicts.values.allSatisfy { $0 == .kept })
  let mean = ParameterVector.weightedMean(updates.map(\.delta), weights: Array(repeating: 1, count: 6))
  #expect(zip(wide.delta, mean).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) })
  let record = RoundRecord(
    round: 1, sampled: updates.map(\.client), malicious: [12], rejected: [], verdicts: Dictionary(uniqueKeysWithValues: result.verdicts.map { (String($0.key), $0.value) }),
    updateNorms: [:], globalChangeNorm: 0, metrics: [:])
  #expect(record.clamped == [6, 12] && record.flagged.isEmpty, "saturation is not a detection")
}
