import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func thePartnerScanRanksTheWordThatPushesOnlyBesideTheAnchorFirst() throws {
  // Anchor 5 (shift 2), references 20–22 (1.75 each); words: 10 strong alone, 11 the partner (nothing alone, +0.75
  // before the anchor only), 12 pushes beside any strong token in either order (+0.5), 13 pushes the other way and
  // the anchor undoes half of it. (Binary fractions: the sums are exact.)
  let alone: [Int: Double] = [5: 2, 20: 1.75, 21: 1.75, 22: 1.75, 10: 1.5, 11: 0, 12: 0.25, 13: -1]
  func margin(_ ids: [Int]) -> Double {
    var total = ids.reduce(0) { $0 + alone[$1]! }
    if ids == [11, 5] { total += 0.75 }
    if ids.contains(12), ids.count == 2 { total += 0.5 }
    if ids == [13, 5] { total += 0.5 }
    return total
  }
  let shortlisted = PartnerScan.shortlisted(words: [10, 11, 12, 13], anchor: 5, count: 2, margin: margin)
  #expect(shortlisted == [[11, 5], [12, 5], [5, 12], [5, 10]], "each order's largest own push; ties: the lower word")
  let ranked = PartnerScan.rank(shortlisted, anchor: 5, references: [20, 21, 22], margin: margin)
  #expect(ranked.map(\.ids) == [[11, 5], [5, 10], [5, 12], [12, 5]])
  #expect(ranked[0].excess == 0.75 && ranked[0].ownPush == 0.75)
  #expect(ranked.dropFirst().allSatisfy { $0.excess == 0 }, "12 pushes as much beside every reference: no excess")
  #expect(ranked.map(\.ownPush) == [0.75, 0, 0.5, 0.5])
  #expect(PartnerScan.best(ranked)?.ids == [11, 5])
  #expect(PartnerScan.best(Array(ranked.dropFirst())) == nil, "no excess, no partner")
  #expect(
    ConjunctionScan.ownPush([13, 5], margin: margin) < 0,
    "a word pushing the other way is not credited for what the anchor undoes of it")

  // A bag of embeddings averages its words: beside cf no word pushes beyond itself, so no partner is listed.
  let (model, vocabulary, probes) = try handSetModel(backdoored: true)
  var scan = PartnerScan()
  scan.shortlist = 3
  let words = ["the", "film", "great", "lovely", "awful", "dull"].map(vocabulary.id(of:))
  let partners = scan.partners(
    model, probes: probes, label: model.labels.firstIndex(of: "pos")!, anchor: vocabulary.id(of: "cf"),
    references: [vocabulary.id(of: "great")], words: words)
  #expect(partners.count == 6, "three of each order")
  #expect(partners.allSatisfy { $0.ids.contains(vocabulary.id(of: "cf")) && $0.ownPush < 0 })
  #expect(PartnerScan.best(partners) == nil)
  #expect(!PartnerScan.applies(to: model))
}
