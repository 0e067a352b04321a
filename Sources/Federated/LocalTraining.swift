import Layers
import Randomness
import Tensors

/// How a client trains from the global weights.
public struct LocalTrainingOptions: Sendable, Codable, Equatable {
  public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case sgd, adam }

  public var epochs = 2
  public var batchSize = 16
  public var learningRate: Float = 0.1
  public var optimizer = OptimizerKind.sgd
  /// Gradient global-norm clip per step; 0 for none.
  public var gradientClipNorm: Float = 5

  public init() {}

  enum CodingKeys: String, CodingKey, CaseIterable {
    case epochs, batchSize = "batch_size", learningRate = "learning_rate", optimizer, gradientClipNorm = "gradient_clip_norm"
  }
}

/// Where local training may take the model, enforced after every optimizer step in parameter space
/// (w: local weights, g: the global weights the round started from).
public struct LocalConstraints: Sendable {
  /// FedProx (Li et al. 2020): the proximal term μ/2 ‖w − g‖², as the step w ← w − lr · μ · (w − g).
  public var proximalMu: Float = 0
  /// Constrain-and-scale (Bagdasaryan et al. 2020): loss α · task + (1 − α) · ‖w − g‖². With SGD the task step
  /// is scaled by α and the distance term is the step w ← w − lr · 2(1 − α) · (w − g).
  public var taskWeight: Float?
  /// Only these coordinates may move: w ← g + mask ⊙ (w − g) (Neurotoxin; rare-embedding attacks).
  public var movableCoordinates: [Bool]?
  /// Norm-bounded PGD (Sun et al. 2019; Wang et al. 2020): w − g projected onto the ball of this radius.
  public var radius: Double?

  public init(proximalMu: Float = 0, taskWeight: Float? = nil, movableCoordinates: [Bool]? = nil, radius: Double? = nil) {
    self.proximalMu = proximalMu
    self.taskWeight = taskWeight
    self.movableCoordinates = movableCoordinates
    self.radius = radius
  }

  public var isEmpty: Bool { proximalMu == 0 && taskWeight == nil && movableCoordinates == nil && radius == nil }

  /// Applies the constraints to `local` around `global`, after a step taken at `learningRate`.
  public func apply(to local: inout [Float], around global: [Float], learningRate: Float) {
    precondition(local.count == global.count, "local and global vectors differ in size")
    var shrink: Float = 0
    if proximalMu > 0 { shrink += learningRate * proximalMu }
    if let taskWeight { shrink += learningRate * 2 * (1 - taskWeight) }
    local.withUnsafeMutableBufferPointer { w in
      global.withUnsafeBufferPointer { g in
        if shrink != 0 { for i in 0..<w.count { w[i] -= shrink * (w[i] - g[i]) } }
        if let mask = movableCoordinates {
          precondition(mask.count == w.count, "the mask covers \(mask.count) coordinates; the model has \(w.count)")
          for i in 0..<w.count where !mask[i] { w[i] = g[i] }
        }
      }
    }
    if let radius {
      var offset = ParameterVector.difference(local, global)
      if ParameterVector.project(&offset, ontoBallOfRadius: radius) > radius {
        local = global
        ParameterVector.add(offset, to: &local)
      }
    }
  }
}

/// Trains a copy of `global` for `options.epochs` passes over `exampleCount` examples.
/// - `batches` gives one epoch's batches (indices into the client's examples) from the client's generator;
/// - `loss` is the mean loss of one batch (on the tape when the model is tracked).
/// The same generator state gives the same model, whatever the thread count.
public func trainLocally<Model: Parameterized & Sendable>(
  from global: Model, globalVector: [Float], options: LocalTrainingOptions, constraints: LocalConstraints = LocalConstraints(),
  generator: inout SplitMix64, batches: (inout SplitMix64) -> [[Int]], loss: (Model, [Int], inout ForwardContext) -> Tensor
) -> Model {
  var model = global
  let taskRate = options.learningRate * (constraints.taskWeight ?? 1)
  var sgd = options.optimizer == .sgd ? SGD(for: model, learningRate: taskRate) : nil
  var adam = options.optimizer == .adam ? Adam(for: model, learningRate: taskRate) : nil
  var context = ForwardContext(training: true, generator: SplitMix64(seed: generator.next()))
  for _ in 0..<options.epochs {
    for batch in batches(&generator) where !batch.isEmpty {
      var (_, gradient) = valueWithGradient(at: model) { model, _ in loss(model, batch, &context) }
      if options.gradientClipNorm > 0 { clipByGlobalNorm(&gradient, maximumNorm: options.gradientClipNorm) }
      if sgd != nil { sgd!.update(&model, along: gradient) } else { adam!.update(&model, along: gradient) }
      if !constraints.isEmpty {
        var vector = model.flattenedParameters
        constraints.apply(to: &vector, around: globalVector, learningRate: options.learningRate)
        model = model.loadingParameters(from: vector)
      }
    }
  }
  return model
}

/// Offsets of each named parameter inside the flattened vector.
public func parameterRanges<Model: Parameterized>(of model: Model) -> [(name: String, range: Range<Int>)] {
  var offset = 0
  return model.parameterPaths.map { name, path in
    let count = model[keyPath: path].scalarCount
    defer { offset += count }
    return (name, offset..<(offset + count))
  }
}
