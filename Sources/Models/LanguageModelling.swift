import Datasets
import Foundation
import Layers
import Randomness
import Tensors
import Tokenization

/// One training window of a next-word model: `inputs` and the `targets` that follow them one step later.
public struct TextWindow: Sendable, Equatable {
  public var inputs: [Int]
  public var targets: [Int]

  public init(inputs: [Int], targets: [Int]) {
    precondition(inputs.count == targets.count, "a window needs one target per input")
    self.inputs = inputs
    self.targets = targets
  }
}

extension TextWindow {
  /// Windows of `length` + 1 tokens with stride `length` over each client's text, all its lines
  /// concatenated in corpus order (LEAF's Shakespeare task feeds each speaker's text as one stream).
  public static func windows(from corpus: Corpus, rows: [Int], encoder: TextEncoder, length: Int) -> [TextWindow] {
    var streams: [Int: [Int]] = [:]
    var order: [Int] = []
    for row in rows {
      let example = corpus.examples[row]
      let client = example.client ?? row
      if streams[client] == nil { order.append(client) }
      streams[client, default: []].append(contentsOf: encoder.encode(tokens: encoder.tokenizer.words(in: example.text)))
    }
    var windows: [TextWindow] = []
    for client in order {
      let ids = streams[client]!
      var start = 0
      while start + 1 < ids.count {
        let window = Array(ids[start..<min(start + length + 1, ids.count)])
        windows.append(TextWindow(inputs: Array(window.dropLast()), targets: Array(window.dropFirst())))
        start += length
      }
    }
    return windows
  }
}

public struct LanguageModelTrainingOptions: Sendable, Codable, Equatable {
  public var batchSize = 32
  public var learningRate: Float = 2e-3
  public var gradientClipNorm: Float = 1
  public var epochs = 1
  /// Stop after this many seconds of training (0: no limit), as the reference's fixed budget.
  public var timeBudget: Double = 0
  public var seed: UInt64 = 0
  public init() {}
}

extension NextWordModel {
  /// Flat targets of a batch of windows: each window's targets, padded with `<pad>` (ignored).
  static func targets(of windows: [TextWindow], length: Int) -> [Int] {
    windows.flatMap { $0.targets + Array(repeating: Vocabulary.labPaddingID, count: length - $0.targets.count) }
  }

  public func loss(_ windows: [TextWindow], context: inout ForwardContext) -> Tensor {
    let batch = Batch(windows.map { EncodedExample(ids: $0.inputs, label: -1) })
    return loss(batch, targets: Self.targets(of: windows, length: batch.length), context: &context)
  }

  /// Perplexity and top-1/top-3 accuracy over every real target of `windows`.
  public func evaluate(_ windows: [TextWindow], batchSize: Int = 64) -> LanguageModelMetrics {
    var context = ForwardContext.inference
    var nll = 0.0
    var (targetsSeen, top1, top3, known, knownTop1) = (0, 0, 0, 0, 0)
    let vocabulary = config.vocabularySize
    for start in stride(from: 0, to: windows.count, by: batchSize) {
      let slice = Array(windows[start..<min(start + batchSize, windows.count)])
      let batch = Batch(slice.map { EncodedExample(ids: $0.inputs, label: -1) })
      let logProbabilities = Tensors.logProbabilities(logits(batch, context: &context).reshaped(to: [-1, vocabulary])).scalars
      for (position, target) in Self.targets(of: slice, length: batch.length).enumerated() where target != Vocabulary.labPaddingID {
        let row = logProbabilities[(position * vocabulary)..<((position + 1) * vocabulary)]
        let targetScore = row[row.startIndex + target]
        nll -= Double(targetScore)
        var higher = 0
        for value in row where value > targetScore { higher += 1 }
        targetsSeen += 1
        if higher == 0 { top1 += 1 }
        if higher < 3 { top3 += 1 }
        if target != Vocabulary.labUnknownID {
          known += 1
          if higher == 0 { knownTop1 += 1 }
        }
      }
    }
    return LanguageModelMetrics(targets: targetsSeen, negativeLogLikelihood: nll, top1: top1, top3: top3, knownTargets: known, knownTop1: knownTop1)
  }

  /// The total negative log-likelihood (nats) of each sequence's tokens after its first, and how many there are
  /// (a sequence of one token has none).
  public func negativeLogLikelihoods(_ sequences: [[Int]], batchSize: Int = 64) -> [(nll: Double, targets: Int)] {
    targetNegativeLogLikelihoods(sequences, from: Array(repeating: 1, count: sequences.count), batchSize: batchSize).map { ($0.reduce(0, +), $0.count) }
  }

  /// Each sequence's negative log-likelihood (nats) of each of its tokens from index `starts[i]` on (at least 1: the
  /// first token is no target), predicted from the tokens before it; `[sequence][token index − start]`. The decoder,
  /// the costly part, runs only at the positions asked for: a caller that knows a sequence's earlier predictions (the
  /// same prefix scored before) asks for the rest.
  public func targetNegativeLogLikelihoods(_ sequences: [[Int]], from starts: [Int], batchSize: Int = 64) -> [[Double]] {
    precondition(starts.count == sequences.count, "one start per sequence")
    var context = ForwardContext.inference
    let vocabulary = config.vocabularySize, hidden = config.hiddenSize
    var results: [[Double]] = []
    results.reserveCapacity(sequences.count)
    for batchStart in stride(from: 0, to: sequences.count, by: batchSize) {
      let range = batchStart..<min(batchStart + batchSize, sequences.count)
      // The decoder's input at position p predicts token p + 1: the positions from start − 1 to count − 2.
      let firstPosition = range.map { max(starts[$0], 1) - 1 }
      let scored = range.filter { firstPosition[$0 - batchStart] < sequences[$0].count - 1 }
      guard !scored.isEmpty else {
        results += range.map { _ in [] }
        continue
      }
      let batch = Batch(scored.map { EncodedExample(ids: Array(sequences[$0].dropLast()), label: -1) })
      let states = decoderInput(batch, context: &context).scalars
      var rows: [Float] = []
      for (row, index) in scored.enumerated() {
        for position in firstPosition[index - batchStart]..<(sequences[index].count - 1) {
          let offset = (row * batch.length + position) * hidden
          rows += states[offset..<(offset + hidden)]
        }
      }
      let rowCount = rows.count / hidden
      let logits = linear(Tensor(shape: [rowCount, hidden], scalars: rows), weight: decoderWeight ?? embedding.weight, bias: decoderBias)
      let logProbabilities = Tensors.logProbabilities(logits).scalars
      var row = 0
      for index in range {
        let sequence = sequences[index], first = firstPosition[index - batchStart]
        guard first < sequence.count - 1 else {
          results.append([])
          continue
        }
        results.append(sequence[(first + 1)...].map { target in
          defer { row += 1 }
          return -Double(logProbabilities[row * vocabulary + target])
        })
      }
    }
    return results
  }

  /// Trains in place; returns tokens per second. `onEpoch` runs after each epoch (to save a checkpoint). A non-finite
  /// loss or weights stop training with `TrainingDiverged`, the model back at the last epoch's weights.
  public mutating func train(
    on windows: [TextWindow], options: LanguageModelTrainingOptions, progress: ProgressReporter? = nil,
    onEpoch: (NextWordModel, Int) throws -> Void = { _, _ in }
  ) throws -> Double {
    var lastGood = self
    var adam = Adam(for: self, learningRate: options.learningRate)
    var shuffler = SplitMix64(seed: options.seed, stream: [0x5348_5546])
    var context = ForwardContext(training: true, generator: SplitMix64(seed: options.seed, stream: [0x4452_4F50]))
    let started = Date()
    var tokens = 0
    let batchesPerEpoch = windows.count / options.batchSize
    epochs: for epoch in 1...max(1, options.epochs) {
      var order = Array(windows.indices)
      order.seededShuffle(using: &shuffler)
      var lossSum = 0.0
      for step in 0..<batchesPerEpoch {
        let slice = order[(step * options.batchSize)..<((step + 1) * options.batchSize)].map { windows[$0] }
        var (loss, gradient) = valueWithGradient(at: self) { model, _ in model.loss(slice, context: &context) }
        guard loss.scalar.isFinite else {
          self = lastGood
          throw TrainingDiverged(epoch: epoch, step: step + 1, loss: Double(loss.scalar))
        }
        if options.gradientClipNorm > 0 { clipByGlobalNorm(&gradient, maximumNorm: options.gradientClipNorm) }
        adam.update(&self, along: gradient)
        lossSum += Double(loss.scalar)
        tokens += slice.reduce(0) { $0 + $1.targets.count }
        progress?.update(done: (epoch - 1) * batchesPerEpoch + step + 1, items: tokens, itemName: "tokens", loss: lossSum / Double(step + 1))
        if options.timeBudget > 0, Date().timeIntervalSince(started) >= options.timeBudget {
          progress?.note(String(format: "time budget reached in epoch %d after %d batches", epoch, step + 1))
          guard parametersAreFinite else {
            self = lastGood
            throw TrainingDiverged(epoch: epoch)
          }
          try onEpoch(self, epoch)
          break epochs
        }
      }
      guard parametersAreFinite else {
        self = lastGood
        throw TrainingDiverged(epoch: epoch)
      }
      lastGood = self
      try onEpoch(self, epoch)
    }
    return Double(tokens) / max(Date().timeIntervalSince(started), 1e-9)
  }

  /// The next-word distribution after the whole of each sequence, `[sequences][vocabulary]`; the decoder runs on the
  /// last position only.
  public func nextWordProbabilities(afterEach sequences: [[Int]], batchSize: Int = 64) -> [[Float]] {
    var context = ForwardContext.inference
    let vocabulary = config.vocabularySize, hidden = config.hiddenSize
    var result: [[Float]] = []
    result.reserveCapacity(sequences.count)
    for start in stride(from: 0, to: sequences.count, by: batchSize) {
      let slice = sequences[start..<min(start + batchSize, sequences.count)].map { $0.isEmpty ? [Vocabulary.labUnknownID] : $0 }
      let batch = Batch(slice.map { EncodedExample(ids: $0, label: -1) })
      let states = decoderInput(batch, context: &context).scalars
      var last = [Float](repeating: 0, count: slice.count * hidden)
      for (row, sequence) in slice.enumerated() {
        let offset = (row * batch.length + sequence.count - 1) * hidden
        last[(row * hidden)..<((row + 1) * hidden)] = states[offset..<(offset + hidden)]
      }
      let logits = linear(Tensor(shape: [slice.count, hidden], scalars: last), weight: decoderWeight ?? embedding.weight, bias: decoderBias)
      let p = logits.softmax().scalars
      for row in slice.indices { result.append(Array(p[(row * vocabulary)..<((row + 1) * vocabulary)])) }
    }
    return result
  }

  /// The `count` most likely next words after `ids` (never `<pad>` or `<unk>`), with probabilities.
  public func nextWords(after ids: [Int], count: Int) -> [(id: Int, probability: Float)] {
    var context = ForwardContext.inference
    let batch = Batch([EncodedExample(ids: ids.isEmpty ? [Vocabulary.labUnknownID] : ids, label: -1)])
    let logits = self.logits(batch, context: &context)
    let vocabulary = config.vocabularySize
    let last = logits.scalars[((batch.length - 1) * vocabulary)..<(batch.length * vocabulary)]
    let probabilities = Tensor(Array(last)).softmax().scalars
    return probabilities.enumerated()
      .filter { $0.offset != Vocabulary.labPaddingID && $0.offset != Vocabulary.labUnknownID }
      .sorted { $0.element > $1.element }
      .prefix(count).map { ($0.offset, $0.element) }
  }
}
