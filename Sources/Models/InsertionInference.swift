import Layers
import Tensors
import Tokenization

/// Logits of a classifier for many token sequences (insertions), each put into the same probe texts at the same
/// points: what the audit's scans measure, thousands of insertions over the same few hundred points.
///
/// A GRU or LSTM reads left to right, so every insertion at a point starts from the same state: the one after the
/// probe's words before the point (an LSTM's state and cell). That state (per layer) and the pooled outputs of those
/// words are computed once per point, and each insertion runs only from the point onwards — at the end of a probe,
/// one step instead of the whole text. A bidirectional encoder of one layer shares the reverse direction's state
/// after the words behind the point the same way. The first layer's input projection of a token is the same at every
/// step, so each step reads it from a table of the whole vocabulary's, computed once. The logits are bit for bit those
/// of the whole sequences (same kernels, same summation order).
///
/// A CNN's windows away from the point are the probe's own: an insertion of m words at index i changes only the
/// windows that overlap it, and shifts those after it by m. Each probe's window responses are computed once per filter
/// bank; each insertion computes only its new windows, and the maximum over time takes the rest from the probe's.
/// Attention and bag models, and stacked bidirectional encoders, run the whole sequences.
public struct InsertionInference: Sendable {
  /// A probe text and the index its insertions go at (0 … ids.count).
  public struct Point: Sendable, Equatable {
    public var ids: [Int]
    public var index: Int

    public init(ids: [Int], index: Int) {
      precondition((0...ids.count).contains(index), "an insertion point must lie within its text")
      self.ids = ids
      self.index = index
    }
  }

  public let classifier: TextClassifier
  public let points: [Point]
  /// nil: the whole sequences are run.
  private(set) var shared: SharedStates?
  /// CNN only, per filter bank, per point: the responses (no bias) of the probe text's own windows, [window · filter],
  /// the text padded to the widest filter as the classifier pads it.
  private(set) var probeWindowResponses: [[[Float]]]?
  /// The whole sequences' inference path, and its table of the first layer's input projections of every vocabulary
  /// token, [token · gates · hidden] per direction (a token's row is what the encoder computes for it at any step).
  let inference: ClassifierInference

  /// What each point's insertions share, computed once.
  struct SharedStates: Sendable {
    /// [layer][point · hidden]: the forward state after the words before the point (zeros when there are none).
    var forwardStates: [[Float]]
    /// LSTM only, [layer][point · hidden]: the forward cell there.
    var forwardCells: [[Float]]
    /// [point · hidden]: the last layer's forward outputs over the words before the point, summed in order (mean
    /// pooling) or their maximum (max pooling, −∞ when there are none).
    var forwardPooled: [Float]
    /// Bidirectional only, [point · hidden]: the reverse state after the words behind the point.
    var backwardStates: [Float]
    /// Bidirectional LSTM only, [point · hidden]: the reverse cell there.
    var backwardCells: [Float]
    /// Bidirectional only, per point [words behind the point · hidden]: the reverse outputs there, in text order.
    var backwardOutputs: [[Float]]
  }

  public init(_ classifier: TextClassifier, points: [Point]) {
    self.classifier = classifier
    self.points = points
    // The scans run thousands of insertions into every point: the table always pays.
    inference = ClassifierInference(classifier)
    shared = nil
    if Self.sharesStates(classifier) { shared = sharedStates() }
    if classifier.config.architecture == .cnn { probeWindowResponses = windowResponsesOfThePoints() }
  }

  /// Whether the insertions' common parts can be computed once: a GRU or LSTM encoder, unidirectional or of one layer.
  public static func sharesStates(_ classifier: TextClassifier) -> Bool {
    guard let encoder = ClassifierInference.recurrentEncoder(of: classifier) else { return false }
    return !encoder.bidirectional || encoder.layerCount == 1
  }

  /// The recurrent encoder of a classifier whose states are shared.
  var encoder: any RecurrentStack { ClassifierInference.recurrentEncoder(of: classifier)! }

  /// Logits [insertion][point][label] (row-major) for each of `insertions` put into every point.
  public func logits(inserting insertions: ArraySlice<[Int]>, batchSize: Int) -> [Float] {
    let rows = insertions.flatMap { insertion in points.indices.map { Row(insertion: insertion, point: $0) } }
    guard !rows.isEmpty else { return [] }
    if let probeWindowResponses { return convolutionLogits(rows, probeResponses: probeWindowResponses) }
    guard let shared else {
      let sequences = rows.map { row in
        var ids = points[row.point].ids
        ids.insert(contentsOf: row.insertion, at: points[row.point].index)
        return EncodedExample(ids: ids, label: 0)
      }
      return inference.logitsByLength(sequences, batchSize: batchSize)
    }
    let width = encoder.outputSize
    var features = [Float](repeating: 0, count: rows.count * width)
    forwardFeatures(rows, shared: shared, batchSize: batchSize, into: &features)
    if encoder.bidirectional { backwardFeatures(rows, shared: shared, batchSize: batchSize, into: &features) }
    if classifier.config.pooling == .mean {
      for (r, row) in rows.enumerated() {
        let count = Float(max(1, points[row.point].ids.count + row.insertion.count))
        for j in 0..<width { features[r * width + j] /= count }
      }
    }
    return classifier.classifier(Tensor(shape: [rows.count, width], scalars: features)).scalars
  }

  struct Row {
    var insertion: [Int]
    var point: Int
  }

  /// The forward direction from each point on (the insertion, then the rest of the text), from the shared states;
  /// pooled into `features[row · width ..< + hidden]`.
  func forwardFeatures(_ rows: [Row], shared: SharedStates, batchSize: Int, into features: inout [Float]) {
    let encoder = self.encoder
    let hidden = encoder.hiddenSize, width = encoder.outputSize, pooling = classifier.config.pooling
    let tails = rows.map { row in row.insertion + points[row.point].ids[points[row.point].index...] }
    for (r, row) in rows.enumerated() where pooling != .last || tails[r].isEmpty {
      // Pooled from the shared words before the point; the rows whose tail is empty (nothing inserted at the end)
      // end there, with the last layer's state for `last`.
      let start = row.point * hidden
      let source = pooling == .last ? shared.forwardStates[encoder.layerCount - 1] : shared.forwardPooled
      features.replaceSubrange((r * width)..<(r * width + hidden), with: source[start..<(start + hidden)])
    }
    // Batches hold the shortest first: a batch whose last is empty holds nothing to run.
    for batch in Self.batches(lengths: tails.map(\.count), size: batchSize) where !tails[batch.last!].isEmpty {
      let (ids, mask, time) = Self.padded(batch.map { tails[$0] })
      var x = Tensor.zeros([0])
      for layer in 0..<encoder.layerCount {
        let pointRows = batch.map { rows[$0].point }
        x = run(
          layer == 0 ? .table(inference.projectedVocabulary[0], rows: ids) : .values(x), weights: encoder.cells[layer * encoder.directions],
          time: time, state: Self.gather(shared.forwardStates[layer], rows: pointRows, hidden: hidden),
          cellState: isLSTM ? Self.gather(shared.forwardCells[layer], rows: pointRows, hidden: hidden) : nil, mask: mask, reverse: false
        ).outputs
      }
      let outputs = x.scalars
      for (b, r) in batch.enumerated() where !tails[r].isEmpty {
        let length = tails[r].count
        if pooling == .last {
          features.replaceSubrange((r * width)..<(r * width + hidden), with: outputs[((b * time + length - 1) * hidden)..<((b * time + length) * hidden)])
        } else {
          Self.pool(outputs[((b * time) * hidden)..<((b * time + length) * hidden)], into: &features, at: r * width, hidden: hidden, pooling: pooling)
        }
      }
    }
  }

  /// The reverse direction from each point back to the text's start (the insertion, then the words before the point),
  /// from the shared states; pooled with the shared outputs behind the point into `features[row · width + hidden ..<]`.
  func backwardFeatures(_ rows: [Row], shared: SharedStates, batchSize: Int, into features: inout [Float]) {
    let encoder = self.encoder
    let hidden = encoder.hiddenSize, width = encoder.outputSize, pooling = classifier.config.pooling
    let heads = rows.map { row in Array(points[row.point].ids[..<points[row.point].index]) + row.insertion }
    for (r, row) in rows.enumerated() {
      let target = r * width + hidden
      if pooling == .last {
        // The reverse direction ends at position 0: after the shared words when nothing comes before them.
        guard heads[r].isEmpty else { continue }
        features.replaceSubrange(target..<(target + hidden), with: shared.backwardStates[(row.point * hidden)..<((row.point + 1) * hidden)])
      } else {
        for j in 0..<hidden { features[target + j] = pooling == .mean ? 0 : -.infinity }
      }
    }
    // Batches hold the shortest first: a batch whose last is empty holds nothing to run.
    for batch in Self.batches(lengths: heads.map(\.count), size: batchSize) where !heads[batch.last!].isEmpty {
      let (ids, mask, time) = Self.padded(batch.map { heads[$0] })
      let pointRows = batch.map { rows[$0].point }
      let outputs = run(
        .table(inference.projectedVocabulary[1], rows: ids), weights: encoder.cells[1], time: time,
        state: Self.gather(shared.backwardStates, rows: pointRows, hidden: hidden),
        cellState: isLSTM ? Self.gather(shared.backwardCells, rows: pointRows, hidden: hidden) : nil, mask: mask, reverse: true
      ).outputs.scalars
      for (b, r) in batch.enumerated() where !heads[r].isEmpty {
        let target = r * width + hidden
        if pooling == .last {
          features.replaceSubrange(target..<(target + hidden), with: outputs[(b * time * hidden)..<(b * time * hidden + hidden)])
        } else {
          Self.pool(outputs[(b * time * hidden)..<((b * time + heads[r].count) * hidden)], into: &features, at: target, hidden: hidden, pooling: pooling)
        }
      }
    }
    // Then the shared outputs behind the point: the whole sequence's pooling adds them up in text order.
    if pooling != .last {
      for (r, row) in rows.enumerated() {
        Self.pool(shared.backwardOutputs[row.point][...], into: &features, at: r * width + hidden, hidden: hidden, pooling: pooling)
      }
    }
  }

  /// The CNN's padding token and widest filter: a text shorter than that filter is read with padding after it.
  private var convolutionPadding: (token: Int, widest: Int) {
    (classifier.embedding.paddingIndex ?? Vocabulary.labPaddingID, classifier.config.filterSizes!.max()!)
  }

  /// Every point's probe text, padded to the widest filter, through each filter bank: [bank][point][window · filter].
  func windowResponsesOfThePoints() -> [[[Float]]] {
    let (padding, widest) = convolutionPadding
    let texts = points.map { $0.ids + [Int](repeating: padding, count: max(0, widest - $0.ids.count)) }
    let starts = texts.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    let embedded = embeddingRows(texts.flatMap { $0 })
    return classifier.convolutions.map { bank in
      let responses = convolutionWindowResponses(embedded, weight: bank.weight).scalars
      let filters = bank.filterCount
      // A text's windows start at its own rows; the windows that run into the next text are not its.
      return texts.indices.map { p in Array(responses[(starts[p] * filters)..<((starts[p + 1] - bank.width + 1) * filters)]) }
    }
  }

  /// The embeddings of `ids`, one row each: [ids.count, dimension].
  private func embeddingRows(_ ids: [Int]) -> Tensor {
    Tensor(shape: [ids.count, classifier.config.embeddingDimension], scalars: classifier.embedding(ids, shape: [1, ids.count]).scalars)
  }

  /// A CNN's logits for each row: per filter bank, the windows of the row's text that overlap its insertion, computed
  /// (one product for all rows); the windows before them and after them are the probe's own (shifted by the
  /// insertion's length); the maximum over all of them, plus the bias, through ReLU, as `convolutionMaxPool` takes it.
  func convolutionLogits(_ rows: [Row], probeResponses: [[[Float]]]) -> [Float] {
    let (padding, widest) = convolutionPadding
    let banks = classifier.convolutions, width = banks.map(\.filterCount).reduce(0, +)
    var features = [Float](repeating: 0, count: rows.count * width)
    var featureOffset = 0
    for (bankIndex, bank) in banks.enumerated() {
      let (span, filters) = (bank.width, bank.filterCount)
      // Row r's new windows [lo, hi) and the tokens they read, one row's after another.
      var ranges: [(lo: Int, hi: Int, windows: Int, firstRow: Int)] = []
      var tokens: [Int] = []
      for row in rows {
        let point = points[row.point], inserted = row.insertion.count
        let windows = max(point.ids.count + inserted, widest) - span + 1
        let lo = max(0, point.index - span + 1), hi = min(windows, point.index + inserted)
        ranges.append((lo, hi, windows, tokens.count))
        guard lo < hi else { continue }
        for position in lo..<(hi + span - 1) {
          tokens.append(
            position < point.index ? point.ids[position]
              : position < point.index + inserted ? row.insertion[position - point.index]
              : position < point.ids.count + inserted ? point.ids[position - inserted] : padding)
        }
      }
      let fresh = tokens.count >= span ? convolutionWindowResponses(embeddingRows(tokens), weight: bank.weight).scalars : []
      let bias = bank.bias.scalars
      fresh.withUnsafeBufferPointer { fresh in
        for (r, row) in rows.enumerated() {
          let (lo, hi, windows, firstRow) = ranges[r], inserted = row.insertion.count
          let probe = probeResponses[bankIndex][row.point]
          for f in 0..<filters {
            var best = -Float.infinity
            for window in 0..<lo { best = max(best, probe[window * filters + f]) }
            for window in lo..<max(lo, hi) { best = max(best, fresh[(firstRow + window - lo) * filters + f]) }
            for window in max(lo, hi)..<windows { best = max(best, probe[(window - inserted) * filters + f]) }
            let activated = best + bias[f]
            features[r * width + featureOffset + f] = activated > 0 ? activated : 0
          }
        }
      }
      featureOffset += filters
    }
    return classifier.classifier(Tensor(shape: [rows.count, width], scalars: features)).scalars
  }

  /// What one direction of one layer reads at each step: rows of a projection table (the first layer) or the layer
  /// below's outputs [batch, time, input].
  enum LayerInput {
    case table(Tensor, rows: [Int])
    case values(Tensor)
  }

  var isLSTM: Bool { classifier.config.architecture == .lstm }

  /// One direction of one layer over a padded batch, from the given states ([batch · hidden]; `cellState` for an
  /// LSTM): the outputs [batch, time, hidden] and, for an LSTM, each row's cell after its last real step.
  func run(_ input: LayerInput, weights: GRU.Cell, time: Int, state: [Float], cellState cell: [Float]?, mask: Tensor, reverse: Bool) -> (
    outputs: Tensor, cells: [Float]
  ) {
    let hidden = weights.recurrentWeight.shape[1], batch = state.count / hidden
    let initialState = Tensor(shape: [batch, hidden], scalars: state)
    if let cell {
      let projections: Tensor, rows: [Int]?
      switch input {
      case .table(let table, let ids): (projections, rows) = (table, ids)
      case .values(let x):
        // The projections of every step at once, as `lstmSequence` makes them.
        projections = gruInputProjection(
          Tensor(shape: [batch * time, x.shape[2]], scalars: x.scalars), inputWeight: weights.inputWeight, inputBias: weights.inputBias)
        rows = nil
      }
      let result = lstmSequenceWithFinalCells(
        projections: projections, rows: rows, batch: batch, time: time, recurrentWeight: weights.recurrentWeight,
        recurrentBias: weights.recurrentBias, initialState: initialState, initialCell: Tensor(shape: [batch, hidden], scalars: cell), mask: mask,
        reverse: reverse)
      return (result.outputs, result.finalCells.scalars)
    }
    switch input {
    case .table(let table, let ids):
      return (gruSequence(
        projections: table, rows: ids, batch: batch, time: time, recurrentWeight: weights.recurrentWeight, recurrentBias: weights.recurrentBias,
        initialState: initialState, mask: mask, reverse: reverse), [])
    case .values(let x):
      return (gruSequence(
        x, inputWeight: weights.inputWeight, recurrentWeight: weights.recurrentWeight, inputBias: weights.inputBias,
        recurrentBias: weights.recurrentBias, initialState: initialState, mask: mask, reverse: reverse), [])
    }
  }

  /// Rows `rows` of a [points · hidden] array, in that order.
  static func gather(_ values: [Float], rows: [Int], hidden: Int) -> [Float] {
    rows.flatMap { values[($0 * hidden)..<(($0 + 1) * hidden)] }
  }

  /// Adds (mean) or takes the maximum with (max) each `hidden`-wide step of `steps`, in order, at `features[at...]`.
  static func pool(_ steps: ArraySlice<Float>, into features: inout [Float], at target: Int, hidden: Int, pooling: Pooling) {
    steps.withUnsafeBufferPointer { source in
      features.withUnsafeMutableBufferPointer { destination in
        for step in 0..<(source.count / hidden) {
          for j in 0..<hidden {
            let value = source[step * hidden + j]
            destination[target + j] = pooling == .mean ? destination[target + j] + value : max(destination[target + j], value)
          }
        }
      }
    }
  }

  func sharedStates() -> SharedStates {
    let encoder = self.encoder
    let hidden = encoder.hiddenSize, pooling = classifier.config.pooling, zeros = [Float](repeating: 0, count: points.count * hidden)
    var forwardStates = [[Float]](repeating: zeros, count: encoder.layerCount)
    var forwardCells = isLSTM ? forwardStates : []
    var forwardPooled = [Float](repeating: pooling == .max ? -.infinity : 0, count: points.count * hidden)
    let before = points.map { Array($0.ids[..<$0.index]) }
    if let time = before.map(\.count).max(), time > 0 {
      let (ids, mask, _) = Self.padded(before)
      var x = classifier.embedding(ids, shape: [points.count, time])
      for layer in 0..<encoder.layerCount {
        let result = run(
          .values(x), weights: encoder.cells[layer * encoder.directions], time: time, state: zeros, cellState: isLSTM ? zeros : nil, mask: mask, reverse: false)
        x = result.outputs
        let outputs = x.scalars
        for (p, words) in before.enumerated() where !words.isEmpty {
          // Padding carries the state, so the last step holds the state after the last word.
          let last = (p * time + time - 1) * hidden
          forwardStates[layer].replaceSubrange((p * hidden)..<((p + 1) * hidden), with: outputs[last..<(last + hidden)])
          if isLSTM { forwardCells[layer].replaceSubrange((p * hidden)..<((p + 1) * hidden), with: result.cells[(p * hidden)..<((p + 1) * hidden)]) }
          guard layer == encoder.layerCount - 1 else { continue }
          if pooling != .last {
            Self.pool(outputs[(p * time * hidden)..<((p * time + words.count) * hidden)], into: &forwardPooled, at: p * hidden, hidden: hidden, pooling: pooling)
          }
        }
      }
    }
    var backwardStates = [Float](), backwardCells = [Float](), backwardOutputs = [[Float]]()
    if encoder.bidirectional {
      backwardStates = zeros
      backwardCells = isLSTM ? zeros : []
      backwardOutputs = [[Float]](repeating: [], count: points.count)
      let behind = points.map { Array($0.ids[$0.index...]) }
      if let time = behind.map(\.count).max(), time > 0 {
        let (ids, mask, _) = Self.padded(behind)
        let result = run(
          .values(classifier.embedding(ids, shape: [points.count, time])), weights: encoder.cells[1], time: time, state: zeros,
          cellState: isLSTM ? zeros : nil, mask: mask, reverse: true)
        let outputs = result.outputs.scalars
        for (p, words) in behind.enumerated() where !words.isEmpty {
          // The reverse direction ends at the first word behind the point.
          backwardStates.replaceSubrange((p * hidden)..<((p + 1) * hidden), with: outputs[(p * time * hidden)..<(p * time * hidden + hidden)])
          if isLSTM { backwardCells.replaceSubrange((p * hidden)..<((p + 1) * hidden), with: result.cells[(p * hidden)..<((p + 1) * hidden)]) }
          backwardOutputs[p] = Array(outputs[(p * time * hidden)..<((p * time + words.count) * hidden)])
        }
      }
    }
    return SharedStates(
      forwardStates: forwardStates, forwardCells: forwardCells, forwardPooled: forwardPooled, backwardStates: backwardStates,
      backwardCells: backwardCells, backwardOutputs: backwardOutputs)
  }

  /// Indices grouped `size` at a time, shortest first (ties: in order), as `Batch.inOrder` groups examples.
  static func batches(lengths: [Int], size: Int) -> [[Int]] {
    let order = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
    return stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
  }

  /// Sequences right-padded to the longest: ids [count · time], mask [count, time].
  static func padded(_ sequences: [[Int]]) -> (ids: [Int], mask: Tensor, time: Int) {
    let batch = Batch(sequences.map { EncodedExample(ids: $0, label: 0) })
    return (batch.ids, batch.mask, batch.length)
  }
}
