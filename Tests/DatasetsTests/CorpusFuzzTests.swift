import Datasets
import Foundation
import Testing
import TestSupport

/// Mutated TSV corpora: each parses (every example's label and client in range) or is refused with a `CorpusError`.
@Test func mutatedCorporaAreReadOrRefused() {
  let valid = Array("label\tclient\ttext\npos\ta\tthe film was good\nneg\tb\tthe plot was bad\npos\ta\tgreat cast\nneg\tc\tdull\n".utf8)
  let description = CorpusDescription(name: "fuzz", path: "fuzz.tsv", labelColumn: "label", clientColumn: "client")
  var mutator = Mutator(seed: 2)
  var outcomes = (read: 0, refused: 0, skipping: 0)
  for index in 0..<Mutator.iterations(standard: 3000) {
    let bytes = mutator.mutate(valid)
    let policy: BadRowPolicy = index % 2 == 0 ? .fail : .skip
    do {
      let corpus = try Corpus(parsing: bytes, description: description, path: "fuzz.tsv", badRows: policy)
      for example in corpus.examples {
        #expect(example.label.map { corpus.labels.indices.contains($0) } ?? true)
        #expect(example.client.map { corpus.clients.indices.contains($0) } ?? true)
      }
      if policy == .skip { outcomes.skipping += 1 } else { outcomes.read += 1 }
    } catch {
      #expect(error.description.hasPrefix("fuzz.tsv"), "\(error.description)")
      outcomes.refused += 1
    }
  }
  #expect(outcomes.read > 0 && outcomes.refused > 0)
}
