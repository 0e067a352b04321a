import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data
/// that follows; an optional "__metadata__" maps strings to strings), then the raw little-endian data.
///
/// Reading validates every length and offset before touching the data, so a truncated, overlapping,
/// oversized or otherwise hostile file is a `SafetensorsError` naming the file and tensor, never a crash
/// or an out-of-bounds read. F32, F16, BF16 and F64 are read (converted to Float); F32 is written.
public enum Safetensors {
  /// Headers larger than this are refused (the format's reference implementation uses 100 MB).
  public static let maximumHeaderBytes = 100_000_000

  public struct File: Sendable, Equatable {
    /// Tensors in the order of their data offsets.
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    public static func == (lhs: File, rhs: File) -> Bool {
      lhs.metadata == rhs.metadata && lhs.tensors.map(\.name) == rhs.tensors.map(\.name) && lhs.tensors.map(\.tensor) == rhs.tensors.map(\.tensor)
    }
  }

  public static func read(from path: String) throws(SafetensorsError) -> File {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw SafetensorsError(source: path, problem: "cannot read: \((error as NSError).localizedDescription)")
    }
    return try decode([UInt8](data), source: path)
  }

  public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws(SafetensorsError) -> File {
    func fail(_ problem: String) -> SafetensorsError { SafetensorsError(source: source, problem: problem) }
    guard bytes.count >= 8 else { throw fail("file is \(bytes.count) bytes; a safetensors file starts with an 8-byte header length") }
    var headerLength: UInt64 = 0
    for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    guard headerLength <= UInt64(maximumHeaderBytes) else { throw fail("header length \(headerLength) exceeds the \(maximumHeaderBytes)-byte limit") }
    guard headerLength >= 2 else { throw fail("header length \(headerLength) is too small for a JSON object") }
    guard headerLength <= UInt64(bytes.count - 8) else { throw fail("header length \(headerLength) runs past the end of the \(bytes.count)-byte file (truncated?)") }
    let headerEnd = 8 + Int(headerLength)
    let headerBytes = Array(bytes[8..<headerEnd])
    guard let headerText = String(validating: headerBytes, as: UTF8.self) else { throw fail("header is not valid UTF-8") }
    let json: Any
    do { json = try JSONSerialization.jsonObject(with: Data(headerText.utf8)) } catch {
      throw fail("header is not valid JSON")
    }
    guard let header = json as? [String: Any] else { throw fail("header is not a JSON object") }
    let dataLength = bytes.count - headerEnd

    var metadata: [String: String] = [:]
    if let raw = header["__metadata__"] {
      guard let object = raw as? [String: Any] else { throw fail("__metadata__ is not an object") }
      for (key, value) in object {
        guard let text = value as? String else { throw fail("__metadata__[\(key)] is not a string") }
        metadata[key] = text
      }
    }

    struct Entry { let name: String; let dtype: DataType; let shape: [Int]; let begin: Int; let end: Int }
    var entries: [Entry] = []
    for (name, raw) in header where name != "__metadata__" {
      guard let info = raw as? [String: Any] else { throw fail("tensor '\(name)': entry is not an object") }
      if let unknown = info.keys.first(where: { !["dtype", "shape", "data_offsets"].contains($0) }) {
        throw fail("tensor '\(name)': unknown field '\(unknown)'")
      }
      guard let dtypeName = info["dtype"] as? String else { throw fail("tensor '\(name)': missing dtype") }
      guard let dtype = DataType(rawValue: dtypeName) else {
        throw fail("tensor '\(name)': unsupported dtype \(dtypeName) (readable: F32, F16, BF16, F64)")
      }
      guard let shapeValues = info["shape"] as? [Any] else { throw fail("tensor '\(name)': missing shape") }
      var shape: [Int] = []
      var count = 1
      for value in shapeValues {
        guard let number = exactInteger(value), number >= 0, number <= Int64(Int32.max) else {
          throw fail("tensor '\(name)': shape \(shapeValues) must hold non-negative integers")
        }
        let dimension = Int(number)
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard !overflow, product <= dataLength else { throw fail("tensor '\(name)': shape \(shapeValues) holds more elements than the file has bytes") }
        count = product
        shape.append(dimension)
      }
      guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
            let begin = exactInteger(offsets[0]), let end = exactInteger(offsets[1]) else {
        throw fail("tensor '\(name)': data_offsets must be [begin, end] integers")
      }
      guard begin >= 0, begin <= end else { throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] are out of order") }
      guard end <= Int64(dataLength) else {
        throw fail("tensor '\(name)': data_offsets end \(end) is past the \(dataLength) bytes of data (truncated?)")
      }
      guard Int(end - begin) == count * dtype.byteWidth else {
        throw fail("tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(count * dtype.byteWidth) bytes; data_offsets span \(end - begin)")
      }
      entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: Int(begin), end: Int(end)))
    }
    // The data must be covered exactly, without overlaps or holes (as the format requires).
    entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    var expected = 0
    for entry in entries {
      if entry.begin < expected { throw fail("tensor '\(entry.name)': data [\(entry.begin), \(entry.end)) overlaps the previous tensor") }
      if entry.begin > expected { throw fail("tensor '\(entry.name)': hole in the data before offset \(entry.begin)") }
      expected = entry.end
    }
    guard expected == dataLength else { throw fail("\(dataLength - expected) bytes of data after the last tensor are not described by the header") }

    let tensors = entries.map { entry -> (String, Tensor) in
      let scalars = bytes.withUnsafeBufferPointer { buffer in
        entry.dtype.decode(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[(headerEnd + entry.begin)..<(headerEnd + entry.end)]))
      }
      return (entry.name, Tensor(shape: entry.shape, scalars: scalars))
    }
    return File(tensors: tensors, metadata: metadata)
  }

  /// Encodes dense F32 tensors in the given order; the header is padded with spaces to 8 bytes.
  public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws(SafetensorsError) -> [UInt8] {
    var names = Set<String>()
    var header: [String: Any] = [:]
    var offset = 0
    for (name, tensor) in tensors {
      guard !name.isEmpty, name != "__metadata__", names.insert(name).inserted else {
        throw SafetensorsError(source: "<writing>", problem: "tensor name '\(name)' is empty, reserved or repeated")
      }
      let dense = tensor.densified()
      header[name] = ["dtype": "F32", "shape": dense.shape, "data_offsets": [offset, offset + dense.scalarCount * 4]]
      offset += dense.scalarCount * 4
    }
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var headerBytes: [UInt8]
    do { headerBytes = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) } catch {
      throw SafetensorsError(source: "<writing>", problem: "cannot encode the header: \(error)")
    }
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var output: [UInt8] = []
    output.reserveCapacity(8 + headerBytes.count + offset)
    let length = UInt64(headerBytes.count)
    for i in 0..<8 { output.append(UInt8((length >> (8 * UInt64(i))) & 0xFF)) }
    output += headerBytes
    for (_, tensor) in tensors {
      for value in tensor.densified().scalars {
        let bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: bits) { output.append(contentsOf: $0) }
      }
    }
    return output
  }

  /// Writes atomically (temporary file, then rename).
  public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String) throws(SafetensorsError) {
    let bytes = try encode(tensors, metadata: metadata)
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw SafetensorsError(source: path, problem: "cannot write: \((error as NSError).localizedDescription)")
    }
  }

  /// A JSON number that is an integer: not a fraction (even 2.0) and not a boolean, as the format's
  /// reference implementation reads its unsigned fields. Foundation on Linux bridges JSON booleans and
  /// small integers alike to `Bool`, so the number's own type code decides.
  static func exactInteger(_ value: Any) -> Int64? {
    guard let number = value as? NSNumber else { return nil }
    switch String(cString: number.objCType) {
    case "c", "C", "B", "d", "f": return nil
    default: return number.int64Value
    }
  }

  enum DataType: String {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"

    var byteWidth: Int {
      switch self {
      case .f32: 4
      case .f16, .bf16: 2
      case .f64: 8
      }
    }

    func decode(_ raw: UnsafeRawBufferPointer) -> [Float] {
      let count = raw.count / byteWidth
      return (0..<count).map { i in
        switch self {
        case .f32: Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case .f64: Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
        case .f16: Float(halfBits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .bf16: Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
        }
      }
    }
  }
}

public struct SafetensorsError: Error, Equatable, CustomStringConvertible {
  public var source: String
  public var problem: String
  public var description: String { "\(source): \(problem)" }
}

extension Float {
  /// IEEE 754 half precision to single (exact), without relying on `Float16`'s availability.
  init(halfBits bits: UInt16) {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
      // Zero or subnormal: mantissa · 2^-24.
      let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
      self = sign != 0 ? -magnitude : magnitude
    } else if exponent == 0x1F {
      self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    } else {
      self = Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
  }
}
