import Foundation

/// JSON as the lab writes it everywhere (reports, records, manifests): keys sorted, slashes unescaped, pretty for
/// files people read.
public enum LabJSON {
  public static func data<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
  }

  /// Writes `value` as pretty JSON through a temporary file renamed into place.
  public static func write<T: Encodable>(_ value: T, to path: String) throws {
    try data(value, pretty: true).write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}
