/// What stops an audit: a model or probe set it cannot work with. The message names the file or setting.
public struct AuditError: Error, Equatable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
