import Crypto
import FlowerProtos
import Foundation
import SwiftProtobuf

/// Something the SuperLink sent (or answered) that breaks Flower's protocol; names the object or field.
public struct FlowerProtocolError: Error, Equatable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// A Flower 1.42 "inflatable object": `"<Type> <comma-separated child ids> <body length>" 0x00 <body>`,
/// named by the SHA-256 of those bytes. Messages travel as trees of them (Message → RecordDict → records →
/// Arrays → ArrayChunks), pulled and pushed one by one.
public struct FlowerObject: Sendable, Equatable {
  public var type: String
  public var children: [String]
  public var body: Data

  public init(type: String, children: [String], body: Data) {
    self.type = type
    self.children = children
    self.body = body
  }

  public var bytes: Data {
    var data = Data("\(type) \(children.joined(separator: ",")) \(body.count)".utf8)
    data.append(0)
    data.append(body)
    return data
  }

  public var id: String { Self.id(of: bytes) }

  /// The SHA-256 of `bytes` in lowercase hex (written out by hand: `String(format:)` is slow and, in
  /// swift-corelibs-foundation, not safe to call from many threads at once).
  public static func id(of bytes: Data) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var hex: [UInt8] = []
    hex.reserveCapacity(64)
    for byte in SHA256.hash(data: bytes) {
      hex.append(digits[Int(byte >> 4)])
      hex.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: hex, as: UTF8.self)
  }

  /// Parses pulled bytes, refusing them unless they hash to `expectedID`.
  public init(parsing bytes: Data, expectedID: String) throws(FlowerProtocolError) {
    let actual = Self.id(of: bytes)
    guard actual == expectedID else {
      throw FlowerProtocolError("object \(expectedID.prefix(16))…: content hashes to \(actual.prefix(16))…; refusing a corrupted or substituted piece")
    }
    guard let separator = bytes.firstIndex(of: 0) else { throw FlowerProtocolError("object \(expectedID.prefix(16))…: no header") }
    let header = String(decoding: bytes[bytes.startIndex..<separator], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
    guard header.count == 3, let length = Int(header[2]) else { throw FlowerProtocolError("object \(expectedID.prefix(16))…: malformed header") }
    let body = bytes[(separator + 1)...]
    guard body.count == length else {
      throw FlowerProtocolError("object \(expectedID.prefix(16))…: header says \(length) body bytes, got \(body.count)")
    }
    type = String(header[0])
    children = header[1].isEmpty ? [] : header[1].split(separator: ",").map(String.init)
    self.body = Data(body)
  }
}

/// A named float32 array (an ArrayRecord entry).
public struct NamedArray: Sendable, Equatable {
  public var name: String
  public var shape: [Int]
  public var values: [Float]
  public init(name: String, shape: [Int], values: [Float]) {
    self.name = name
    self.shape = shape
    self.values = values
  }
}

/// The records a message carries.
public enum FlowerRecord: Sendable {
  case arrays([NamedArray])
  case config(Flwr_Proto_ConfigRecord)
  case metrics(Flwr_Proto_MetricRecord)
}

/// Builds objects bottom-up as Flower's `deflate()` does (byte for byte for arrays and records), keeping
/// every object's bytes for `PushObject` and returning the tree for `PushMessages`.
public struct FlowerObjectEncoder {
  public private(set) var objects: [String: Data] = [:]
  /// Flower's `FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE` default.
  public var chunkSize = 5 * 1024 * 1024

  public init() {}

  mutating func put(_ object: FlowerObject, children: [Flwr_Proto_ObjectTree] = []) -> Flwr_Proto_ObjectTree {
    let bytes = object.bytes
    let id = FlowerObject.id(of: bytes)
    objects[id] = bytes
    var tree = Flwr_Proto_ObjectTree()
    tree.objectID = id
    tree.children = children
    return tree
  }

  public mutating func array(_ array: NamedArray) -> Flwr_Proto_ObjectTree {
    let data = NPY.encode(array.values, shape: array.shape)
    var chunkIDs: [String] = []
    var unique: [Flwr_Proto_ObjectTree] = []
    var start = 0
    repeat {
      let chunk = put(FlowerObject(type: "ArrayChunk", children: [], body: data.subdata(in: start..<min(start + chunkSize, data.count))))
      chunkIDs.append(chunk.objectID)
      if !unique.contains(where: { $0.objectID == chunk.objectID }) { unique.append(chunk) }
      start += chunkSize
    } while start < data.count
    let indices = chunkIDs.map { id in unique.firstIndex { $0.objectID == id }! }
    let body =
      "{\"dtype\": \"float32\", \"shape\": [\(array.shape.map(String.init).joined(separator: ", "))], \"stype\": \"numpy.ndarray\", "
      + "\"arraychunk_ids\": [\(indices.map(String.init).joined(separator: ", "))]}"
    return put(FlowerObject(type: "Array", children: unique.map(\.objectID), body: Data(body.utf8)), children: unique)
  }

  public mutating func record(_ record: FlowerRecord) throws -> Flwr_Proto_ObjectTree {
    switch record {
    case .arrays(let arrays):
      let trees = arrays.map { array($0) }
      let body = pythonJSONObject(zip(arrays.map(\.name), trees.map(\.objectID)).map { ($0, $1) })
      var children: [Flwr_Proto_ObjectTree] = []
      for tree in trees where !children.contains(where: { $0.objectID == tree.objectID }) { children.append(tree) }
      return put(FlowerObject(type: "ArrayRecord", children: children.map(\.objectID), body: Data(body.utf8)), children: children)
    case .config(let config):
      return put(FlowerObject(type: "ConfigRecord", children: [], body: try config.serializedData()))
    case .metrics(let metrics):
      return put(FlowerObject(type: "MetricRecord", children: [], body: try metrics.serializedData()))
    }
  }

  public mutating func recordDict(_ records: [(name: String, record: FlowerRecord)]) throws -> Flwr_Proto_ObjectTree {
    var trees: [Flwr_Proto_ObjectTree] = []
    for (_, record) in records { trees.append(try self.record(record)) }
    var children: [Flwr_Proto_ObjectTree] = []
    for tree in trees where !children.contains(where: { $0.objectID == tree.objectID }) { children.append(tree) }
    let body = pythonJSONObject(zip(records.map(\.name), trees.map(\.objectID)).map { ($0, $1) })
    return put(FlowerObject(type: "RecordDict", children: children.map(\.objectID), body: Data(body.utf8)), children: children)
  }

  /// The Message object: its metadata (with an empty message id: the id is this object's own) and, instead of
  /// content, the RecordDict as its child; or an error and no child.
  public mutating func message(metadata: Flwr_Proto_Metadata, content: Flwr_Proto_ObjectTree?, error: Flwr_Proto_Error? = nil) throws
    -> Flwr_Proto_ObjectTree
  {
    var message = Flwr_Proto_Message()
    message.metadata = metadata
    message.metadata.messageID = ""
    if let error { message.error = error }
    let body = try message.serializedData()
    return put(FlowerObject(type: "Message", children: content.map { [$0.objectID] } ?? [], body: body), children: content.map { [$0] } ?? [])
  }
}

/// Reads a pulled message's objects back into metadata and records.
public enum FlowerObjectDecoder {
  public struct Decoded: Sendable {
    public var metadata: Flwr_Proto_Metadata
    public var records: [(name: String, record: FlowerRecord)]
    public var error: Flwr_Proto_Error?
  }

  public static func message(_ id: String, objects: [String: FlowerObject]) throws(FlowerProtocolError) -> Decoded {
    let object = try lookup(id, objects, type: "Message")
    let message: Flwr_Proto_Message
    do { message = try Flwr_Proto_Message(serializedBytes: object.body) } catch { throw FlowerProtocolError("Message \(id.prefix(16))…: not a protobuf Message") }
    var records: [(name: String, record: FlowerRecord)] = []
    if let contentID = object.children.first {
      let dictionary = try lookup(contentID, objects, type: "RecordDict")
      for (name, recordID) in try parseStringMap(dictionary.body, what: "RecordDict \(contentID.prefix(16))…") {
        records.append((name, try record(recordID, objects)))
      }
    }
    return Decoded(metadata: message.metadata, records: records, error: message.hasError ? message.error : nil)
  }

  static func lookup(_ id: String, _ objects: [String: FlowerObject], type: String) throws(FlowerProtocolError) -> FlowerObject {
    guard let object = objects[id] else { throw FlowerProtocolError("object \(id.prefix(16))… (\(type)) was not pulled") }
    guard object.type == type else { throw FlowerProtocolError("object \(id.prefix(16))… is a \(object.type), expected a \(type)") }
    return object
  }

  static func record(_ id: String, _ objects: [String: FlowerObject]) throws(FlowerProtocolError) -> FlowerRecord {
    guard let object = objects[id] else { throw FlowerProtocolError("record \(id.prefix(16))… was not pulled") }
    switch object.type {
    case "ArrayRecord":
      var arrays: [NamedArray] = []
      for (name, arrayID) in try parseStringMap(object.body, what: "ArrayRecord \(id.prefix(16))…") {
        arrays.append(try array(name: name, id: arrayID, objects))
      }
      return .arrays(arrays)
    case "ConfigRecord":
      do { return .config(try Flwr_Proto_ConfigRecord(serializedBytes: object.body)) } catch { throw FlowerProtocolError("ConfigRecord \(id.prefix(16))…: not protobuf") }
    case "MetricRecord":
      do { return .metrics(try Flwr_Proto_MetricRecord(serializedBytes: object.body)) } catch { throw FlowerProtocolError("MetricRecord \(id.prefix(16))…: not protobuf") }
    default:
      throw FlowerProtocolError("record \(id.prefix(16))… has unknown type \(object.type)")
    }
  }

  struct ArrayHeader: Decodable {
    var dtype: String
    var shape: [Int]
    var stype: String
    var arraychunkIDs: [Int]
    enum CodingKeys: String, CodingKey { case dtype, shape, stype, arraychunkIDs = "arraychunk_ids" }
  }

  static func array(name: String, id: String, _ objects: [String: FlowerObject]) throws(FlowerProtocolError) -> NamedArray {
    let object = try lookup(id, objects, type: "Array")
    let header: ArrayHeader
    do { header = try JSONDecoder().decode(ArrayHeader.self, from: object.body) } catch { throw FlowerProtocolError("array '\(name)': malformed Array header") }
    guard header.stype == "numpy.ndarray" else { throw FlowerProtocolError("array '\(name)': stype \(header.stype) (only numpy.ndarray is defined)") }
    var data = Data()
    for index in header.arraychunkIDs {
      guard object.children.indices.contains(index) else { throw FlowerProtocolError("array '\(name)': chunk index \(index) out of range") }
      data.append(try lookup(object.children[index], objects, type: "ArrayChunk").body)
    }
    let decoded: (shape: [Int], values: [Float])
    do { decoded = try NPY.decode(data) } catch { throw FlowerProtocolError("array '\(name)': \(error.description)") }
    guard decoded.shape == header.shape else { throw FlowerProtocolError("array '\(name)': header says shape \(header.shape), the .npy data \(decoded.shape)") }
    return NamedArray(name: name, shape: decoded.shape, values: decoded.values)
  }
}

/// `json.dumps` of a str → str dict with Python's default separators and ASCII escaping.
func pythonJSONObject(_ pairs: [(String, String)]) -> String {
  "{" + pairs.map { "\(pythonJSONString($0.0)): \(pythonJSONString($0.1))" }.joined(separator: ", ") + "}"
}

func pythonJSONString(_ text: String) -> String {
  var out = "\""
  for unit in text.utf16 {
    switch unit {
    case 0x22: out += "\\\""
    case 0x5C: out += "\\\\"
    case 0x0A: out += "\\n"
    case 0x0D: out += "\\r"
    case 0x09: out += "\\t"
    case 0x08: out += "\\b"
    case 0x0C: out += "\\f"
    case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
    default: out += String(format: "\\u%04x", unit)
    }
  }
  return out + "\""
}

/// A JSON object of string values, in the order written (ArrayRecord order is the model's parameter order).
func parseStringMap(_ data: Data, what: String) throws(FlowerProtocolError) -> [(String, String)] {
  let object: Any
  do { object = try JSONSerialization.jsonObject(with: data) } catch { throw FlowerProtocolError("\(what): body is not JSON") }
  guard let dictionary = object as? [String: Any], dictionary.values.allSatisfy({ $0 is String }) else {
    throw FlowerProtocolError("\(what): body is not a JSON object of strings")
  }
  // JSONSerialization forgets the order; recover it from where each key first appears as a key.
  var keys: [(offset: Int, key: String)] = []
  let text = String(decoding: data, as: UTF8.self)
  for key in dictionary.keys {
    let needle = pythonJSONString(key) + ":"
    let plain = "\"" + key + "\":"
    let found = text.range(of: needle) ?? text.range(of: plain) ?? text.range(of: pythonJSONString(key))
    keys.append((found.map { text.distance(from: text.startIndex, to: $0.lowerBound) } ?? Int.max, key))
  }
  return keys.sorted { $0.offset < $1.offset }.map { ($0.key, dictionary[$0.key] as! String) }
}
