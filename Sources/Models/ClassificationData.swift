import Datasets
import Tokenization

/// A labelled corpus encoded for a classifier: the standard split, ids under a vocabulary.
public struct ClassificationData: Sendable {
  public var labels: [String]
  public var train: [EncodedExample]
  public var dev: [EncodedExample]
  public var test: [EncodedExample]
  /// Rows left out because their label is not one of `labels` (`unknownLabels: .skip`).
  public var skippedRows = 0

  /// Encodes `corpus` with `encoder`, mapping the corpus's labels onto `labels` (the model's) by name. A row whose
  /// label the model does not know is an error naming its line, or is left out and counted with `unknownLabels: .skip`.
  public init(corpus: Corpus, split: DataSplit, encoder: TextEncoder, labels: [String]? = nil, unknownLabels: BadRowPolicy = .fail) throws(CorpusError) {
    let modelLabels = labels ?? corpus.labels
    let position = Dictionary(uniqueKeysWithValues: modelLabels.enumerated().map { ($1, $0) })
    let mapping = corpus.labels.map { position[$0] }
    if let unlabelled = corpus.examples.first(where: { $0.label == nil }) {
      throw .badRow(path: corpus.path, line: unlabelled.line, reason: "the corpus has no label column")
    }
    if case .fail = unknownLabels, let row = corpus.examples.first(where: { mapping[$0.label!] == nil }) {
      let name = corpus.labels[row.label!]
      throw .badRow(path: corpus.path, line: row.line, reason: "label '\(name)' is not one of the model's labels (\(modelLabels.joined(separator: ", ")))")
    }
    var skipped = 0
    func encode(_ rows: [Int]) -> [EncodedExample] {
      rows.compactMap { row in
        guard let label = mapping[corpus.examples[row].label!] else {
          skipped += 1
          return nil
        }
        return EncodedExample(ids: encoder.encode(corpus.examples[row].text), label: label)
      }
    }
    self.labels = modelLabels
    train = encode(split.train)
    dev = encode(split.dev)
    test = encode(split.test)
    skippedRows = skipped
  }
}
