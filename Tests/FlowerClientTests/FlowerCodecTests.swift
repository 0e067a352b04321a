import Crypto
import Datasets
import Experiments
import FlowerProtos
import Foundation
import Testing
import TestSupport

@testable import FlowerClient

/// objects.json: what flwr 1.42's own `deflate()` produced (Tests/Fixtures/flower/make_flower_fixtures.py).
private struct Golden: Decodable {
  struct Case: Decodable {
    var root: String
    var objects: [String: String]
  }
  struct Values: Decodable {
    var shape: [Int]
    var data: [Float]
  }
  var arrayRecord: Case
  var metricRecord: Case
  var configRecord: Case
  var recordDict: Case
  var values: [String: Values]
  enum CodingKeys: String, CodingKey {
    case arrayRecord = "array_record", metricRecord = "metric_record", configRecord = "config_record", recordDict = "record_dict", values
  }

  static func load() throws -> Golden {
    try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/flower/objects.json"))))
  }

  var arrays: [NamedArray] {
    ["classifier.weight", "classifier.bias"].map { NamedArray(name: $0, shape: values[$0]!.shape, values: values[$0]!.data) }
  }
}

private func hexBytes(_ hex: String) -> Data {
  var data = Data(capacity: hex.count / 2)
  var index = hex.startIndex
  while index < hex.endIndex {
    let next = hex.index(index, offsetBy: 2)
    data.append(UInt8(hex[index..<next], radix: 16)!)
    index = next
  }
  return data
}

private func metric(_ key: String, _ value: Flwr_Proto_MetricRecordValue.OneOf_Value) -> Flwr_Proto_MetricRecord.Item {
  var item = Flwr_Proto_MetricRecord.Item()
  item.key = key
  item.value.value = value
  return item
}

private func config(_ key: String, _ value: Flwr_Proto_ConfigRecordValue.OneOf_Value) -> Flwr_Proto_ConfigRecord.Item {
  var item = Flwr_Proto_ConfigRecord.Item()
  item.key = key
  item.value.value = value
  return item
}

private func goldenConfig() -> Flwr_Proto_ConfigRecord {
  var record = Flwr_Proto_ConfigRecord()
  record.items = [config("lr", .double(0.1)), config("server-round", .sint64(2)), config("note", .string("hello"))]
  return record
}

@Test func theEncoderWritesFlowersObjectsByteForByte() throws {
  let golden = try Golden.load()
  func expectSame(_ encoder: FlowerObjectEncoder, _ root: String, _ expected: Golden.Case, _ what: String) {
    #expect(root == expected.root, "\(what): root id")
    #expect(Set(encoder.objects.keys) == Set(expected.objects.keys), "\(what): object ids")
    for (id, hex) in expected.objects { #expect(encoder.objects[id] == hexBytes(hex), "\(what): object \(id.prefix(12)) bytes") }
  }
  var arrays = FlowerObjectEncoder()
  let arraysRoot = try arrays.record(.arrays(golden.arrays)).objectID
  expectSame(arrays, arraysRoot, golden.arrayRecord, "ArrayRecord")

  var metrics = FlowerObjectEncoder()
  var record = Flwr_Proto_MetricRecord()
  record.items = [metric("num-examples", .sint64(30)), metric("train_loss", .double(0.75))]
  let metricsRoot = try metrics.record(.metrics(record)).objectID
  expectSame(metrics, metricsRoot, golden.metricRecord, "MetricRecord")

  var configs = FlowerObjectEncoder()
  let configRoot = try configs.record(.config(goldenConfig())).objectID
  expectSame(configs, configRoot, golden.configRecord, "ConfigRecord")

  var content = FlowerObjectEncoder()
  let tree = try content.recordDict([("arrays", .arrays(golden.arrays)), ("config", .config(goldenConfig()))])
  expectSame(content, tree.objectID, golden.recordDict, "RecordDict")
  #expect(FlowerClientNode.postOrder(tree).last == tree.objectID && FlowerClientNode.postOrder(tree).count == golden.recordDict.objects.count)
}

/// Flower's golden RecordDict objects, as pulled, under a Message the lab encodes with `metadata`: the message's id,
/// its bytes, and every object by id.
private func goldenMessage(_ golden: Golden, metadata: Flwr_Proto_Metadata) throws -> (id: String, bytes: Data, objects: [String: FlowerObject]) {
  var objects: [String: FlowerObject] = [:]
  for (id, hex) in golden.recordDict.objects { objects[id] = try FlowerObject(parsing: hexBytes(hex), expectedID: id) }
  var encoder = FlowerObjectEncoder()
  var root = Flwr_Proto_ObjectTree()
  root.objectID = golden.recordDict.root
  let message = try encoder.message(metadata: metadata, content: root)
  let bytes = encoder.objects[message.objectID]!
  objects[message.objectID] = try FlowerObject(parsing: bytes, expectedID: message.objectID)
  return (message.objectID, bytes, objects)
}

@Test func theDecoderReadsWhatFlowerSends() throws {
  let golden = try Golden.load()
  var metadata = Flwr_Proto_Metadata()
  metadata.messageType = "train"
  metadata.runID = 7
  var (messageID, _, objects) = try goldenMessage(golden, metadata: metadata)

  let decoded = try FlowerObjectDecoder.message(messageID, objects: objects)
  #expect(decoded.metadata.runID == 7 && decoded.metadata.messageType == "train" && decoded.error == nil)
  #expect(decoded.records.map(\.name) == ["arrays", "config"])
  guard case .arrays(let arrays) = decoded.records[0].record else { Issue.record("the first record is not an ArrayRecord"); return }
  #expect(arrays == golden.arrays, "names in Flower's order, shapes and values")
  #expect(FlowerClientNode.serverRound(decoded.records) == 2)

  // A piece missing from what was pulled is named.
  objects.removeValue(forKey: golden.arrayRecord.objects.keys.first { golden.arrayRecord.objects[$0]!.hasPrefix(hex("ArrayChunk")) }!)
  #expect(throws: FlowerProtocolError.self) { try FlowerObjectDecoder.message(messageID, objects: objects) }
}

private func hex(_ text: String) -> String { text.utf8.map { String(format: "%02x", $0) }.joined() }

@Test func aPieceThatDoesNotHashToItsNameIsRefused() throws {
  let object = FlowerObject(type: "ArrayChunk", children: [], body: Data([1, 2, 3, 4]))
  var bytes = object.bytes
  #expect(try FlowerObject(parsing: bytes, expectedID: object.id) == object)
  bytes[bytes.count - 1] ^= 0xFF
  do {
    _ = try FlowerObject(parsing: bytes, expectedID: object.id)
    Issue.record("a corrupted piece was accepted")
  } catch {
    #expect(error.description.contains("hashes to") && error.description.contains(String(object.id.prefix(16))))
  }
  // A header that lies about the body's length.
  let lying = Data("ArrayChunk  9".utf8) + Data([0, 1, 2])
  #expect(throws: FlowerProtocolError.self) { try FlowerObject(parsing: lying, expectedID: FlowerObject.id(of: lying)) }
}

@Test func npyRoundTripsAndRejectsWhatItCannotRead() throws {
  let values: [Float] = [0.5, -1, 3.25, 1e-7, 42, -0]
  let data = NPY.encode(values, shape: [2, 3])
  #expect(data.count % 64 == 24 % 64 || (data.count - 24) % 64 == 0, "header padded to 64 bytes")
  let decoded = try NPY.decode(data)
  #expect(decoded.shape == [2, 3] && decoded.values == values)
  #expect(try NPY.decode(NPY.encode([7], shape: [1])).shape == [1])

  // float64 is read and narrowed.
  var double = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
  let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }" + String(repeating: " ", count: 4) + "\n"
  double.append(contentsOf: [UInt8(header.utf8.count), 0])
  double.append(contentsOf: Array(header.utf8))
  for value in [1.5, -2.25] { withUnsafeBytes(of: value.bitPattern.littleEndian) { double.append(contentsOf: $0) } }
  #expect(try NPY.decode(double).values == [1.5, -2.25])

  #expect(throws: NPYError.self) { try NPY.decode(data.dropLast(4)) }  // truncated data
  #expect(throws: NPYError.self) { try NPY.decode(Data("not numpy at all".utf8)) }
  let fortran = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "'fortran_order': False", with: "'fortran_order': True ").utf8)
  #expect(throws: NPYError.self) { try NPY.decode(fortran) }
  let integers = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "'<f4'", with: "'<i4'").utf8)
  #expect(throws: NPYError.self) { try NPY.decode(integers) }
}

@Test func requestsAreSignedAsTheSuperLinkChecks() throws {
  let connection = FleetConnection(superlink: "127.0.0.1:9", log: { _ in })
  let headers = try connection.signedHeaders()
  let stamp = try #require(headers["flwr-timestamp"])
  #expect(stamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$"#, options: .regularExpression) != nil, "Python's isoformat(): \(stamp)")
  let publicKeyHeader = try #require(headers["flwr-public-key"])
  let pem = String(decoding: try #require(Data(base64Encoded: publicKeyHeader)), as: UTF8.self)
  #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----") && pem.hasSuffix("-----END PUBLIC KEY-----\n"))
  let key = try P384.Signing.PublicKey(pemRepresentation: pem)
  let signatureHeader = try #require(headers["flwr-signature"])
  let signature = try P384.Signing.ECDSASignature(derRepresentation: try #require(Data(base64Encoded: signatureHeader)))
  #expect(key.isValidSignature(signature, for: SHA256.hash(data: Data(stamp.utf8))), "ECDSA-SHA256 over the timestamp")
  #expect(FleetConnection.timestamp(Date(timeIntervalSince1970: 1_764_000_000.25)) == "2025-11-24T16:00:00.250000+00:00")
}

@Test func aGlobalModelOfTheWrongShapeIsRefusedBeforeTraining() throws {
  let directory = try Fixtures.temporaryDirectory()
  var lines = ["label\ttext"]
  for i in 0..<80 { lines.append("\(i % 2 == 0 ? "pos" : "neg")\tthe film was \(i % 2 == 0 ? "good" : "bad") ref\(i)") }
  try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/toy.tsv", atomically: true, encoding: .utf8)
  var experiment = ExperimentConfig()
  experiment.task.corpus = directory + "/toy.tsv"
  experiment.task.embeddingDim = 4
  experiment.task.hiddenSize = 4
  experiment.federation.clients = 2
  experiment.federation.clientsPerRound = 2
  let corpus = try Corpus(reading: CorpusDescription(name: "toy", path: directory + "/toy.tsv", labelColumn: "label"), from: directory + "/toy.tsv")
  let scenario = try ClassificationScenario(config: experiment, corpus: corpus, seed: 0)
  let node = try FlowerClientNode(settings: FlowerNodeSettings(superlink: "127.0.0.1:9", clientIndex: 1), scenario: scenario, seed: 0, log: { _ in })
  let good = node.namedArrays(scenario.initialModel(seed: 0))
  #expect(try node.globalModel([("arrays", .arrays(good))]).flattenedParameters == scenario.initialModel(seed: 0).flattenedParameters)

  var wrongShape = good
  wrongShape[0].shape = [wrongShape[0].shape[0] + 1] + wrongShape[0].shape.dropFirst()
  wrongShape[0].values += [Float](repeating: 0, count: wrongShape[0].shape.dropFirst().reduce(1, *))
  do {
    _ = try node.globalModel([("arrays", .arrays(wrongShape))])
    Issue.record("a mis-shaped global model was accepted")
  } catch {
    #expect(error.description.contains(good[0].name) && error.description.contains("shape"))
  }
  var poisoned = good
  poisoned[1].values[0] = .nan
  #expect(throws: FlowerProtocolError.self) { try node.globalModel([("arrays", .arrays(poisoned))]) }
  #expect(throws: FlowerProtocolError.self) { try node.globalModel([("arrays", .arrays(Array(good.dropLast())))]) }
  #expect(throws: FlowerProtocolError.self) {
    try FlowerClientNode(settings: FlowerNodeSettings(superlink: "x", clientIndex: 2), scenario: scenario, seed: 0, log: { _ in })
  }
}

@Test func anUnreachableSuperLinkIsRetriedThenAClearError() throws {
  let started = Date()
  let connection = FleetConnection(superlink: "127.0.0.1:9", retry: RetryPolicy(firstDelay: 0.1, maximumDelay: 0.2, window: 0.5), log: { _ in })
  do {
    _ = try connection.call("pull-messages", Flwr_Proto_PullMessagesRequest(), as: Flwr_Proto_PullMessagesResponse.self)
    Issue.record("a call to a closed port succeeded")
  } catch {
    #expect(error.status == nil && error.description.contains("no answer from http://127.0.0.1:9"))
  }
  #expect(Date().timeIntervalSince(started) >= 0.5, "retried for the whole window")
}

/// Thousands of mutated Flower objects (each re-hashed, so the parser gets past the content check) and .npy arrays:
/// every message decodes or is refused with a `FlowerProtocolError`, every array decodes consistently or is refused.
@Test func mutatedFlowerObjectsAndArraysAreDecodedOrRefused() throws {
  let golden = try Golden.load()
  let (messageID, messageBytes, objects) = try goldenMessage(golden, metadata: Flwr_Proto_Metadata())
  let pieces = golden.recordDict.objects.map { ($0.key, hexBytes($0.value)) }.sorted { $0.0 < $1.0 } + [(messageID, messageBytes)]

  var mutator = Mutator(seed: 7)
  var decoded = 0, refused = 0
  for _ in 0..<Mutator.iterations(standard: 2000) {
    let (id, bytes) = pieces[mutator.below(pieces.count)]
    let mutated = Data(mutator.mutate(Array(bytes)))
    var tampered = objects
    do {
      // The mutated piece takes the place of the original under the original's id, its own hash made to match.
      let object = try FlowerObject(parsing: mutated, expectedID: FlowerObject.id(of: mutated))
      tampered[id] = object
      _ = try FlowerObjectDecoder.message(messageID, objects: tampered)
      decoded += 1
    } catch {
      #expect(!"\(error)".isEmpty)
      refused += 1
    }
  }
  #expect(decoded + refused == Mutator.iterations(standard: 2000) && refused > 0)

  let npy = Array(NPY.encode([1, 2, 3, 4, 5, 6], shape: [2, 3]))
  for _ in 0..<Mutator.iterations(standard: 2000) {
    do {
      let (shape, values) = try NPY.decode(Data(mutator.mutate(npy)))
      #expect(values.count == shape.reduce(1, *))
    } catch {
      #expect(!"\(error)".isEmpty)
    }
  }
}
