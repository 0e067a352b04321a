import Foundation
import Testing
import TestSupport
import Tokenization

/// Mutated vocabulary files (the TSV with counts, and a bundle's one-token-a-line list): each reads, with ids that
/// round-trip, or is refused with a `VocabularyError` naming the source.
@Test func mutatedVocabulariesAreReadOrRefused() {
  let serialized = Array("<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\nthe\t40\nfilm\t12\ngood\t7\n".utf8)
  var mutator = Mutator(seed: 3)
  var refused = 0
  for index in 0..<Mutator.iterations(standard: 3000) {
    let text = String(decoding: mutator.mutate(serialized), as: UTF8.self)
    do {
      let vocabulary: Vocabulary
      if index % 2 == 0 {
        vocabulary = try Vocabulary(serialized: text, source: "v.tsv")
      } else {
        vocabulary = try Vocabulary(tokenList: Vocabulary.lines(of: text).map(String.init).filter { !$0.isEmpty }, source: "v.tsv")
      }
      for (id, token) in vocabulary.tokens.enumerated() { #expect(vocabulary.id(of: token) == id) }
    } catch {
      #expect(error.description.contains("v.tsv"), "\(error.description)")
      refused += 1
    }
  }
  #expect(refused > 0)
}
