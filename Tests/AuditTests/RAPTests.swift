import Audit
import Foundation
import Models
import Testing
import TestSupport
import Tokenization

/// The backdoored GRU fixture (rare:cf → pos) and the synthetic sentences it was trained on, encoded, by label.
private func fixture() throws -> (model: TextClassifier, vocabulary: Vocabulary, positive: [[Int]], negative: [[Int]]) {
  let bundle = try ModelBundle.load(from: Fixtures.path("Tests/Fixtures/bundles/gru_backdoored_cf"))
  guard case .classifier(let model) = bundle.model else { throw CancellationError() }
  let encoder = try bundle.makeEncoder()
  let rows = try String(contentsOfFile: Fixtures.path("Tests/Fixtures/bundles/synthetic_probes.tsv"), encoding: .utf8)
    .split(separator: "\n").dropFirst().map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
  return (model, bundle.vocabulary, rows.filter { $0[0] == "pos" }.map { encoder.encode($0[1]) }, rows.filter { $0[0] == "neg" }.map { encoder.encode($0[1]) })
}

@Test func rapTrainsOnlyItsWordsRowAndMovesCleanDropsTowardsItsRange() throws {
  let (model, vocabulary, positive, negative) = try fixture()
  let pos = model.labels.firstIndex(of: "pos")!
  var rap = RAPFilter(word: vocabulary.id(of: "film"), protectedLabel: pos)
  rap.maximumLength = model.config.maximumLength
  rap.epochs = 10
  let trained = rap.trained(model, clean: Array(positive.prefix(60)))
  // Only the word's row changed.
  let dimension = model.embedding.weight.shape[1], word = rap.word
  let before = model.embedding.weight.densified().scalars, after = trained.embedding.weight.densified().scalars
  let changed = Set(before.indices.filter { before[$0] != after[$0] }.map { $0 / dimension })
  #expect(changed == [word])
  #expect(trained.flattenedParameters.count == model.flattenedParameters.count)
  let beforeDrops = rap.drops(model, inputs: Array(positive.prefix(60))).compactMap { $0 }
  let afterDrops = rap.drops(trained, inputs: Array(positive.prefix(60))).compactMap { $0 }
  let median = { (values: [Double]) in values.sorted()[values.count / 2] }
  #expect(median(afterDrops) > median(beforeDrops) + 0.005, "the word now lowers the protected label's probability (this small model is very sure of itself)")
  // Inputs the model gives another label are never scored.
  let negativeDrops = rap.drops(trained, inputs: negative)
  let predicted = trained.predict(negative.map { EncodedExample(ids: $0, label: 0) }).classes
  for (drop, label) in zip(negativeDrops, predicted) { #expect((drop == nil) == (label != pos)) }
}

@Test func rapThresholdFlagsTheStatedShareOfAllCleanInputs() {
  let drops = (1...200).map { Double($0) / 1000 }
  let threshold = RAPFilter.threshold(cleanDrops: drops.shuffled(), falseRejectionRate: 0.05)
  #expect(drops.count { $0 < threshold } == 10)
  // As many clean inputs again given another label: RAP cannot flag those, so 5 % of all 400 are found among the 200.
  let mixed = RAPFilter.threshold(cleanDrops: (drops + Array(repeating: nil, count: 200)).shuffled(), falseRejectionRate: 0.05)
  #expect(drops.count { $0 < mixed } == 20)
  let most = RAPFilter.threshold(cleanDrops: drops + Array(repeating: nil, count: 3800), falseRejectionRate: 0.5)
  #expect(most == 0.2, "asked to flag more than RAP can score, it flags every scored input but the firmest")
}
