import Datasets
import Tokenization

/// A labelled corpus encoded for a classifier: the standard split, ids under a vocabulary.
public struct ClassificationData: Sendable {
  public var labels: [String]
  public var train: [EncodedExample]
  public var dev: [EncodedExample]
  public var test: [EncodedExample]

  /// Encodes `corpus` with `encoder`, mapping the corpus's labels onto `labels` (the model's) by name.
  public init(corpus: Corpus, split: DataSplit, encoder: TextEncoder, labels: [String]? = nil) throws(CorpusError) {
    let modelLabels = labels ?? corpus.labels
    let position = Dictionary(uniqueKeysWithValues: modelLabels.enumerated().map { ($1, $0) })
    var mapping: [Int] = []
    for name in corpus.labels {
      guard let index = position[name] else {
        throw .badRow(path: corpus.path, line: 1, reason: "label '\(name)' is not one of the model's labels (\(modelLabels.joined(separator: ", ")))")
      }
      mapping.append(index)
    }
    guard corpus.examples.allSatisfy({ $0.label != nil }) else { throw .badRow(path: corpus.path, line: 1, reason: "the corpus has no label column") }
    func encode(_ rows: [Int]) -> [EncodedExample] {
      rows.map { EncodedExample(ids: encoder.encode(corpus.examples[$0].text), label: mapping[corpus.examples[$0].label!]) }
    }
    self.labels = modelLabels
    train = encode(split.train)
    dev = encode(split.dev)
    test = encode(split.test)
  }
}
