import Defenses
import Federated
import Foundation
import Randomness
import Testing
import TestSupport

/// Written by Tests/Fixtures/aggregation/make_freqfed_fixture.py (numpy, scipy's dctn, scikit-learn's HDBSCAN).
struct FreqFedFixture: Decodable {
  struct Case: Decodable {
    var updates: [[Float]]
    var counts: [Int]
    var attackers: [Int]
    var kept: [Int]
    var expected: [Double]
    var fingerprints: [[Double]]?
  }
  var shapes: [[Int]]
  var cases: [Case]

  static let shared: FreqFedFixture = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/aggregation/freqfed.json")))
    return try! JSONDecoder().decode(FreqFedFixture.self, from: data)
  }()

  var layout: [FreqFed.ParameterMatrix] {
    var offset = 0
    return shapes.map { shape in
      let count = shape.reduce(1, *)
      defer { offset += count }
      return FreqFed.ParameterMatrix(range: offset..<(offset + count), shape: shape)
    }
  }
}

private func largestRelativeDifference(_ got: [Float], _ want: [Double]) -> Double {
  zip(got, want).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
}

@Test func freqFedFingerprintsAreScipysLowFrequencyDCTCoefficients() throws {
  let fixture = FreqFedFixture.shared
  let fixtureCase = fixture.cases[0]
  let want = try #require(fixtureCase.fingerprints)
  let got = FreqFed(layout: fixture.layout).fingerprints(fixtureCase.updates)
  #expect(got.count == want.count)
  for (g, w) in zip(got, want) {
    #expect(g.count == w.count, "the region u + v ≤ ⌊max(P, Q)/2⌋ of every tensor")
    #expect(largestRelativeDifference(g, w) < 1e-4)
  }
  #expect(fixture.layout[0].spectrum.rows > 256, "the first tensor spans more than one block of the basis")
  #expect(fixture.layout.map(\.spectrum.count).reduce(0, +) == want[0].count)
}

@Test(arguments: 0..<4)
func freqFedKeepsScikitLearnsMajorityClusterAndAveragesIt(index: Int) throws {
  let fixture = FreqFedFixture.shared
  let fixtureCase = fixture.cases[index]
  let updates = fixtureCase.updates.enumerated().map { ClientUpdate(client: $0.offset, delta: $0.element, exampleCount: fixtureCase.counts[$0.offset]) }
  let rule = FreqFed(layout: fixture.layout)
  let result = try rule.aggregate(updates, round: 3)
  let kept = Set(result.verdicts.filter { $0.value == .kept }.keys)
  #expect(kept == Set(fixtureCase.kept), "the same cluster as scikit-learn's HDBSCAN")
  #expect(result.verdicts.count == updates.count)
  #expect(Set(result.verdicts.filter { $0.value == .excluded }.keys) == Set(updates.indices).subtracting(fixtureCase.kept))
  #expect(largestRelativeDifference(result.delta, fixtureCase.expected) < 1e-4, "the kept updates averaged by their example counts")
  #expect(kept.isDisjoint(with: fixtureCase.attackers), "no attacker is kept")
  let reversed = try rule.aggregate(updates.reversed(), round: 3)
  #expect(reversed == result, "order-independent")
}

@Test func freqFedWithoutALayoutTransformsTheWholeUpdateAsOneVector() throws {
  // scipy's dct(x, norm="ortho") of [1, 2, 3, 4] is [5, -2.2304425, 0, -0.15851267]; the first ⌊4/2⌋ + 1 are kept.
  let print = FreqFed().fingerprints([[1, 2, 3, 4]])[0]
  #expect(print.count == 3)
  #expect(largestRelativeDifference(print, [5, -2.2304425, 0]) < 1e-6)
}

@Test func freqFedExcludesAFlippedMinorityAndRefusesASingleUpdate() throws {
  var generator = SplitMix64(seed: 11)
  let direction = (0..<60).map { _ in Float(generator.nextStandardNormal()) }
  let updates = (0..<8).map { client in
    ClientUpdate(
      client: client, delta: direction.map { (client >= 6 ? -$0 : $0) + 0.2 * Float(generator.nextStandardNormal()) }, exampleCount: 10)
  }
  let layout = [FreqFed.ParameterMatrix(range: 0..<48, shape: [12, 2, 2]), FreqFed.ParameterMatrix(range: 48..<60, shape: [12])]
  let result = try FreqFed(layout: layout, weighting: .uniform).aggregate(updates, round: 1)
  let excluded = Set(result.verdicts.filter { $0.value == .excluded }.keys)
  #expect(excluded.isSuperset(of: [6, 7]), "the two flipped updates are outside the cluster")
  #expect(updates.count - excluded.count >= updates.count / 2 + 1, "the cluster is a majority")
  #expect(throws: AggregationError.self) { try FreqFed().aggregate([updates[0]], round: 1) }
}

@Test(arguments: [(1, 700), (3, 700), (530, 2)])
func lowFrequencySpectrumIsTheDirectSumAcrossBasisBlocks(rows: Int, columns: Int) {
  var generator = SplitMix64(seed: UInt64(rows * 1000 + columns))
  let matrix = (0..<(rows * columns)).map { _ in Float(generator.nextStandardNormal()) }
  let spectrum = LowFrequencySpectrum(rows: rows, columns: columns)
  let got = spectrum.coefficients(of: [matrix[...], matrix.map { -2 * $0 }[...]])
  // The orthonormal DCT-II written out, in Double, for the region u + v ≤ ⌊max(P, Q)/2⌋.
  func basis(_ k: Int, _ n: Int, _ size: Int) -> Double {
    (k == 0 ? 1.0 / Double(size) : 2.0 / Double(size)).squareRoot() * cos(Double.pi * Double((2 * n + 1) * k) / Double(2 * size))
  }
  var want: [Double] = []
  for u in 0..<rows {
    for v in 0..<columns where u + v <= max(rows, columns) / 2 {
      var sum = 0.0
      for p in 0..<rows { for q in 0..<columns { sum += basis(u, p, rows) * basis(v, q, columns) * Double(matrix[p * columns + q]) } }
      want.append(sum)
    }
  }
  #expect(got[0].count == want.count && spectrum.count == want.count)
  #expect(zip(got[0], want).map { abs(Double($0) - $1) }.max()! < 1e-4, "more than one block of 256 basis rows")
  #expect(zip(got[1], want).map { abs(Double($0) + 2 * $1) }.max()! < 2e-4, "each matrix of the batch on its own")
}
