import Foundation

/// Accuracy, macro-F1, per-class precision and recall, and the confusion matrix (rows: true class,
/// columns: predicted class).
public struct ClassificationMetrics: Codable, Sendable, Equatable {
  public var labels: [String]
  public var confusion: [[Int]]
  public var count: Int
  public var accuracy: Double
  public var macroF1: Double
  public var precision: [Double]
  public var recall: [Double]
  public var f1: [Double]

  enum CodingKeys: String, CodingKey {
    case labels, confusion = "confusion_matrix", count, accuracy, macroF1 = "macro_f1", precision, recall, f1
  }

  public init(labels: [String], truth: [Int], predictions: [Int]) {
    precondition(truth.count == predictions.count, "\(truth.count) labels but \(predictions.count) predictions")
    let classes = labels.count
    var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    for (t, p) in zip(truth, predictions) { confusion[t][p] += 1 }
    self.labels = labels
    self.confusion = confusion
    count = truth.count
    let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
    accuracy = count > 0 ? Double(correct) / Double(count) : 0
    precision = (0..<classes).map { c in
      let predicted = (0..<classes).reduce(0) { $0 + confusion[$1][c] }
      return predicted > 0 ? Double(confusion[c][c]) / Double(predicted) : 0
    }
    recall = (0..<classes).map { c in
      let actual = confusion[c].reduce(0, +)
      return actual > 0 ? Double(confusion[c][c]) / Double(actual) : 0
    }
    f1 = zip(precision, recall).map { p, r in p + r > 0 ? 2 * p * r / (p + r) : 0 }
    macroF1 = classes > 0 ? f1.reduce(0, +) / Double(classes) : 0
  }

  /// A readable table: per-class precision/recall/F1 and the confusion matrix.
  public var summary: String {
    let width = max(11, (labels.map(\.count).max() ?? 0) + 2)
    func pad(_ text: String) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
    var lines = [String(format: "accuracy %.2f %%   macro-F1 %.2f %%   (%d examples)", accuracy * 100, macroF1 * 100, count)]
    lines.append(pad("class") + "precision  recall     F1")
    for (index, label) in labels.enumerated() {
      lines.append(pad(label) + String(format: "%8.2f %% %7.2f %% %6.2f %%", precision[index] * 100, recall[index] * 100, f1[index] * 100))
    }
    lines.append(pad("true\\pred") + labels.map { $0.padding(toLength: max(6, $0.count + 1), withPad: " ", startingAt: 0) }.joined())
    for (index, label) in labels.enumerated() {
      lines.append(pad(label) + zip(confusion[index], labels).map { String($0).padding(toLength: max(6, $1.count + 1), withPad: " ", startingAt: 0) }.joined())
    }
    return lines.joined(separator: "\n")
  }
}

/// Next-word prediction quality over every real target position.
public struct LanguageModelMetrics: Codable, Sendable, Equatable {
  public var targets: Int
  public var perplexity: Double
  public var top1Accuracy: Double
  public var top3Accuracy: Double
  /// Top-1 accuracy counting only targets that are not `<unk>`.
  public var top1AccuracyKnownWords: Double

  enum CodingKeys: String, CodingKey {
    case targets, perplexity, top1Accuracy = "top1_accuracy", top3Accuracy = "top3_accuracy", top1AccuracyKnownWords = "top1_accuracy_known_words"
  }

  public init(targets: Int, negativeLogLikelihood: Double, top1: Int, top3: Int, knownTargets: Int, knownTop1: Int) {
    self.targets = targets
    perplexity = targets > 0 ? Foundation.exp(negativeLogLikelihood / Double(targets)) : .infinity
    top1Accuracy = targets > 0 ? Double(top1) / Double(targets) : 0
    top3Accuracy = targets > 0 ? Double(top3) / Double(targets) : 0
    top1AccuracyKnownWords = knownTargets > 0 ? Double(knownTop1) / Double(knownTargets) : 0
  }
}
