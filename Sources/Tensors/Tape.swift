/// Records, for one differentiation, every op's pullback beside its forward result.
///
/// A tape belongs to one task (it is not thread-safe); parallel work gives each task its own, which is
/// what `valueWithGradient` does. Nodes are immutable once recorded; `gradients(of:)` walks them in
/// reverse and returns gradients without writing into any tensor.
public final class Tape: @unchecked Sendable {
  struct Node {
    /// Tape indices of the inputs that need gradients (`nil` for constants).
    let inputs: [Int?]
    /// Gradient of the output ↦ gradients of the inputs, aligned with `inputs`.
    let pullback: (Tensor) -> [Tensor?]
  }

  private(set) var nodes: [Node] = []

  public init() {}

  public var nodeCount: Int { nodes.count }

  /// A leaf: a value gradients are taken with respect to.
  public func variable(_ value: Tensor) -> Tensor {
    var tracked = value.detached
    tracked.tracking = Tracking(tape: self, index: append(Node(inputs: [], pullback: { _ in [] })))
    return tracked
  }

  func append(_ node: Node) -> Int {
    nodes.append(node)
    return nodes.count - 1
  }

  /// Gradients of `output` (which must hold one scalar, or be seeded) with respect to every node,
  /// indexed by tape index; nil where no gradient flowed. Frees the recorded pullbacks afterwards.
  func gradients(of output: Tensor, seed: Tensor? = nil) -> [Tensor?] {
    guard let start = output.tracking?.index else { return Array(repeating: nil, count: nodes.count) }
    precondition(output.tracking?.tape === self, "the output was recorded on another tape")
    let seed = seed ?? Tensor.ones(output.shape)
    precondition(seed.shape == output.shape, "seed shape \(seed.shape) differs from the output's \(output.shape)")
    var gradients = [Tensor?](repeating: nil, count: nodes.count)
    gradients[start] = seed
    for index in stride(from: start, through: 0, by: -1) {
      guard let gradient = gradients[index] else { continue }
      let node = nodes[index]
      guard !node.inputs.isEmpty else { continue }
      let inputGradients = node.pullback(gradient)
      // Intermediate gradients are not needed after their pullback ran; leaves keep theirs.
      gradients[index] = nil
      for (input, inputGradient) in zip(node.inputs, inputGradients) {
        guard let input, let inputGradient else { continue }
        if let existing = gradients[input] {
          gradients[input] = existing.accumulating(inputGradient)
        } else {
          gradients[input] = inputGradient
        }
      }
    }
    nodes.removeAll()  // the pullbacks capture values; free them and any tape references they hold
    return gradients
  }
}

/// Where a tracked value lives on its tape.
struct Tracking: @unchecked Sendable {
  let tape: Tape
  let index: Int
}

extension Tensor {
  /// Records `self` as the result of an op on `inputs`, when any input is tracked. `pullback` maps the
  /// gradient of the result to the gradients of the inputs (nil for inputs that need none).
  func recorded(from inputs: [Tensor], pullback: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    var tape: Tape?
    for input in inputs {
      guard let tracking = input.tracking else { continue }
      if let tape { precondition(tape === tracking.tape, "an op mixes values from two tapes") }
      tape = tracking.tape
    }
    guard let tape else { return self }
    var result = self
    result.tracking = Tracking(tape: tape, index: tape.append(Tape.Node(inputs: inputs.map { $0.tracking?.index }, pullback: pullback)))
    return result
  }

  /// Whether this value is being differentiated.
  public var isTracked: Bool { tracking != nil }
}

// MARK: - Parameters and valueWithGradient

/// A value made of trainable tensors (a layer, a model, an optimizer's view of one). Each parameter has
/// a name (PyTorch's state_dict name in models) and a key path; the order is fixed.
public protocol Parameterized {
  var parameterPaths: [(name: String, path: WritableKeyPath<Self, Tensor>)] { get }
}

extension Tensor: Parameterized {
  public var parameterPaths: [(name: String, path: WritableKeyPath<Tensor, Tensor>)] { [("", \.self)] }
}

extension Parameterized {
  /// Calls `body` with each parameter's name and value, in order.
  public func forEachParameter(_ body: (String, Tensor) throws -> Void) rethrows {
    for (name, path) in parameterPaths { try body(name, self[keyPath: path]) }
  }

  /// Total number of trainable scalars.
  public var parameterCount: Int { parameterPaths.reduce(0) { $0 + self[keyPath: $1.path].scalarCount } }

  /// A value of the same structure with every parameter zero (dense).
  public var zerosLikeParameters: Self {
    var result = self
    for (_, path) in parameterPaths { result[keyPath: path] = .zeros(self[keyPath: path].shape) }
    return result
  }
}

/// The value of `body` at `parameters` and its gradient with respect to every parameter, returned with
/// the parameters' own structure. `body` receives the parameters connected to a fresh tape and the
/// tape itself; it must return a tensor holding one scalar (a loss).
///
/// A parameter the loss does not depend on gets an empty row-sparse gradient if it has rank ≥ 1 (no
/// memory is spent on it), else a dense zero. Embedding lookups give row-sparse gradients.
public func valueWithGradient<P: Parameterized>(
  at parameters: P, in body: (P, Tape) throws -> Tensor
) rethrows -> (value: Tensor, gradient: P) {
  let tape = Tape()
  var tracked = parameters
  let paths = parameters.parameterPaths
  var leaves: [Int] = []
  for (_, path) in paths {
    let variable = tape.variable(parameters[keyPath: path])
    leaves.append(variable.tracking!.index)
    tracked[keyPath: path] = variable
  }
  let value = try body(tracked, tape)
  precondition(value.scalarCount == 1, "valueWithGradient needs a scalar result; got shape \(value.shape)")
  let gradients = tape.gradients(of: value)
  var gradient = parameters
  for ((_, path), leaf) in zip(paths, leaves) {
    let shape = parameters[keyPath: path].shape
    gradient[keyPath: path] = gradients[leaf]?.detached ?? (shape.isEmpty ? .zeros(shape) : Tensor(shape: shape, sparseRows: [], scalars: []))
  }
  return (value.detached, gradient)
}

/// Gradient only.
public func gradient<P: Parameterized>(at parameters: P, in body: (P, Tape) throws -> Tensor) rethrows -> P {
  try valueWithGradient(at: parameters, in: body).gradient
}

// MARK: - Parameter vectors

extension Parameterized {
  /// Every parameter's scalars, in `parameterPaths` order, as one vector (what federation averages).
  public var flattenedParameters: [Float] {
    var vector: [Float] = []
    vector.reserveCapacity(parameterCount)
    for (_, path) in parameterPaths { vector.append(contentsOf: self[keyPath: path].densified().scalars) }
    return vector
  }

  /// A copy whose parameters are taken, in order, from `vector` (as `flattenedParameters` wrote it).
  public func loadingParameters(from vector: [Float]) -> Self {
    precondition(vector.count == parameterCount, "parameter vector has \(vector.count) scalars; the model has \(parameterCount)")
    var result = self
    var offset = 0
    for (_, path) in parameterPaths {
      let shape = self[keyPath: path].shape
      let count = shape.reduce(1, *)
      result[keyPath: path] = Tensor(shape: shape, scalars: Array(vector[offset..<(offset + count)]))
      offset += count
    }
    return result
  }
}

/// The parameters of a nested value, named `prefix.childName` and reached through `path`: how a model
/// composes its layers' names into PyTorch state_dict names ("gru.weight_ih_l0").
public func nestedParameterPaths<Root, Child: Parameterized>(
  _ prefix: String, _ path: WritableKeyPath<Root, Child>, in child: Child
) -> [(name: String, path: WritableKeyPath<Root, Tensor>)] {
  child.parameterPaths.map { (name: $0.name.isEmpty ? prefix : prefix + "." + $0.name, path: path.appending(path: $0.path)) }
}
