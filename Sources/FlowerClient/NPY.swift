import Foundation

/// A problem with a `.npy` payload; names what is wrong.
public struct NPYError: Error, Equatable, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// NumPy's `.npy` format, which Flower uses for every array it sends (`np.save(..., allow_pickle=False)`):
/// the magic `\x93NUMPY`, a version, a Python-dict header (`descr`, `fortran_order`, `shape`) padded so the
/// data starts on a 64-byte boundary, then the raw C-order data.
public enum NPY {
  /// float32 values in C order as NumPy writes them (version 1.0, `<f4`).
  public static func encode(_ values: [Float], shape: [Int]) -> Data {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    let unpadded = 6 + 2 + 2 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    #if _endian(little)
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    #else
    for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    #endif
    return data
  }

  /// Shape and values of a little-endian float32 or float64 array in C order (float64 is narrowed).
  public static func decode(_ data: Data) throws(NPYError) -> (shape: [Int], values: [Float]) {
    let bytes = [UInt8](data)
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw NPYError("not a .npy array (no \\x93NUMPY magic)") }
    let major = bytes[6]
    let headerLength: Int, headerStart: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw NPYError("truncated .npy header") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    default:
      throw NPYError("unsupported .npy version \(major)")
    }
    guard bytes.count >= headerStart + headerLength else { throw NPYError("truncated .npy header") }
    let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
    guard let descr = field("descr", in: header), let order = field("fortran_order", in: header), let shapeText = field("shape", in: header) else {
      throw NPYError("malformed .npy header: \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
    guard order == "False" else { throw NPYError("Fortran-ordered arrays are not supported") }
    let width: Int
    switch descr {
    case "'<f4'": width = 4
    case "'<f8'": width = 8
    default: throw NPYError("dtype \(descr) is not little-endian float32 or float64")
    }
    let inner = shapeText.dropFirst().dropLast()
    var shape: [Int] = []
    for part in inner.split(separator: ",") {
      let trimmed = part.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      guard let dimension = Int(trimmed), dimension >= 0 else { throw NPYError("malformed .npy shape \(shapeText)") }
      shape.append(dimension)
    }
    let (count, overflow) = shape.reduce((1, false)) { partial, dimension in
      let product = partial.0.multipliedReportingOverflow(by: dimension)
      return (product.partialValue, partial.1 || product.overflow)
    }
    let dataStart = headerStart + headerLength
    guard !overflow, count <= (bytes.count - dataStart) / width, bytes.count - dataStart == count * width else {
      throw NPYError("shape \(shape) needs \(overflow ? "too many" : String(count * width)) bytes of data; the payload has \(bytes.count - dataStart)")
    }
    var values = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      for index in 0..<count {
        let offset = dataStart + index * width
        if width == 4 {
          values[index] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        } else {
          values[index] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
        }
      }
    }
    return (shape, values)
  }

  /// The text of `key`'s value in a Python dict literal: `'<f4'`, `False`, `(4, 3)`.
  static func field(_ key: String, in header: String) -> String? {
    guard let keyRange = header.range(of: "'\(key)':") else { return nil }
    let rest = header[keyRange.upperBound...].drop { $0 == " " }
    if rest.first == "(" {
      guard let close = rest.firstIndex(of: ")") else { return nil }
      return String(rest[...close])
    }
    let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
    return String(rest[..<end]).trimmingCharacters(in: .whitespaces)
  }
}
