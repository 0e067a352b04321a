import CICU
import Synchronization

/// ICU's NFKC_Casefold over whole strings: "ＦＵＬＬＷＩＤＴＨ Café" → "fullwidth café".
/// The tokeniser applies the same normalisation per token; this is for text that is not tokenised
/// (labels, trigger specs shown to a person, tests).
public final class Normalizer: Sendable {
  private let handle: Mutex<Handle>

  public init() throws(TokenizationError) {
    var status: Int32 = 0
    guard let pointer = bl_normalizer_open(&status), status <= 0 else {
      throw .icu(operation: "NFKC_Casefold normalizer", code: String(cString: bl_error_name(status)))
    }
    handle = Mutex(Handle(pointer: OpaquePointer(pointer)))
  }

  public func normalize(_ text: String) -> String {
    var copy = text
    return copy.withUTF8 { bytes in
      handle.withLock { handle in
        var length: Int32 = 0, status: Int32 = 0
        guard let output = bl_normalizer_normalize(UnsafeMutableRawPointer(handle.pointer), bytes.baseAddress, Int32(bytes.count), &length, &status) else {
          preconditionFailure("ICU normalisation failed: \(String(cString: bl_error_name(status)))")
        }
        return String(decoding: UnsafeBufferPointer(start: output, count: Int(length)), as: UTF8.self)
      }
    }
  }

  // @unchecked: the pointer is only used under the lock.
  struct Handle: ~Copyable, @unchecked Sendable {
    let pointer: OpaquePointer
    deinit { bl_normalizer_close(UnsafeMutableRawPointer(pointer)) }
  }
}

/// The ICU version the lab is linked against, e.g. "72.1".
public var icuVersion: String {
  var buffer = [CChar](repeating: 0, count: 32)
  bl_icu_version(&buffer, Int32(buffer.count))
  return String(cString: buffer)
}
