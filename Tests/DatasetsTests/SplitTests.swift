import Datasets
import Testing

private func corpus(_ count: Int, clients: Int = 0) throws -> Corpus {
  let header = clients > 0 ? "client\ttext\n" : "text\n"
  let rows = (0..<count).map { clients > 0 ? "c\($0 % clients)\trow \($0)\n" : "row \($0)\n" }.joined()
  let description = CorpusDescription(name: "toy", path: "toy.tsv", clientColumn: clients > 0 ? "client" : nil)
  return try Corpus(parsing: Array((header + rows).utf8), description: description, path: "toy.tsv")
}

@Test func splitsAreDeterministicDisjointAndComplete() throws {
  let toy = try corpus(1_001)
  let split = try toy.split(seed: 3)
  #expect(split == (try toy.split(seed: 3)))
  #expect(split != (try toy.split(seed: 4)))
  #expect((split.train + split.dev + split.test).sorted() == Array(0..<1_001))
  #expect(split.train.count == 801)
  #expect(split.dev.count == 100)
  #expect(split.test.count == 100)
}

@Test func splitByClientKeepsEachClientInOnePart() throws {
  let toy = try corpus(600, clients: 30)
  let split = try toy.splitByClient(seed: 1)
  let clientsOf = { (rows: [Int]) in Set(rows.map { toy.examples[$0].client! }) }
  #expect(clientsOf(split.train).isDisjoint(with: clientsOf(split.test)))
  #expect(clientsOf(split.train).isDisjoint(with: clientsOf(split.dev)))
  #expect(clientsOf(split.train).count == 24)
  #expect((split.train + split.dev + split.test).sorted() == Array(0..<600))
  #expect(try toy.standardSplit(seed: 1) == split)
}

@Test func invalidFractionsAreErrors() throws {
  let toy = try corpus(10)
  #expect(throws: SplitError.invalidFractions(train: 0.95, dev: 0.1)) { try toy.split(seed: 0, train: 0.95, dev: 0.1) }
  #expect(throws: SplitError.noClients) { try toy.splitByClient(seed: 0) }
}
