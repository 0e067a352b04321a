import Models
import Randomness
import Tokenization

/// The clean sentences an audit inserts candidates into (the probes) and reads ordinary words from (the evidence).
public struct AuditProbeSet: Sendable {
  /// Sentences of the probe source that the evidence counts, at most `evidenceLimit`.
  public static let evidenceLimit = 5_000

  /// Every sentence, encoded, with its label where the source has one; none is all unknown words.
  public var sentences: [(ids: [Int], label: String?)]
  /// How many of the first sentences are probes.
  public var probeCount: Int

  /// The first `probeCount` sentences, encoded.
  public var probes: [[Int]] { sentences.prefix(probeCount).map(\.ids) }

  public init(sentences: [(ids: [Int], label: String?)], probeCount: Int) {
    self.sentences = sentences
    self.probeCount = probeCount
  }

  /// `texts` shuffled with a fixed seed, the first `evidenceLimit` encoded by `encoder`, those made only of unknown
  /// words left out; the first `probeCount` of the rest are the probes. Throws when none is left.
  public init(texts: [(text: String, label: String?)], encoder: TextEncoder, probeCount: Int, source: String) throws(AuditError) {
    var texts = texts
    var generator = SplitMix64(seed: 0, stream: [0x5052_4F42])  // "PROB"
    texts.seededShuffle(using: &generator)
    let sentences = texts.prefix(Self.evidenceLimit).map { (ids: encoder.encode($0.text), label: $0.label) }
      .filter { !$0.ids.allSatisfy { $0 == encoder.vocabulary.unknownID } }
    guard !sentences.isEmpty else { throw AuditError("\(source): the probe set is empty (no sentence with a known word)") }
    self.init(sentences: sentences, probeCount: probeCount)
  }
}
