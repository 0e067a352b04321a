import Layers
import Models
import Tensors
import Tokenization

/// Ways to take a backdoor out of a trained classifier without retraining it from scratch.
public enum Repair {
  /// Makes each of `tokens` look like `<unk>` to the model: its embedding row becomes `<unk>`'s. (The embedding
  /// row is all a token-level model knows of a word, so the trigger word is then exactly an unknown word.)
  /// Returns the tokens that were in the vocabulary.
  public static func neutralise(_ tokens: [String], in classifier: inout TextClassifier, vocabulary: Vocabulary) -> [String] {
    let dimension = classifier.embedding.weight.shape[1]
    var rows = classifier.embedding.weight.densified().scalars
    let unknown = Array(rows[(vocabulary.unknownID * dimension)..<((vocabulary.unknownID + 1) * dimension)])
    var done: [String] = []
    for token in tokens where vocabulary.contains(token) && !vocabulary.isSpecial(vocabulary.id(of: token)) {
      let id = vocabulary.id(of: token)
      rows.replaceSubrange((id * dimension)..<((id + 1) * dimension), with: unknown)
      done.append(token)
    }
    classifier.embedding.weight = Tensor(shape: classifier.embedding.weight.shape, scalars: rows)
    return done
  }

  /// Mean activation of each pooled feature (what the head reads) over clean `examples`.
  public static func featureActivity(_ classifier: TextClassifier, on examples: [EncodedExample], batchSize: Int = 256) -> [Double] {
    var context = ForwardContext.inference
    var sums: [Double] = []
    for indices in Batch.inOrder(examples, batchSize: batchSize) {
      let features = classifier.features(Batch(indices.map { examples[$0] }), context: &context).scalars
      let width = features.count / indices.count
      if sums.isEmpty { sums = [Double](repeating: 0, count: width) }
      for row in 0..<indices.count {
        for unit in 0..<width { sums[unit] += Double(features[row * width + unit]) }
      }
    }
    return sums.map { $0 / Double(max(examples.count, 1)) }
  }

  /// Fine-pruning (Liu et al. 2018), pruning step: the head stops reading `units` (their columns of the
  /// classifier's weight become zero): the units a backdoor uses are the ones clean inputs leave dormant.
  public static func prune(_ units: [Int], in classifier: inout TextClassifier) {
    let shape = classifier.classifier.weight.shape  // [classes, features]
    var weight = classifier.classifier.weight.densified().scalars
    for row in 0..<shape[0] {
      for unit in units { weight[row * shape[1] + unit] = 0 }
    }
    classifier.classifier.weight = Tensor(shape: shape, scalars: weight)
  }

  /// Units ordered from the least to the most active on clean data (by |mean activation|).
  public static func dormantFirst(_ activity: [Double]) -> [Int] {
    activity.indices.sorted { (abs(activity[$0]), $0) < (abs(activity[$1]), $1) }
  }

  /// Fine-pruning's search: the largest share of the units the head reads, in steps of `step` from the most dormant on
  /// clean data (`activity`, `dormantFirst`), whose pruning keeps `classifier`'s accuracy on `dev` within
  /// `maximumAccuracyDrop` of its own. Returns those units (none when even the first step costs too much).
  public static func unitsToPrune(
    _ classifier: TextClassifier, activity: [Double], dev: [EncodedExample], maximumAccuracyDrop: Double, step: Double = 0.05
  ) -> [Int] {
    let baseline = classifier.evaluate(dev).accuracy
    let order = dormantFirst(activity)
    var pruned: [Int] = []
    var fraction = step
    while fraction < 0.95 {
      let units = Array(order.prefix(Int(Double(order.count) * fraction)))
      var candidate = classifier
      prune(units, in: &candidate)
      guard baseline - candidate.evaluate(dev).accuracy <= maximumAccuracyDrop else { break }
      pruned = units
      fraction += step
    }
    return pruned
  }
}
