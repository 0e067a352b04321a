import Federated
import Randomness
import Testing

@Test func fedAvgIsTheExampleWeightedMeanWhateverTheOrder() throws {
  let updates = [
    ClientUpdate(client: 3, delta: [1, 2, 3], exampleCount: 1),
    ClientUpdate(client: 1, delta: [4, 5, 6], exampleCount: 3),
    ClientUpdate(client: 2, delta: [-1, 0, 0.5], exampleCount: 4),
  ]
  let result = try FederatedAveraging().aggregate(updates, round: 1)
  let expected: [Float] = [(1 + 12 - 4) / 8, (2 + 15) / 8, (3 + 18 + 2) / 8]
  #expect(result.delta.count == expected.count)
  for (got, want) in zip(result.delta, expected) { #expect(abs(got - want) < 1e-6) }
  #expect(result.verdicts == [1: .kept, 2: .kept, 3: .kept])
  var generator = SplitMix64(seed: 1)
  for _ in 0..<5 {
    var shuffled = updates
    shuffled.seededShuffle(using: &generator)
    #expect(try FederatedAveraging().aggregate(shuffled, round: 1).delta == result.delta, "bit-identical in any order")
  }
  let uniform = try FederatedAveraging(weighting: .uniform).aggregate(updates, round: 1)
  #expect(abs(uniform.delta[0] - 4.0 / 3) < 1e-6)
  #expect(throws: AggregationError.noUpdates(round: 7)) { try FederatedAveraging().aggregate([], round: 7) }
}

@Test func nonFiniteUpdatesAreRejectedAndSizeMismatchesAreErrors() throws {
  let updates = [
    ClientUpdate(client: 0, delta: [1, 1], exampleCount: 1),
    ClientUpdate(client: 1, delta: [.nan, 1], exampleCount: 1),
    ClientUpdate(client: 2, delta: [1, -.infinity], exampleCount: 1),
  ]
  let screened = try screenUpdates(updates, parameterCount: 2)
  #expect(screened.kept.map(\.client) == [0])
  #expect(screened.rejected == [1, 2])
  #expect(throws: AggregationError.sizeMismatch(client: 0, expected: 3, got: 2)) { try screenUpdates(updates, parameterCount: 3) }
}

@Test func localConstraintsProjectMaskAndShrink() {
  let global: [Float] = [0, 0, 0, 0]
  var local: [Float] = [3, 4, 0, 0]
  LocalConstraints(radius: 1).apply(to: &local, around: global, learningRate: 0.1)
  #expect(abs(ParameterVector.norm(ParameterVector.difference(local, global)) - 1) < 1e-6, "PGD: onto the unit ball")
  #expect(abs(local[0] - 0.6) < 1e-6 && abs(local[1] - 0.8) < 1e-6, "direction kept")
  var masked: [Float] = [1, 2, 3, 4]
  LocalConstraints(movableCoordinates: [true, false, true, false]).apply(to: &masked, around: global, learningRate: 0.1)
  #expect(masked == [1, 0, 3, 0])
  var proximal: [Float] = [1, 1, 1, 1]
  LocalConstraints(proximalMu: 2).apply(to: &proximal, around: global, learningRate: 0.1)
  #expect(proximal.allSatisfy { abs($0 - 0.8) < 1e-6 }, "w ← w − lr·μ·(w − g)")
  var inside: [Float] = [0.1, 0, 0, 0]
  LocalConstraints(radius: 1).apply(to: &inside, around: global, learningRate: 0.1)
  #expect(inside == [0.1, 0, 0, 0], "inside the ball nothing changes")
}

@Test func parameterVectorArithmetic() {
  #expect(ParameterVector.dot([1, 2, 3], [4, 5, 6]) == 32)
  #expect(ParameterVector.norm([3, 4]) == 5)
  #expect(ParameterVector.weightedMean([[1, 0], [3, 2]], weights: [1, 3]) == [2.5, 1.5])
  #expect(ParameterVector.isFinite([1, 2]) && !ParameterVector.isFinite([1, .nan]))
}
