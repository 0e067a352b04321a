import Crypto
import Experiments
import Federated
import FlowerProtos
import Foundation
import Models
import Randomness
import SwiftProtobuf
import Tensors

/// How a node joins a SuperLink and what it keeps.
public struct FlowerNodeSettings: Sendable {
  public var superlink: String
  /// This node is client `clientIndex` of the experiment's partition (and an attacker if the config says so).
  public var clientIndex: Int
  /// Seconds; the SuperLink accepts 10…1800 and counts a node as gone after twice this without a heartbeat.
  public var heartbeatInterval = 30.0
  public var pollInterval: TimeInterval = 1
  public var retry = RetryPolicy()
  /// Give up when no run has started and finished within this long.
  public var timeout: TimeInterval = 3600
  /// Where to write what the node received and sent each round (round-R.safetensors and round-R.json).
  public var recordDirectory: String?
  /// A P-384 private key to sign with, PEM or OpenSSH (created there, with the public key beside it as `.pub`, when
  /// missing): a SuperLink with node authentication knows nodes by keys registered beforehand (`flwr supernode register`).
  public var keyFile: String?
  /// A PEM file of the certificates to trust for a TLS SuperLink (nil: the system's trust store).
  public var rootCertificates: String?
  /// Seconds this node's clock is made to be off by (testing the skew handling against a real SuperLink).
  public var simulatedClockError: TimeInterval = 0

  public init(superlink: String, clientIndex: Int) {
    self.superlink = superlink
    self.clientIndex = clientIndex
  }
}

/// What a node did over a run.
public struct FlowerNodeSummary: Sendable {
  public var runID: UInt64?
  public var trainRounds: [Int] = []
  public var evaluateRounds: [Int] = []
  public var refused: [String] = []
}

/// A Flower 1.42 SuperNode written in Swift: registers with the SuperLink, keeps a heartbeat, pulls train and
/// evaluate messages, fetches and hash-checks their objects, trains client `clientIndex` of a federated
/// experiment with the lab's own trainer (honestly, or as the experiment's attacker), pushes the reply (arrays
/// and metrics with `num-examples`), and leaves only once the run has finished (leaving earlier makes the
/// SuperLink swap the last reply for an error). Local training is seeded exactly as the in-process simulator
/// seeds it, so the same config and seed give the same updates in both.
public final class FlowerClientNode: @unchecked Sendable {
  public let settings: FlowerNodeSettings
  let scenario: ClassificationScenario
  let seed: UInt64
  let skeleton: TextClassifier
  let log: @Sendable (String) -> Void
  let connection: FleetConnection
  /// The global model of the last train round, for an attacker's estimate of the benign change (Neurotoxin).
  private var previousGlobal: (round: Int, vector: [Float])?

  public init(settings: FlowerNodeSettings, scenario: ClassificationScenario, seed: UInt64, log: @escaping @Sendable (String) -> Void) throws(FlowerProtocolError) {
    guard (0..<scenario.clientCount).contains(settings.clientIndex) else {
      throw FlowerProtocolError("--client-index \(settings.clientIndex) is outside the experiment's \(scenario.clientCount) clients")
    }
    guard (10...1800).contains(settings.heartbeatInterval) else { throw FlowerProtocolError("the heartbeat interval must be within 10…1800 s") }
    self.settings = settings
    self.scenario = scenario
    self.seed = seed
    skeleton = scenario.initialModel(seed: seed)
    self.log = log
    var key = P384.Signing.PrivateKey()
    if let path = settings.keyFile { key = try NodeKey.load(orCreate: path) }
    connection = FleetConnection(superlink: settings.superlink, key: key, rootCertificates: settings.rootCertificates, retry: settings.retry, log: log)
    connection.simulatedClockError = settings.simulatedClockError
  }

  var isAttacker: Bool { scenario.attackers.contains(settings.clientIndex) }

  /// Whether the SuperLink refused RegisterNode (node authentication: keys are registered beforehand, and
  /// leaving must not unregister them).
  private let preRegistered = LockedValue(false)

  /// RegisterNode then ActivateNode: the node's id.
  func join() throws -> Flwr_Proto_Node {
    var register = Flwr_Proto_RegisterNodeFleetRequest()
    register.publicKey = connection.publicKeyPEM
    do {
      _ = try connection.call("register-node", register, as: Flwr_Proto_RegisterNodeFleetResponse.self)
    } catch {
      // With node authentication the SuperLink refuses RegisterNode: the key was registered beforehand.
      guard settings.keyFile != nil, let status = error.status, (400..<500).contains(status) else { throw error }
      log("RegisterNode refused (HTTP \(status)); activating the pre-registered key")
      preRegistered.value = true
    }
    var activate = Flwr_Proto_ActivateNodeRequest()
    activate.publicKey = connection.publicKeyPEM
    activate.heartbeatInterval = settings.heartbeatInterval
    var node = Flwr_Proto_Node()
    do {
      node.nodeID = try connection.call("activate-node", activate, as: Flwr_Proto_ActivateNodeResponse.self).nodeID
    } catch {
      guard preRegistered.value, let status = error.status, (400..<500).contains(status) else { throw error }
      throw FlowerProtocolError(
        "the SuperLink authenticates nodes and does not know this node's key (\(settings.keyFile ?? "")): register its public key first "
          + "(flwr supernode register \(settings.keyFile ?? "KEY").pub); it answered HTTP \(status): \(error.detail)")
    }
    log("node \(node.nodeID) active as client \(settings.clientIndex)\(isAttacker ? " (an attacker)" : "")")
    return node
  }

  public func run() throws -> FlowerNodeSummary {
    let current = LockedValue(try join())
    let stopped = LockedValue(false)
    let heartbeat = Thread { [self] in keepBeating(current, until: stopped) }
    heartbeat.start()
    defer {
      stopped.value = true
      let nodeID = current.value.nodeID
      var deactivate = Flwr_Proto_DeactivateNodeRequest()
      deactivate.nodeID = nodeID
      var unregister = Flwr_Proto_UnregisterNodeFleetRequest()
      unregister.nodeID = nodeID
      do {
        _ = try connection.call("deactivate-node", deactivate, as: Flwr_Proto_DeactivateNodeResponse.self)
        if !preRegistered.value {
          _ = try connection.call("unregister-node", unregister, as: Flwr_Proto_UnregisterNodeFleetResponse.self)
        }
        log("node \(nodeID) left")
      } catch {
        log("leaving: \(error)")
      }
    }

    var summary = FlowerNodeSummary()
    let deadline = Date().addingTimeInterval(settings.timeout)
    var idlePolls = 0, rejoins = 0
    while Date() < deadline {
      let node = current.value
      var pull = Flwr_Proto_PullMessagesRequest()
      pull.node = node
      guard let pulled = try pullUnlessForgotten(pull, rejoins: rejoins) else {
        // A SuperLink that restarted has forgotten this node: join again (a run it was in is gone with it).
        rejoins += 1
        log("the SuperLink no longer knows node \(node.nodeID) (restarted?); joining again")
        current.value = try join()
        summary.runID = nil
        continue
      }
      guard let message = pulled.messagesList.first, let tree = pulled.messageObjectTrees.first else {
        idlePolls += 1
        if let runID = summary.runID, idlePolls % 3 == 0, try runHasFinished(runID, node: node) {
          log("run \(runID) finished: \(summary.trainRounds.count) train and \(summary.evaluateRounds.count) evaluate rounds")
          return summary
        }
        Thread.sleep(forTimeInterval: settings.pollInterval)
        continue
      }
      idlePolls = 0
      summary.runID = message.metadata.runID
      try handle(message.metadata, tree: tree, node: node, summary: &summary)
    }
    throw FlowerProtocolError("no run finished within \(Int(settings.timeout)) s (--timeout)")
  }

  /// PullMessages; nil when the SuperLink refuses the node's signature (it restarted and forgot the node), at
  /// most three times.
  func pullUnlessForgotten(_ request: Flwr_Proto_PullMessagesRequest, rejoins: Int) throws -> Flwr_Proto_PullMessagesResponse? {
    do {
      return try connection.call("pull-messages", request, as: Flwr_Proto_PullMessagesResponse.self)
    } catch {
      if error.status == 401 && rejoins < 3 { return nil }
      throw error
    }
  }

  /// Sends a heartbeat every third of the interval until `stopped`.
  func keepBeating(_ node: LockedValue<Flwr_Proto_Node>, until stopped: LockedValue<Bool>) {
    var request = Flwr_Proto_SendNodeHeartbeatRequest()
    request.heartbeatInterval = settings.heartbeatInterval
    var next = Date().addingTimeInterval(settings.heartbeatInterval / 3)
    while !stopped.value {
      Thread.sleep(forTimeInterval: 0.2)
      guard Date() >= next, !stopped.value else { continue }
      next = Date().addingTimeInterval(settings.heartbeatInterval / 3)
      request.node = node.value
      do { _ = try connection.call("send-node-heartbeat", request, as: Flwr_Proto_SendNodeHeartbeatResponse.self) } catch { log("heartbeat: \(error)") }
    }
  }

  func runHasFinished(_ runID: UInt64, node: Flwr_Proto_Node) throws -> Bool {
    var request = Flwr_Proto_GetRunRequest()
    request.node = node
    request.runID = runID
    do {
      return try connection.call("get-run", request, as: Flwr_Proto_GetRunResponse.self).run.status.status == "finished"
    } catch {
      if error.status == 403 { return true }  // the SuperLink refuses run calls once the run is over
      throw error
    }
  }

  /// Pulls, checks and decodes one message, does its work and pushes the reply (or an error reply).
  func handle(_ metadata: Flwr_Proto_Metadata, tree: Flwr_Proto_ObjectTree, node: Flwr_Proto_Node, summary: inout FlowerNodeSummary) throws {
    let objects = try pullObjects(tree, runID: metadata.runID, node: node)
    var confirm = Flwr_Proto_ConfirmMessageReceivedRequest()
    confirm.node = node
    confirm.runID = metadata.runID
    confirm.messageObjectID = metadata.messageID
    _ = try connection.call("confirm-message-received", confirm, as: Flwr_Proto_ConfirmMessageReceivedResponse.self)

    let started = Date()
    var encoder = FlowerObjectEncoder()
    var content: Flwr_Proto_ObjectTree?
    var failure: String?
    do {
      let decoded = try FlowerObjectDecoder.message(metadata.messageID, objects: objects)
      let round = Self.serverRound(decoded.records)
      if metadata.messageType.hasPrefix("train") {
        content = try encoder.recordDict(try train(decoded.records, round: round))
        summary.trainRounds.append(round)
      } else if metadata.messageType.hasPrefix("evaluate") {
        content = try encoder.recordDict(try evaluate(decoded.records, round: round))
        summary.evaluateRounds.append(round)
      } else {
        failure = "message type '\(metadata.messageType)' is not supported by this client (train and evaluate are)"
      }
    } catch let error as FlowerProtocolError {
      failure = error.description
    }
    if let failure {
      log("refusing message \(metadata.messageID.prefix(12))… (\(metadata.messageType)): \(failure)")
      summary.refused.append(failure)
    }
    try push(reply: metadata, content: content, failure: failure, encoder: &encoder, node: node, seconds: Date().timeIntervalSince(started))
  }

  func pullObjects(_ tree: Flwr_Proto_ObjectTree, runID: UInt64, node: Flwr_Proto_Node) throws -> [String: FlowerObject] {
    let order = Self.postOrder(tree)
    var objects: [String: FlowerObject] = [:]
    for id in order {
      var request = Flwr_Proto_PullObjectRequest()
      request.node = node
      request.runID = runID
      request.objectID = id
      var attempts = 0
      while true {
        attempts += 1
        let answer = try connection.call("pull-object", request, as: Flwr_Proto_PullObjectResponse.self)
        guard answer.objectFound else { throw FlowerProtocolError("object \(id.prefix(16))… is unknown to the SuperLink") }
        guard answer.objectAvailable else {
          guard attempts < 300 else { throw FlowerProtocolError("object \(id.prefix(16))… did not become available in 30 s") }
          Thread.sleep(forTimeInterval: 0.1)
          continue
        }
        do {
          objects[id] = try FlowerObject(parsing: answer.objectContent, expectedID: id)
          break
        } catch {
          // A piece that does not hash to its name is pulled again, then refused.
          guard attempts < 3 else { throw error }
          log("warning: \(error.description); pulling it again")
        }
      }
    }
    return objects
  }

  /// Object ids children first, each once (the order to pull and to push them).
  static func postOrder(_ tree: Flwr_Proto_ObjectTree) -> [String] {
    var order: [String] = []
    var stack: [(tree: Flwr_Proto_ObjectTree, expanded: Bool)] = [(tree, false)]
    while let (node, expanded) = stack.popLast() {
      if expanded {
        if !order.contains(node.objectID) { order.append(node.objectID) }
      } else {
        stack.append((node, true))
        for child in node.children.reversed() { stack.append((child, false)) }
      }
    }
    return order
  }

  static func serverRound(_ records: [(name: String, record: FlowerRecord)]) -> Int {
    for (_, record) in records {
      guard case .config(let config) = record else { continue }
      for item in config.items where item.key == "server-round" {
        switch item.value.value {
        case .sint64(let value)?: return Int(value)
        case .uint64(let value)?: return Int(value)
        case .double(let value)?: return Int(value)
        default: break
        }
      }
    }
    return 0
  }

  /// The global model from a message's ArrayRecord: every parameter by its PyTorch name, shapes checked.
  func globalModel(_ records: [(name: String, record: FlowerRecord)]) throws(FlowerProtocolError) -> TextClassifier {
    let arrays = records.compactMap { record -> [NamedArray]? in if case .arrays(let arrays) = record.record { arrays } else { nil } }
    guard arrays.count == 1, let received = arrays.first else {
      throw FlowerProtocolError("the message holds \(arrays.count) ArrayRecords; exactly one (the global model) is expected")
    }
    var byName = Dictionary(received.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    var model = skeleton
    for (name, path) in skeleton.parameterPaths {
      let expected = skeleton[keyPath: path].shape
      guard let array = byName.removeValue(forKey: name) else { throw FlowerProtocolError("array '\(name)' (shape \(expected)) is missing from the global model") }
      guard array.shape == expected else {
        throw FlowerProtocolError("array '\(name)' has shape \(array.shape); this client's model has \(expected) (same config and corpus on server and clients?)")
      }
      guard array.values.allSatisfy(\.isFinite) else { throw FlowerProtocolError("array '\(name)' holds NaN or infinite values") }
      model[keyPath: path] = Tensor(shape: expected, scalars: array.values)
    }
    if let extra = byName.keys.sorted().first { throw FlowerProtocolError("array '\(extra)' is not a parameter of this client's model") }
    return model
  }

  func namedArrays(_ model: TextClassifier) -> [NamedArray] {
    model.parameterPaths.map { name, path in
      let tensor = model[keyPath: path].densified()
      return NamedArray(name: name, shape: tensor.shape, values: tensor.scalars)
    }
  }

  func train(_ records: [(name: String, record: FlowerRecord)], round: Int) throws -> [(name: String, record: FlowerRecord)] {
    let global = try globalModel(records)
    let globalVector = global.flattenedParameters
    var previousChange: [Float]?
    if let previousGlobal, previousGlobal.round == round - 1 { previousChange = ParameterVector.difference(globalVector, previousGlobal.vector) }
    previousGlobal = (round, globalVector)
    let context = RoundContext(round: round, globalVector: globalVector, previousGlobalChange: previousChange)
    let client = settings.clientIndex
    // The simulator's generator for (seed, round, client): the same update here as in `simulate`.
    var generator = SplitMix64(seed: seed, stream: [0x434C_4E54, UInt64(round), UInt64(client)])  // "CLNT"
    let attacking = scenario.isAttacking(client: client, round: round)
    var update = scenario.update(client: client, global: global, context: context, generator: &generator)
    update = scenario.finalize([update], attacking: attacking ? [client] : [], context: context)[0]
    var weights = globalVector
    ParameterVector.add(update.delta, to: &weights)
    guard ParameterVector.isFinite(weights) else { throw FlowerProtocolError("local training diverged (NaN or infinite weights); no update sent") }
    let trained = global.loadingParameters(from: weights)
    if let directory = settings.recordDirectory {
      try record(round: round, global: global, reply: trained, examples: update.exampleCount, attacking: attacking, in: directory)
    }
    log("round \(round): trained on \(update.exampleCount) examples\(attacking ? " as the attacker" : ""), update norm \(String(format: "%.3f", ParameterVector.norm(update.delta)))")
    var metrics = Flwr_Proto_MetricRecord()
    metrics.items = [Self.metric("num-examples", integer: update.exampleCount), Self.metric("malicious", integer: attacking ? 1 : 0)]
    return [("arrays", .arrays(namedArrays(trained))), ("metrics", .metrics(metrics))]
  }

  func evaluate(_ records: [(name: String, record: FlowerRecord)], round: Int) throws -> [(name: String, record: FlowerRecord)] {
    let global = try globalModel(records)
    let scores = scenario.evaluate(global, round: round)
    var metrics = Flwr_Proto_MetricRecord()
    metrics.items = [Self.metric("num-examples", integer: scenario.testCount)]
    for (key, value) in scores.sorted(by: { $0.key < $1.key }) {
      var item = Flwr_Proto_MetricRecord.Item()
      item.key = key
      item.value.double = value
      metrics.items.append(item)
    }
    log("round \(round): evaluated the global model: " + scores.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: ", "))
    return [("metrics", .metrics(metrics))]
  }

  static func metric(_ key: String, integer: Int) -> Flwr_Proto_MetricRecord.Item {
    var item = Flwr_Proto_MetricRecord.Item()
    item.key = key
    item.value.sint64 = Int64(integer)
    return item
  }

  /// round-R.safetensors: the global model received (`global/<name>`) and the weights sent back (`reply/<name>`).
  func record(round: Int, global: TextClassifier, reply: TextClassifier, examples: Int, attacking: Bool, in directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let tensors = global.parameterPaths.map { ("global/" + $0.name, global[keyPath: $0.path].densified()) }
      + reply.parameterPaths.map { ("reply/" + $0.name, reply[keyPath: $0.path].densified()) }
    try Safetensors.write(tensors.map { (name: $0.0, tensor: $0.1) }, to: "\(directory)/round-\(round).safetensors")
    let info = "{\"round\": \(round), \"client\": \(settings.clientIndex), \"num_examples\": \(examples), \"malicious\": \(attacking)}\n"
    try Data(info.utf8).write(to: URL(fileURLWithPath: "\(directory)/round-\(round).json"), options: .atomic)
  }

  func push(
    reply instruction: Flwr_Proto_Metadata, content: Flwr_Proto_ObjectTree?, failure: String?, encoder: inout FlowerObjectEncoder,
    node: Flwr_Proto_Node, seconds: Double
  ) throws {
    let now = Date().timeIntervalSince1970
    var metadata = Flwr_Proto_Metadata()
    metadata.runID = instruction.runID
    metadata.srcNodeID = node.nodeID
    metadata.dstNodeID = 1  // the SuperLink
    metadata.replyToMessageID = instruction.messageID
    metadata.groupID = instruction.groupID
    metadata.messageType = instruction.messageType
    metadata.createdAt = now
    metadata.ttl = instruction.createdAt + instruction.ttl - now
    if instruction.hasDstTaskID { metadata.srcTaskID = instruction.dstTaskID }
    if instruction.hasSrcTaskID { metadata.dstTaskID = instruction.srcTaskID }
    var error: Flwr_Proto_Error?
    if let failure {
      var refusal = Flwr_Proto_Error()
      refusal.code = 0
      refusal.reason = "backdoor-lab client: " + failure
      error = refusal
    }
    let tree = try encoder.message(metadata: metadata, content: failure == nil ? content : nil, error: error)
    metadata.messageID = tree.objectID
    var message = Flwr_Proto_Message()
    message.metadata = metadata
    if let error { message.error = error } else { message.content = Flwr_Proto_RecordDict() }  // the payload travels as objects
    var request = Flwr_Proto_PushMessagesRequest()
    request.node = node
    request.messagesList = [message]
    request.messageObjectTrees = [tree]
    request.clientappRuntimeList = [seconds]
    let answer = try connection.call("push-messages", request, as: Flwr_Proto_PushMessagesResponse.self)
    var wanted = Set(answer.objectsToPush)
    if wanted.isEmpty, answer.results.values.contains(where: { $0 != 0 }) {
      throw FlowerProtocolError("the SuperLink did not accept the reply (results \(answer.results)); expired TTL or a run that ended?")
    }
    for id in Self.postOrder(tree) where wanted.contains(id) {
      wanted.remove(id)
      var push = Flwr_Proto_PushObjectRequest()
      push.node = node
      push.runID = instruction.runID
      push.objectID = id
      push.objectContent = encoder.objects[id]!
      push.sessionID = answer.sessionID
      guard try connection.call("push-object", push, as: Flwr_Proto_PushObjectResponse.self).stored else {
        throw FlowerProtocolError("the SuperLink did not store object \(id.prefix(16))… of the reply")
      }
    }
  }
}
