import Foundation
import Tensors
import Testing
import TestSupport

private let sample: [(name: String, tensor: Tensor)] = [
  ("embedding.weight", Tensor([[1, 2, 3], [4, 5, 6]])),
  ("classifier.bias", Tensor([0.5, -0.25])),
  ("scalar", Tensor(7)),
  ("empty", Tensor(shape: [0, 3], scalars: [])),
]

@Test func roundTripThroughAFile() throws {
  let path = try Fixtures.temporaryDirectory() + "/model.safetensors"
  try Safetensors.write(sample, metadata: ["format": "pt"], to: path)
  let file = try Safetensors.read(from: path)
  #expect(file.metadata == ["format": "pt"])
  for (name, tensor) in sample { #expect(file[name] == tensor, "\(name)") }
  let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
  let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
  #expect(headerLength % 8 == 0)
}

/// Builds a file from a header written by hand and raw data bytes.
private func file(header: String, data: [UInt8]) -> [UInt8] {
  let json = Array(header.utf8)
  let bytes: [UInt8] = (0..<8).map { UInt8((json.count >> (8 * $0)) & 0xFF) }
  return bytes + json + data
}

private func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

@Test func readsHalfBFloatAndDoublePrecision() throws {
  // F16 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF, smallest subnormal 0x0001 = 2^-24
  let half = littleEndian([UInt16(0x3C00), 0xC100, 0x7BFF, 0x0001])
  // BF16: the top half of the F32 pattern: 1.0 = 0x3F80, -3.0 = 0xC040
  let bfloat = littleEndian([UInt16(0x3F80), 0xC040])
  let double = littleEndian([Double(0.1).bitPattern, Double(-1e10).bitPattern])
  let bytes = file(
    header: #"{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"d":{"dtype":"F64","shape":[2],"data_offsets":[12,28]}}"#,
    data: half + bfloat + double)
  let decoded = try Safetensors.decode(bytes)
  #expect(decoded["h"]?.scalars == [1, -2.5, 65504, Float(sign: .plus, exponent: -24, significand: 1)])
  #expect(decoded["b"]?.scalars == [1, -3])
  #expect(decoded["d"]?.scalars == [Float(0.1), -1e10])
}

@Test(arguments: [
  ("too short", [UInt8](repeating: 0, count: 5), "starts with an 8-byte header length"),
  ("header past end", [UInt8]([200, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D]), "runs past the end"),
  ("huge header length", [UInt8]([0, 0, 0, 0, 0, 0, 0, 1]) + Array(repeating: 0, count: 8), "exceeds"),
  ("not JSON", file(header: "{nope}", data: []), "not valid JSON"),
  ("not an object", file(header: "[1,2]", data: []), "not a JSON object"),
  ("invalid UTF-8", file(header: "{}", data: []).enumerated().map { $0.offset == 8 ? 0xFF : $0.element }, "not valid UTF-8"),
  ("unknown dtype", file(header: #"{"x":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, data: [1]), "unsupported dtype I8"),
  ("negative dimension", file(header: #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "non-negative integers"),
  ("fractional dimension", file(header: #"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "non-negative integers"),
  ("offsets out of order", file(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), "out of order"),
  ("truncated data", file(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), "past the 4 bytes of data"),
  ("size mismatch", file(header: #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "needs 12 bytes"),
  ("overlap", file(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)), "overlaps"),
  ("hole", file(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)), "hole"),
  ("trailing bytes", file(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 12)), "not described"),
  ("absurd shape", file(header: #"{"x":{"dtype":"F32","shape":[100000,100000,100000],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "more elements than the file has bytes"),
  ("missing offsets", file(header: #"{"x":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]), "data_offsets must be"),
  ("bad metadata", file(header: #"{"__metadata__":{"a":1}}"#, data: []), "is not a string"),
  ("unknown field", file(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, data: [0, 0, 0, 0]), "unknown field 'extra'"),
])
func hostileFilesGiveTheirOwnClearError(name: String, bytes: [UInt8], problem: String) {
  do {
    _ = try Safetensors.decode(bytes, source: "m.safetensors")
    Issue.record("\(name): accepted")
  } catch {
    #expect(error.description.hasPrefix("m.safetensors: "), "\(name): \(error)")
    #expect(error.problem.contains(problem), "\(name): \(error)")
  }
}

@Test func writingRefusesRepeatedNames() {
  #expect(throws: SafetensorsError.self) { try Safetensors.encode([("a", Tensor([1])), ("a", Tensor([2]))]) }
}
