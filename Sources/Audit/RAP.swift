import Foundation
import Layers
import Models
import Tensors

/// RAP (Yang et al. 2021, "Robustness-Aware Perturbations"): a backdoored model answers a triggered input so firmly
/// that one more rare word barely moves it, while it moves clean inputs of the same label. The defender picks a rare
/// word and trains only its embedding row, on clean inputs of the protected label, so that inserting it first lowers
/// the protected label's probability by between `dropRange` bounds; the model is otherwise unchanged. An input the
/// model assigns the protected label is then flagged when the word lowers that probability by less than a threshold
/// calibrated on clean inputs to a chosen false-rejection rate (of all of them, as for the other filters). Inputs
/// assigned any other label are never flagged.
public struct RAPFilter: Sendable {
  /// Vocabulary id of the RAP word.
  public var word: Int
  /// The label RAP protects (the suspected backdoor target).
  public var protectedLabel: Int
  /// The drop in the protected label's probability the word should cause on clean inputs: training pushes each
  /// drop into this range. The paper's is 0.1 … 0.3; a stronger word also moves the confident clean predictions
  /// that a weak one barely moves, and which would otherwise look as firm as a triggered one.
  public var dropRange: ClosedRange<Double> = 0.3...0.6
  public var epochs = 20
  /// Adam's step size for the word's embedding row (probabilities near 0 or 1 give tiny raw gradients; Adam's
  /// normalised steps still move the row).
  public var learningRate: Float = 0.1
  public var batchSize = 32
  /// The words the model reads (the word is inserted first, the input cut to fit).
  public var maximumLength = 48

  public init(word: Int, protectedLabel: Int) {
    self.word = word
    self.protectedLabel = protectedLabel
  }

  /// `input` with the RAP word in front, cut to the model's window.
  func perturbed(_ input: [Int]) -> [Int] { Array(([word] + input).prefix(maximumLength)) }

  /// The classifier with the RAP word's embedding row trained on `clean` (encoded clean inputs of the protected
  /// label; in a fixed order, so the result is deterministic) by Adam on that row alone.
  public func trained(_ classifier: TextClassifier, clean: [[Int]]) -> TextClassifier {
    var model = classifier
    guard !clean.isEmpty else { return model }
    let dimension = model.embedding.weight.shape[1]
    let label = protectedLabel, lower = Float(dropRange.lowerBound), upper = Float(dropRange.upperBound)
    var firstMoment = [Float](repeating: 0, count: dimension), secondMoment = firstMoment
    var step: Float = 0
    for _ in 0..<epochs {
      for start in stride(from: 0, to: clean.count, by: batchSize) {
        let inputs = Array(clean[start..<min(start + batchSize, clean.count)])
        let original = model.predict(inputs.map { EncodedExample(ids: $0, label: label) }).probabilities.map { $0[label] }
        let batch = Batch(inputs.map { EncodedExample(ids: perturbed($0), label: label) })
        let originalColumn = Tensor(shape: [inputs.count, 1], scalars: original)
        let (_, gradient) = valueWithGradient(at: model) { model, _ in
          var context = ForwardContext.inference
          let probability = model.logits(batch, context: &context).softmax(alongAxis: -1).slice(alongAxis: 1, label..<(label + 1))
          // change = p(x ⊕ word) − p(x): wanted in [−upper, −lower].
          let change = probability - originalColumn
          return (change + lower).relu().mean() + (-upper - change).relu().mean()
        }
        let rows = gradient.embedding.weight.densified().scalars
        var weights = model.embedding.weight.densified().scalars
        step += 1
        for j in 0..<dimension {
          let g = rows[word * dimension + j]
          firstMoment[j] = 0.9 * firstMoment[j] + 0.1 * g
          secondMoment[j] = 0.999 * secondMoment[j] + 0.001 * g * g
          let corrected = firstMoment[j] / (1 - pow(0.9, step)), scale = secondMoment[j] / (1 - pow(0.999, step))
          weights[word * dimension + j] -= learningRate * corrected / (scale.squareRoot() + 1e-8)
        }
        model.embedding.weight = Tensor(shape: model.embedding.weight.shape, scalars: weights)
      }
    }
    return model
  }

  /// For each input, the drop in the protected label's probability when the word is inserted, or nil when the model
  /// does not assign the input the protected label (RAP leaves those alone).
  public func drops(_ model: TextClassifier, inputs: [[Int]]) -> [Double?] {
    let before = model.predict(inputs.map { EncodedExample(ids: $0, label: 0) })
    let after = model.predict(inputs.map { EncodedExample(ids: perturbed($0), label: 0) }).probabilities
    return inputs.indices.map { index in
      before.classes[index] == protectedLabel ? Double(before.probabilities[index][protectedLabel] - after[index][protectedLabel]) : nil
    }
  }

  /// The threshold below which a drop is flagged, so that at most `falseRejectionRate` of all the clean inputs are:
  /// `cleanDrops` has an entry for each, nil for one the model gives another label (never flagged).
  public static func threshold(cleanDrops: [Double?], falseRejectionRate: Double) -> Double {
    let drops = cleanDrops.compactMap { $0 }
    precondition(!drops.isEmpty, "calibration needs clean inputs given the protected label")
    let shareOfDrops = min(1, falseRejectionRate * Double(cleanDrops.count) / Double(drops.count))
    return calibratedThreshold(drops, falseRejectionRate: shareOfDrops, flaggedAbove: false)
  }
}
