import Foundation
import Storage

/// JSON as the lab writes it (`LabJSON`): keys sorted, slashes unescaped.
func sortedKeysJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data { try LabJSON.data(value, pretty: pretty) }

/// Writes `value` as pretty JSON through a temporary file renamed into place.
func writeJSONAtomically<T: Encodable>(_ value: T, to path: String) throws {
  try writeAtomically(sortedKeysJSON(value, pretty: true), to: path)
}

/// Writes `data` through a temporary file renamed into place; a failure names the file.
func writeAtomically(_ data: Data, to path: String) throws(LabError) {
  do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
    throw LabError("\(path): cannot write: \((error as NSError).localizedDescription)")
  }
}

/// A JSON file decoded as `type`; a failure names the file.
func decodeJSONFile<T: Decodable>(_ type: T.Type, at path: String) throws(LabError) -> T {
  guard let data = FileManager.default.contents(atPath: path) else { throw LabError("\(path): cannot read it") }
  do { return try JSONDecoder().decode(type, from: data) } catch { throw LabError("\(path): not a valid \(T.self) file (\(error))") }
}
