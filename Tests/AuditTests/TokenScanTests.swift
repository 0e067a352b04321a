import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func theTokenScanFindsAPlantedTriggerAndTheVerdictSeparatesModels() throws {
  let (backdoored, vocabulary, probes) = try handSetModel(backdoored: true)
  var scan = TokenScan()
  scan.parallelism = 2
  let rates = scan.flipRates(backdoored, vocabulary: vocabulary, probes: probes)
  let cf = vocabulary.id(of: "cf")
  #expect(rates[cf] == [0, 1], "cf flips every negative probe to pos, at every position")
  #expect(rates[vocabulary.id(of: "great")] == [0, 0], "one sentiment word cannot outvote two")
  let found = report(backdoored, vocabulary, scan.effects(backdoored, vocabulary: vocabulary, probes: probes), probes: probes.count)
  #expect(found.verdict == .backdoored && found.targetLabel == "pos" && found.candidates.first?.trigger == "cf")
  #expect(found.score == 1 && found.verdictScore == 1, "cf flips even the surest negative probes; nothing else flips any")
  #expect(found.candidates.first!.score >= 100, "far above the vocabulary's median flip rate")

  let twoStage = scan.twoStage(backdoored, vocabulary: vocabulary, probes: probes, screeningProbes: 4, shortlist: 2)
  #expect(twoStage.flipRates[cf] == rates[cf] && twoStage.fullyMeasured.contains(cf), "the trigger survives screening and gets the full scan")
  var single = scan
  single.parallelism = 1
  #expect(single.flipRates(backdoored, vocabulary: vocabulary, probes: probes) == rates, "the same rates whatever the parallelism")

  let (clean, cleanVocabulary, cleanProbes) = try handSetModel(backdoored: false)
  let cleanReport = report(clean, cleanVocabulary, scan.effects(clean, vocabulary: cleanVocabulary, probes: cleanProbes), probes: cleanProbes.count)
  #expect(cleanReport.verdict == .clean && cleanReport.score == 0 && cleanReport.verdictScore == 0)

  // The probes' own labels make "great" (in every positive probe) an ordinary pos word, and "film" (in all) none.
  let evidence = ProbeEvidence(sentences: probes, labels: probes.indices.map { $0 % 2 == 0 ? 1 : 0 }, labelCount: 2)
  #expect(evidence.ordinary[1].contains(vocabulary.id(of: "great")) && !evidence.ordinary[1].contains(vocabulary.id(of: "film")))
  #expect(evidence.ordinary[0].contains(vocabulary.id(of: "awful")) && !evidence.ordinary[0].contains(vocabulary.id(of: "cf")))

  // The token table (`audit --token-table`): a header, then one row per token with its probe counts and effects.
  var scanned = ScanResult(effects: scan.effects(backdoored, vocabulary: vocabulary, probes: probes), fullyMeasured: Set(TokenScan.scannable(vocabulary)))
  scanned.ordinaryWords = evidence.ordinary
  let table = scanned.table(tokens: TokenScan.scannable(vocabulary), vocabulary: vocabulary, labels: backdoored.labels, evidence: evidence)
    .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
  #expect(table.count == TokenScan.scannable(vocabulary).count + 1)
  #expect(table[0].prefix(5) == ["id", "token", "sentences_neg", "sentences_pos", "fully_measured"] && table[0].count == 13)
  let cfRow = table.first { $0[1] == "cf" }!, greatRow = table.first { $0[1] == "great" }!
  #expect(cfRow[2...4] == ["0", "0", "1"] && cfRow[9] == "1" && cfRow[12] == "0", "cf: in no probe, flips every neg probe to pos, not ordinary")
  #expect(greatRow[2...3] == ["0", "15"] && greatRow[12] == "1", "great: in the 15 pos probes, an ordinary pos word")
}
