import Foundation

/// Updates parameters along a gradient of the same structure: `optimizer.update(&model, along: gradient)`.
/// Per-parameter state is kept by parameter index, so one optimizer serves one model structure.
public protocol Optimizer {
  associatedtype Model: Parameterized
  var learningRate: Float { get set }
  mutating func update(_ model: inout Model, along gradient: Model)
}

extension Parameterized {
  /// Runs `body` on the parameter at `path` in place (no copy of its scalars: the model's reference is
  /// swapped out first, so the array is uniquely referenced while `body` runs).
  mutating func modifyParameter(_ path: WritableKeyPath<Self, Tensor>, _ body: (inout Tensor) -> Void) {
    var parameter = self[keyPath: path]
    self[keyPath: path] = Tensor(shape: [0], scalars: [])
    body(&parameter)
    self[keyPath: path] = parameter
  }
}

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as
/// PyTorch's `torch.optim.SGD`. Without momentum and weight decay a row-sparse gradient updates only
/// its rows; otherwise every row is updated (momentum decays everywhere), exactly as the dense update.
public struct SGD<Model: Parameterized>: Optimizer {
  public var learningRate: Float
  public var momentum: Float
  public var nesterov: Bool
  public var weightDecay: Float
  var velocities: [[Float]?] = []

  public init(for model: Model, learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
    precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
    self.learningRate = learningRate
    self.momentum = momentum
    self.nesterov = nesterov
    self.weightDecay = weightDecay
    velocities = Array(repeating: nil, count: model.parameterPaths.count)
  }

  public mutating func update(_ model: inout Model, along gradient: Model) {
    for (index, (_, path)) in model.parameterPaths.enumerated() {
      let g = gradient[keyPath: path]
      if g.isSparse && momentum == 0 && weightDecay == 0 {
        let rate = learningRate
        model.modifyParameter(path) { parameter in
          parameter = g.scaled(by: -rate).addingRows(into: parameter)
        }
        continue
      }
      let dense = g.densified().scalars
      var velocity = velocities[index] ?? []
      let firstStep = velocity.isEmpty
      if momentum != 0 && firstStep { velocity = [Float](repeating: 0, count: dense.count) }
      let (rate, mu, decay, nesterov) = (learningRate, momentum, weightDecay, nesterov)
      model.modifyParameter(path) { parameter in
        parameter.scalars.withUnsafeMutableBufferPointer { p in
          velocity.withUnsafeMutableBufferPointer { v in
            for i in 0..<p.count {
              var step = dense[i] + decay * p[i]
              if mu != 0 {
                v[i] = firstStep ? step : mu * v[i] + step
                step = nesterov ? step + mu * v[i] : v[i]
              }
              p[i] -= rate * step
            }
          }
        }
      }
      if momentum != 0 { velocities[index] = velocity }
    }
  }
}

/// Adam (Kingma & Ba 2015) with PyTorch's bias correction and L2 `weightDecay` added to the gradient;
/// `decoupledWeightDecay` makes it AdamW (Loshchilov & Hutter 2019), as `torch.optim.AdamW`.
///
/// Exact on row-sparse gradients: every row's moments decay and every row moves, as PyTorch's dense
/// Adam does with dense embedding gradients — without building the dense gradient.
public struct Adam<Model: Parameterized>: Optimizer {
  public var learningRate: Float
  public var beta1: Float, beta2: Float, epsilon: Float
  public var weightDecay: Float
  public var decoupledWeightDecay: Bool
  public private(set) var step = 0
  var firstMoments: [[Float]] = []
  var secondMoments: [[Float]] = []

  public init(for model: Model, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
              weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.decoupledWeightDecay = decoupledWeightDecay
    firstMoments = model.parameterPaths.map { [Float](repeating: 0, count: model[keyPath: $0.path].scalarCount) }
    secondMoments = firstMoments
  }

  /// AdamW with PyTorch's default decay of 0.01.
  public static func adamW(for model: Model, learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
    Adam(for: model, learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
  }

  public mutating func update(_ model: inout Model, along gradient: Model) {
    step += 1
    let (b1, b2, eps, rate, decay, decoupled) = (beta1, beta2, epsilon, learningRate, weightDecay, decoupledWeightDecay)
    let correction1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
    let correction2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
    let stepSize = rate / correction1
    let inverseRootCorrection2 = 1 / correction2.squareRoot()
    for (index, (_, path)) in model.parameterPaths.enumerated() {
      let g = gradient[keyPath: path]
      model.modifyParameter(path) { parameter in
        precondition(g.shape == parameter.shape, "gradient shape \(g.shape) differs from parameter \(parameter.shape)")
        firstMoments[index].withUnsafeMutableBufferPointer { m in
          secondMoments[index].withUnsafeMutableBufferPointer { v in
            parameter.scalars.withUnsafeMutableBufferPointer { p in
              let shrink: Float = decoupled ? 1 - rate * decay : 1
              if let rows = g.isSparse ? g.coalesced() : nil, decay == 0 || decoupled {
                // Zero gradient everywhere but the listed rows: those rows take the full update, the others only
                // decay their moments before the step; one pass either way.
                let width = parameter.shape.dropFirst().reduce(1, *), rowCount = width == 0 ? 0 : p.count / width
                var rowPositions = [Int](repeating: -1, count: rowCount)
                for (position, row) in rows.sparseRows!.enumerated() { rowPositions[row] = position }
                let positions = rowPositions
                rows.scalars.withUnsafeBufferPointer { values in
                  let addresses = [p.baseAddress, m.baseAddress, v.baseAddress].map { Int(bitPattern: $0) }
                  let valuesAddress = Int(bitPattern: values.baseAddress)
                  forEachChunk(of: rowCount, parts: chunkCount(of: rowCount, scalars: p.count)) { _, range in
                    let (p, m, v) = (UnsafeMutablePointer<Float>(bitPattern: addresses[0])!, UnsafeMutablePointer<Float>(bitPattern: addresses[1])!,
                                     UnsafeMutablePointer<Float>(bitPattern: addresses[2])!)
                    for row in range {
                      let offset = row * width
                      let gradient = positions[row] < 0 ? nil : UnsafePointer<Float>(bitPattern: valuesAddress)! + positions[row] * width
                      adamPass(p + offset, m + offset, v + offset, gradient: gradient, count: width, l2Decay: nil, beta1: b1, beta2: b2,
                               shrink: shrink, stepSize: stepSize, inverseRootCorrection2: inverseRootCorrection2, epsilon: eps)
                    }
                  }
                }
              } else {
                let dense = g.densified().scalars
                dense.withUnsafeBufferPointer { gradient in
                  inAlignedChunks([p, m, v, UnsafeMutableBufferPointer(mutating: gradient)]) { slices in
                    adamPass(slices[0].baseAddress!, slices[1].baseAddress!, slices[2].baseAddress!, gradient: UnsafePointer(slices[3].baseAddress!),
                             count: slices[0].count, l2Decay: decoupled ? 0 : decay, beta1: b1, beta2: b2, shrink: shrink, stepSize: stepSize,
                             inverseRootCorrection2: inverseRootCorrection2, epsilon: eps)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// Lazy Adam (TensorFlow Addons' `LazyAdam`, PyTorch's `SparseAdam`): on a row-sparse gradient only the
/// listed rows' moments and values change. A different optimizer from Adam — untouched rows keep their
/// momentum instead of moving — and much cheaper on large embedding tables. Dense gradients get Adam.
public struct LazyAdam<Model: Parameterized>: Optimizer {
  public var learningRate: Float
  public var beta1: Float, beta2: Float, epsilon: Float
  public private(set) var step = 0
  var firstMoments: [[Float]] = []
  var secondMoments: [[Float]] = []

  public init(for model: Model, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    firstMoments = model.parameterPaths.map { [Float](repeating: 0, count: model[keyPath: $0.path].scalarCount) }
    secondMoments = firstMoments
  }

  public mutating func update(_ model: inout Model, along gradient: Model) {
    step += 1
    let (b1, b2, eps) = (beta1, beta2, epsilon)
    let stepSize = learningRate / (1 - Float(Foundation.pow(Double(b1), Double(step))))
    let inverseRootCorrection2 = 1 / (1 - Float(Foundation.pow(Double(b2), Double(step)))).squareRoot()
    for (index, (_, path)) in model.parameterPaths.enumerated() {
      let g = gradient[keyPath: path]
      let width = g.shape.dropFirst().reduce(1, *)
      let (rows, values): ([Int], [Float])
      if g.isSparse {
        let coalesced = g.coalesced()
        (rows, values) = (coalesced.sparseRows!, coalesced.scalars)
      } else {
        (rows, values) = (g.rank == 0 ? [0] : Array(0..<g.shape[0]), g.scalars)
      }
      let rowWidth = g.rank == 0 ? 1 : width
      model.modifyParameter(path) { parameter in
        firstMoments[index].withUnsafeMutableBufferPointer { m in
          secondMoments[index].withUnsafeMutableBufferPointer { v in
            parameter.scalars.withUnsafeMutableBufferPointer { p in
              for (position, row) in rows.enumerated() {
                for j in 0..<rowWidth {
                  let value = values[position * rowWidth + j], i = row * rowWidth + j
                  m[i] = b1 * m[i] + (1 - b1) * value
                  v[i] = b2 * v[i] + (1 - b2) * value * value
                  p[i] -= stepSize * m[i] / (v[i].squareRoot() * inverseRootCorrection2 + eps)
                }
              }
            }
          }
        }
      }
    }
  }
}

/// Scales `gradient` so its global L2 norm (over every parameter) is at most `maximumNorm`, as
/// `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping.
@discardableResult
public func clipByGlobalNorm<Model: Parameterized>(_ gradient: inout Model, maximumNorm: Float) -> Float {
  precondition(maximumNorm > 0, "maximum norm must be positive")
  var total: Double = 0
  for (_, path) in gradient.parameterPaths { total += Double(gradient[keyPath: path].squaredNorm) }
  let norm = Float(total.squareRoot())
  let factor = maximumNorm / (norm + 1e-6)
  if factor < 1 {
    for (_, path) in gradient.parameterPaths { gradient.modifyParameter(path) { $0 = $0.scaled(by: factor) } }
  }
  return norm
}

/// Learning rate as a function of the (0-based) optimizer step.
public enum LearningRateSchedule: Sendable, Equatable, Codable {
  case constant(Float)
  /// Linear warm-up from 0 to `peak` over `warmupSteps`, then linear decay to 0 at `totalSteps`.
  case linear(peak: Float, warmupSteps: Int, totalSteps: Int)
  /// Linear warm-up, then half a cosine from `peak` down to `minimum` at `totalSteps` (SGDR without restarts).
  case cosine(peak: Float, warmupSteps: Int, totalSteps: Int, minimum: Float)

  public func learningRate(atStep step: Int) -> Float {
    switch self {
    case .constant(let rate):
      return rate
    case .linear(let peak, let warmup, let total):
      if step < warmup { return peak * Float(step + 1) / Float(warmup) }
      let remaining = Float(Swift.max(total - step, 0)) / Float(Swift.max(total - warmup, 1))
      return peak * remaining
    case .cosine(let peak, let warmup, let total, let minimum):
      if step < warmup { return peak * Float(step + 1) / Float(warmup) }
      let progress = Swift.min(1, Float(step - warmup) / Float(Swift.max(total - warmup, 1)))
      return minimum + (peak - minimum) * 0.5 * (1 + Foundation.cos(Float.pi * progress))
    }
  }
}

// Adam's elementwise loops over millions of scalars, written with SIMD8 explicitly: the compiler cannot
// vectorise them itself because the moment, parameter and gradient buffers might alias.

private typealias Lanes = SIMD8<Float>

@inline(__always) private func load(_ x: UnsafePointer<Float>, _ i: Int) -> Lanes { UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) }

@inline(__always) private func store(_ value: Lanes, _ x: UnsafeMutablePointer<Float>, _ i: Int) {
  UnsafeMutableRawPointer(x + i).storeBytes(of: value, as: Lanes.self)
}

/// Runs `body` on slices of equally long buffers, one slice per compute thread for large buffers. Slice boundaries are
/// multiples of 8, so every scalar takes the same path (SIMD body or scalar tail) as in one pass over the whole
/// buffer: the same bits on any number of threads.
private func inAlignedChunks(
  _ buffers: [UnsafeMutableBufferPointer<Float>], _ body: @Sendable ([UnsafeMutableBufferPointer<Float>]) -> Void
) {
  let count = buffers[0].count
  let groups = (count + 7) / 8
  let addresses = buffers.map { Int(bitPattern: $0.baseAddress) }
  forEachChunk(of: groups, parts: chunkCount(of: groups, scalars: count)) { _, range in
    let start = range.lowerBound * 8, end = Swift.min(count, range.upperBound * 8)
    body(addresses.map { UnsafeMutableBufferPointer(start: UnsafeMutablePointer<Float>(bitPattern: $0)! + start, count: end - start) })
  }
}

/// One Adam step over `count` scalars, in one pass: m = β₁m + (1 − β₁)g′, v = β₂v + (1 − β₂)g′² with g′ = g + λθ
/// (λ: L2 decay; nil, or 0 for AdamW, leaves g′ = g), then θ = θ·shrink − stepSize · m / (√v · 1/√(1 − β₂ᵗ) + ε).
/// A nil `gradient` is a zero one (a row a sparse gradient does not list): the moments only decay.
@inline(__always)
private func adamPass(
  _ p: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>?,
  count: Int, l2Decay: Float?, beta1: Float, beta2: Float, shrink: Float, stepSize: Float, inverseRootCorrection2: Float, epsilon: Float
) {
  var i = 0
  while i + 8 <= count {
    var (first, second) = (load(m, i), load(v, i))
    if let g {
      let value = l2Decay.map { load(g, i) + $0 * load(p, i) } ?? load(g, i)
      first = beta1 * first + (1 - beta1) * value
      second = beta2 * second + (1 - beta2) * value * value
    } else {
      first = beta1 * first
      second = beta2 * second
    }
    store(first, m, i)
    store(second, v, i)
    store(load(p, i) * shrink - stepSize * first / (second.squareRoot() * inverseRootCorrection2 + epsilon), p, i)
    i += 8
  }
  while i < count {
    if let g {
      let value = l2Decay.map { g[i] + $0 * p[i] } ?? g[i]
      m[i] = beta1 * m[i] + (1 - beta1) * value
      v[i] = beta2 * v[i] + (1 - beta2) * value * value
    } else {
      m[i] = beta1 * m[i]
      v[i] = beta2 * v[i]
    }
    p[i] = p[i] * shrink - stepSize * m[i] / (v[i].squareRoot() * inverseRootCorrection2 + epsilon)
    i += 1
  }
}
