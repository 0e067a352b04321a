import ArgumentParser
import Experiments
import FlowerClient
import Foundation
import Models
import Tensors

struct FlowerClientCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flower-client",
    abstract: "Join a Flower 1.42 SuperLink as one client of a federated experiment: train with the lab, honestly or as its attacker.",
    discussion: prose("""
      A native client of Flower's Fleet API (protobuf over HTTP or HTTPS, port 8000): a P-384 node key signs every request; it
      registers, keeps a heartbeat, pulls train and evaluate messages, checks every object's SHA-256, trains client
      --client-index of the experiment (the same config file or preset as `simulate`, so the same partition,
      vocabulary and attackers), pushes the new weights with num-examples, answers evaluate messages with main-task
      accuracy and attack success, and leaves once the run has finished. The client is malicious when the config's
      attack names it (attack.attacker_ids, or the attackers the seed draws). Local training is seeded by (seed,
      round, client) as in `simulate`, so FedAvg on Flower and in the simulator give the same model.
      The server side is flower/ (a ServerApp pinned to flwr==1.42.0); `flower-init` writes the initial model it sends.
      A SuperLink that is down or restarting is retried with backoff (--retry-window); a corrupted object, arrays of
      the wrong shape or an unknown message type are refused with an error reply, never trained on.
      TLS: give the SuperLink's CA with --root-certificates (or an https:// address and the system's trust store); a
      certificate that is not trusted stops the client at once. Node authentication (flower-superlink
      --enable-supernode-auth): register the public key of --node-key beforehand; an unregistered key is refused.
      Examples:
        backdoor-lab flower-client --preset sentiment-naive-poisoning --client-index 3 --superlink 10.0.0.5:8000
        backdoor-lab flower-client experiment.yaml --client-index 0 --set attack.attacker_ids=[0] --record runs/c0
        backdoor-lab flower-client experiment.yaml --client-index 1 --superlink link.example.org:8000 --root-certificates ca.crt --node-key node-1.key
      """))

  @OptionGroup var source: ExperimentSource
  @Option(help: "Which client of the experiment this node is (0-based).")
  var clientIndex: Int
  @Option(help: "The SuperLink's Fleet API address (HOST:PORT, or an http(s) URL; HOST:PORT is https with --root-certificates).")
  var superlink = "127.0.0.1:8000"
  @Option(help: "PEM file of the certificates to trust for a TLS SuperLink (its CA); without it an https address uses the system's trust store.")
  var rootCertificates: String?
  @Option(help: "The experiment seed (default: the config's first).")
  var seed: UInt64?
  @Option(help: "Shortcut for --set task.corpus=NAME.")
  var corpus: String?
  @Option(help: "Shortcut for --set federation.partition=iid|dirichlet|natural.")
  var partition: String?
  @Option(help: "Shortcut for --set federation.clients=N.")
  var clients: Int?
  @Option(help: "Shortcut for --set attack.behaviour=NAME (naive, model_replacement, pgd, neurotoxin, …).")
  var attack: String?
  @Option(help: "Write what this node received and sent each round (round-R.safetensors, round-R.json) to this folder.")
  var record: String?
  @Option(help: "Seconds to keep retrying a SuperLink that does not answer.")
  var retryWindow: Double = 60
  @Option(help: "Heartbeat interval in seconds (10…1800).")
  var heartbeat: Double = 30
  @Option(help: "Give up when no run has finished within this many seconds.")
  var timeout: Double = 3600
  @Option(help: "The node's P-384 key, PEM or OpenSSH (`ssh-keygen -t ecdsa -b 384`); created when missing, with FILE.pub to register (`flwr supernode register FILE.pub`) for a SuperLink with node authentication.")
  var nodeKey: String?
  @Option(help: ArgumentHelp("Make this node's clock this many seconds off (to test skew handling).", visibility: .hidden))
  var simulatedClockError: Double = 0
  @Option(help: "Threads for the numeric kernels.")
  var threads = 1
  @Flag(help: "Print only errors.")
  var quiet = false
  @Flag(help: "Also every retry and heartbeat problem (they are printed anyway) and each round's details.")
  var verbose = false
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard clientIndex >= 0 else { throw ValidationError("--client-index must be 0 or more") }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    let address = FleetConnection.url(superlink, tls: rootCertificates != nil)
    guard let url = URL(string: address), url.host?.isEmpty == false else {
      throw ValidationError("--superlink '\(superlink)' is not HOST:PORT or an http(s) URL")
    }
    if let rootCertificates {
      guard url.scheme == "https" else { throw ValidationError("--root-certificates is for a TLS SuperLink; --superlink '\(superlink)' says http") }
      guard FileManager.default.isReadableFile(atPath: rootCertificates) else { throw ValidationError("--root-certificates: cannot read \(rootCertificates)") }
    }
    guard (10...1800).contains(heartbeat) else { throw ValidationError("--heartbeat must be within 10…1800 s") }
    guard retryWindow >= 0, timeout > 0, threads >= 1 else { throw ValidationError("--retry-window, --timeout and --threads must be positive") }
    guard !(quiet && verbose) else { throw ValidationError("give --quiet or --verbose, not both") }
  }

  func run() throws {
    var shortcuts: [String] = []
    if let corpus { shortcuts.append("task.corpus=\(corpus)") }
    if let partition { shortcuts.append("federation.partition=\(partition)") }
    if let clients { shortcuts.append("federation.clients=\(clients)") }
    if let attack { shortcuts.append("attack.behaviour=\(attack)") }
    let config = try source.load(extra: shortcuts)
    if let problem = config.validationProblems().first { throw LabError("\(source.name): \(problem)") }
    guard config.task.kind == .classification else { throw LabError("\(source.name): flower-client trains classification tasks; this is a \(config.task.kind.rawValue) task") }
    let corpus = try corpusOptions.load(config.task.corpus, home: try data.home())
    let seed = self.seed ?? config.seeds.first ?? 0
    let scenario = try orFail { try ClassificationScenario(config: config, corpus: corpus, seed: seed) }
    var settings = FlowerNodeSettings(superlink: superlink, clientIndex: clientIndex)
    settings.heartbeatInterval = heartbeat
    settings.retry = RetryPolicy(window: retryWindow)
    settings.timeout = timeout
    settings.recordDirectory = record
    settings.simulatedClockError = simulatedClockError
    settings.keyFile = nodeKey
    settings.rootCertificates = rootCertificates
    let quiet = self.quiet, index = clientIndex
    let node = try orFail {
      try FlowerClientNode(settings: settings, scenario: scenario, seed: seed) { line in
        if !quiet { writeToStandardError("[client \(index)] \(line)\n") }
      }
    }
    let summary: FlowerNodeSummary
    do { summary = try node.run() } catch { throw LabError("client \(clientIndex): \(error)") }
    if !quiet {
      print("client \(clientIndex): run \(summary.runID.map(String.init) ?? "–"): trained in rounds \(summary.trainRounds.map(String.init).joined(separator: ", ")); evaluated in \(summary.evaluateRounds.count)")
    }
    if !summary.refused.isEmpty { throw LabError("client \(clientIndex) refused \(summary.refused.count) message(s): \(summary.refused[0])") }
  }
}

struct FlowerInitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flower-init",
    abstract: "Write the initial global model of a federated experiment as a bundle, for the Flower ServerApp to send.",
    discussion: prose("""
      The same model `simulate` starts from for this config and seed (and the same vocabulary), as a lab bundle:
      model.safetensors, config.json, vocab.txt, plus experiment.json (the effective config). The ServerApp in flower/
      reads it with --run-config initial-bundle=DIR and writes the final global model in the same format.
      Example:
        backdoor-lab flower-init --preset sentiment-naive-poisoning --out runs/flower/initial
      """))

  @OptionGroup var source: ExperimentSource
  @Option(help: "Bundle folder to write.")
  var out: String
  @Option(help: "The experiment seed (default: the config's first).")
  var seed: UInt64?
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func run() throws {
    let config = try source.load()
    if let problem = config.validationProblems().first { throw LabError("\(source.name): \(problem)") }
    guard config.task.kind == .classification else { throw LabError("\(source.name): flower-init supports classification tasks") }
    let corpus = try corpusOptions.load(config.task.corpus, home: try data.home())
    let seed = self.seed ?? config.seeds.first ?? 0
    let scenario = try orFail { try ClassificationScenario(config: config, corpus: corpus, seed: seed) }
    let bundle = ModelBundle(model: .classifier(scenario.initialModel(seed: seed)), vocabulary: scenario.vocabulary)
    try orFail { try bundle.save(to: out, extraFiles: ["experiment.json": Data(config.json().utf8)]) }
    print("wrote \(out) (\(scenario.initialModel(seed: seed).parameterCount) parameters, \(scenario.clientCount) clients, seed \(seed))")
  }
}

extension FlowerClientCommand: UsesComputeThreads { var computeThreads: Int { threads } }
