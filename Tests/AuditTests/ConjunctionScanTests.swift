import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func theConjunctionScanRanksPairsByTheirInteractionOverTheirContextWordsMedian() throws {
  // Seeds 0–3, context words 10–12. Margins add up, except: word 10 before any seed adds 1 (an interaction of one
  // kind per context word, as "but" has in clean models), and word 11 before seed 2 adds 2 (a planted conjunction).
  let strength: [Int: Double] = [0: 1.0, 1: 0.8, 2: 0.5, 3: 0.3, 10: 0.1, 11: -0.2, 12: 0.05]
  func margin(_ ids: [Int]) -> Double {
    var total = 0.4 + ids.reduce(0) { $0 + strength[$1]! }
    if ids.count == 2, ids[0] == 10 { total += 1 }
    if ids == [11, 2] { total += 2 }
    return total
  }
  let pairs = ConjunctionScan.rank(seeds: [0, 1, 2, 3], contextWords: [10, 11, 12], margin: margin)
  #expect(pairs.count == 4 * 3 * 2, "every seed with every word, both orders")
  #expect(pairs.first?.ids == [11, 2] && abs(pairs.first!.excess - 2) < 1e-12 && abs(pairs.first!.interaction - 2) < 1e-12)
  let withWord10 = pairs.filter { $0.ids[0] == 10 }
  #expect(withWord10.allSatisfy { abs($0.interaction - 1) < 1e-12 && abs($0.excess) < 1e-12 }, "a context word's interaction with every seed is no lead")
  #expect(pairs.dropFirst().allSatisfy { abs($0.excess) < 1e-12 })

  #expect(abs(ConjunctionScan.verdictScore(bestExcess: ConjunctionScan.cleanExcess + 0.25) - 0.25) < 1e-12)
  #expect(ConjunctionScan.verdictScore(bestExcess: 0.1) == 0, "below the clean models' excess: nothing")
}

@Test func refiningAConjunctionLeadSwapsAWordAtATimeTowardThePairsOwnPush() throws {
  // The planted pair is 20 then 21; the scan's lead holds a passenger: 5 (a strong word) and 31.
  let strength: [Int: Double] = [5: 1.0, 20: 0.0, 21: 0.1, 30: -2.0, 31: 0.2, 32: 0.05]
  let bonus: [[Int]: Double] = [[20, 21]: 3, [5, 21]: 0.5, [5, 31]: 0.2]
  let pool = [5, 20, 21, 30, 31, 32]
  #expect(ConjunctionScan.swaps(of: [5, 31], pool: pool).count == 4 * 4, "4 words not in the pair, each replacing either word, before or after")
  let screening = SyntheticMargins(strength: strength, pairBonus: bonus), measured = SyntheticMargins(strength: strength, pairBonus: bonus)
  let pairs = ConjunctionScan.refine(leads: [[5, 31]], pool: pool, rounds: 2, screenedSwaps: 2, screening: screening, measured: measured)
  #expect(pairs.map(\.ids) == [[20, 21], [5, 21], [5, 31]], "\(pairs.map(\.ids))")
  #expect(abs(pairs[0].interaction - 3) < 1e-12 && abs(pairs[1].interaction - 0.5) < 1e-12)
  // [30, 5] undoes 30's push away (a raw interaction of 2) but pushes no further than 5 alone: no lead.
  #expect(abs(ConjunctionScan.ownPush([30, 5], margin: screening.margin)) < 1e-12)
  #expect(measured.measured.filter { $0.count == 2 }.count <= 1 + 2 * 2, "the lead and at most two screened swaps a round")
  #expect(screening.measured.contains([21, 5]) && !measured.measured.contains([31, 20]))

  let oneRound = ConjunctionScan.refine(
    leads: [[5, 31]], pool: pool, rounds: 1, screenedSwaps: 2, screening: SyntheticMargins(strength: strength, pairBonus: bonus),
    measured: SyntheticMargins(strength: strength, pairBonus: bonus))
  #expect(oneRound.map(\.ids) == [[5, 21], [5, 31]])
  let stuck = ConjunctionScan.refine(
    leads: [[20, 21]], pool: pool, rounds: 2, screenedSwaps: 4, screening: SyntheticMargins(strength: strength, pairBonus: bonus),
    measured: SyntheticMargins(strength: strength, pairBonus: bonus))
  #expect(stuck.map(\.ids) == [[20, 21]], "no swap beats the planted pair")
}

@Test func theConjunctionScanMeasuresMarginsByInsertingPairsAndRunsOnBinaryGRUsOnly() throws {
  let (model, vocabulary, probes) = try handSetModel(backdoored: false)
  var scan = ConjunctionScan()
  scan.probeCount = 6
  scan.parallelism = 2
  let seeds = ["great", "lovely"].map(vocabulary.id(of:)), words = ["the", "film", "great"].map(vocabulary.id(of:))
  let pairs = scan.pairs(model, probes: probes, label: 1, seeds: seeds, contextWords: words)
  #expect(pairs.count == 2 * 2 * 2, "a context word that is also a seed is left out")
  // The margin with two classes is the difference of the logits: recompute one pair's interaction directly.
  func meanMargin(_ inserted: [Int]) -> Double {
    var total = 0.0
    var context = ForwardContext.inference
    for ids in probes.prefix(6) {
      for sentence in [inserted + ids, ids + inserted] {
        let logits = model.logits(Batch([EncodedExample(ids: sentence, label: 0)]), context: &context).scalars
        total += Double(logits[1] - logits[0])
      }
    }
    return total / 12
  }
  let pair = try #require(pairs.first { $0.ids == [vocabulary.id(of: "film"), vocabulary.id(of: "lovely")] })
  let expected = meanMargin(pair.ids) - meanMargin([pair.ids[0]]) - meanMargin([pair.ids[1]]) + meanMargin([])
  #expect(abs(pair.interaction - expected) < 1e-4, "\(pair.interaction) against \(expected)")

  // Refined pairs carry their own push, measured the same way on the refinement's probes.
  scan.refinementProbeCount = 6
  scan.screeningProbeCount = 2
  let refined = scan.refine(model, probes: probes, label: 1, leads: [pair.ids], pool: ["the", "film", "great", "lovely"].map(vocabulary.id(of:)))
  #expect(refined.contains { $0.ids == pair.ids })
  for found in refined {
    let shift = { (ids: [Int]) in meanMargin(ids) - meanMargin([]) }
    let ownPush = shift(found.ids) - max(0, shift([found.ids[0]])) - max(0, shift([found.ids[1]]))
    #expect(abs(found.interaction - ownPush) < 1e-4, "\(found.ids): \(found.interaction) against \(ownPush)")
  }

  var generator = SplitMix64(seed: 3)
  func classifier(_ architecture: ModelConfig.Architecture, labels: [String], bidirectional: Bool = false) -> TextClassifier {
    var config = ModelConfig(
      architecture: architecture, vocabularySize: 20, embeddingDimension: 4, hiddenSize: 4, labels: labels, maximumLength: 8, headCount: 1,
      feedForwardSize: 8)
    config.bidirectional = bidirectional
    return TextClassifier(config: config, using: &generator)
  }
  #expect(ConjunctionScan.applies(to: classifier(.gru, labels: ["neg", "pos"])))
  #expect(!ConjunctionScan.applies(to: classifier(.gru, labels: ["neg", "pos"], bidirectional: true)), "clean BiGRUs' pairs stand as high")
  #expect(!ConjunctionScan.applies(to: classifier(.gru, labels: ["a", "b", "c"])), "six-label GRUs' clean pairs interact as much")
  #expect(!ConjunctionScan.applies(to: classifier(.attention, labels: ["neg", "pos"])) && !ConjunctionScan.applies(to: model))
  #expect(ConjunctionScan.suggestsCandidates(for: classifier(.gru, labels: ["neg", "pos"], bidirectional: true)), "a BiGRU's pairs are candidates")
  #expect(!ConjunctionScan.suggestsCandidates(for: classifier(.gru, labels: ["a", "b", "c"])) && !ConjunctionScan.suggestsCandidates(for: model))
}
