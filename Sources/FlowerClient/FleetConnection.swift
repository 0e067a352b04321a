import CCurl
import Crypto
import FlowerProtos
import Foundation
import SwiftProtobuf

/// A Fleet API call that failed for good; says which call, and what the SuperLink answered.
public struct FleetError: Error, CustomStringConvertible {
  public var call: String
  /// The HTTP status, or nil when the SuperLink could not be reached.
  public var status: Int?
  public var detail: String
  public var description: String {
    status.map { "\(call): the SuperLink answered HTTP \($0): \(detail)" } ?? "\(call): \(detail)"
  }
}

/// How long to keep trying a SuperLink that does not answer (down, restarting).
public struct RetryPolicy: Sendable {
  public var firstDelay: TimeInterval = 0.5
  public var maximumDelay: TimeInterval = 8
  /// Give up after this long without an answer.
  public var window: TimeInterval = 60
  public init(firstDelay: TimeInterval = 0.5, maximumDelay: TimeInterval = 8, window: TimeInterval = 60) {
    self.firstDelay = firstDelay
    self.maximumDelay = maximumDelay
    self.window = window
  }
}

/// The node's side of Flower 1.42's Fleet API: protobuf over HTTP or HTTPS (`POST /v1/fleet/<rpc>`), every
/// request signed with the node's P-384 key (ECDSA-SHA256 over an ISO-8601 timestamp), as the SuperLink requires
/// even without node authentication. Unanswered calls are retried with exponential backoff within the policy's
/// window; a certificate that is not trusted stops the first call.
public final class FleetConnection: @unchecked Sendable {
  public let baseURL: String
  let key: P384.Signing.PrivateKey
  /// The public key as PEM SubjectPublicKeyInfo (what RegisterNode and the `flwr-public-key` header carry).
  public let publicKeyPEM: Data
  let retry: RetryPolicy
  /// A PEM file of the certificates to trust for an https SuperLink; nil: the system's trust store.
  let rootCertificates: String?
  let log: @Sendable (String) -> Void
  /// Seconds added to this machine's clock when signing, learnt from the SuperLink's `Date` header when it
  /// refuses a timestamp (clock skew).
  private let clockOffset = LockedValue<TimeInterval>(0)
  /// How far this node's clock is off (seconds); for testing how a skewed clock is handled.
  public var simulatedClockError: TimeInterval = 0

  /// `superlink`: HOST:PORT or an http(s) URL; HOST:PORT means https when `rootCertificates` is given, else http.
  public init(
    superlink: String, key: P384.Signing.PrivateKey = .init(), rootCertificates: String? = nil, retry: RetryPolicy = .init(),
    log: @escaping @Sendable (String) -> Void
  ) {
    baseURL = Self.url(superlink, tls: rootCertificates != nil)
    self.key = key
    publicKeyPEM = Data((key.publicKey.pemRepresentation + "\n").utf8)
    self.retry = retry
    self.rootCertificates = rootCertificates
    self.log = log
  }

  /// The SuperLink's base URL: an http(s) URL as given, HOST:PORT with the scheme `tls` asks for.
  public static func url(_ superlink: String, tls: Bool) -> String {
    superlink.hasPrefix("http://") || superlink.hasPrefix("https://") ? superlink : (tls ? "https://" : "http://") + superlink
  }

  /// Python's `datetime.now(timezone.utc).isoformat()`: `2026-11-25T08:23:14.123456+00:00`.
  static func timestamp(_ date: Date) -> String {
    let seconds = date.timeIntervalSince1970
    let whole = floor(seconds)
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: whole))
    let micro = min(999_999, Int(((seconds - whole) * 1_000_000).rounded()))
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!, micro)
  }

  func signedHeaders() throws -> [String: String] {
    let stamp = Self.timestamp(Date().addingTimeInterval(simulatedClockError + clockOffset.value))
    let signature = try key.signature(for: SHA256.hash(data: Data(stamp.utf8)))
    return [
      "flwr-public-key": publicKeyPEM.base64EncodedString(),
      "flwr-timestamp": stamp,
      "flwr-signature": signature.derRepresentation.base64EncodedString(),
      "flwr-component-name": "backdoor-lab",
    ]
  }

  /// One RPC: `name` is the kebab-case path (`pull-messages`).
  public func call<Response: SwiftProtobuf.Message>(_ name: String, _ request: some SwiftProtobuf.Message, as: Response.Type) throws(FleetError) -> Response {
    let body: Data
    do { body = try request.serializedData() } catch { throw FleetError(call: name, status: nil, detail: "cannot encode the request: \(error)") }
    let started = Date()
    var delay = retry.firstDelay
    var correctedClock = false
    while true {
      let sent = Date()
      let outcome = post(name, body)
      let received = Date()
      switch outcome {
      case .answer(let status, let data, let serverDate):
        if (200..<300).contains(status) {
          do { return try Response(serializedBytes: data) } catch {
            throw FleetError(call: name, status: status, detail: "the answer is not a \(Response.protoMessageName) (\(data.count) bytes)")
          }
        }
        let detail = String(decoding: data.prefix(300), as: UTF8.self)
        // A refused timestamp: sign with the SuperLink's clock once and try again. The Date header is whole seconds,
        // stamped somewhere between sending and receiving: compare the middle of its second with the middle of the call.
        let ownClock = sent.addingTimeInterval(received.timeIntervalSince(sent) / 2 + simulatedClockError)
        if status == 401 || status == 403, !correctedClock, let serverDate, abs(serverDate.addingTimeInterval(0.5).timeIntervalSince(ownClock)) > 4 {
          let skew = serverDate.addingTimeInterval(0.5).timeIntervalSince(ownClock)
          log(String(format: "warning: this node's clock is %.0f s %@ the SuperLink's; signing with the SuperLink's time", abs(skew), skew > 0 ? "behind" : "ahead of"))
          clockOffset.value = skew
          correctedClock = true
          continue
        }
        if status >= 500 && Date().timeIntervalSince(started) < retry.window {
          log("\(name): HTTP \(status); retrying in \(String(format: "%.1f", delay)) s")
        } else {
          throw FleetError(call: name, status: status, detail: detail)
        }
      case .refused(let reason):
        throw FleetError(call: name, status: nil, detail: reason)
      case .unreachable(let reason):
        guard Date().timeIntervalSince(started) < retry.window else {
          let hint = baseURL.hasPrefix("http://") ? "; a SuperLink with TLS needs an https:// address or --root-certificates" : ""
          throw FleetError(call: name, status: nil, detail: "no answer from \(baseURL) for \(Int(retry.window)) s (\(reason))\(hint)")
        }
        log("\(name): \(reason); retrying in \(String(format: "%.1f", delay)) s")
      }
      Thread.sleep(forTimeInterval: delay)
      delay = min(delay * 2, retry.maximumDelay)
    }
  }

  enum Outcome {
    case answer(status: Int, data: Data, serverDate: Date?)
    /// Nothing answered (yet): worth retrying.
    case unreachable(String)
    /// A failure that retrying cannot mend (an untrusted certificate, an unreadable CA file).
    case refused(String)
  }

  func post(_ name: String, _ body: Data) -> Outcome {
    let url = "\(baseURL)/v1/fleet/\(name)"
    var headers = ["content-type: application/protobuf", "accept: application/protobuf"]
    do {
      for (field, value) in try signedHeaders().sorted(by: { $0.key < $1.key }) { headers.append("\(field): \(value)") }
    } catch {
      return .refused("cannot sign the request: \(error)")
    }
    var response = bl_http_response()
    defer { bl_http_response_free(&response) }
    withCStrings(headers) { lines in
      body.withUnsafeBytes { bytes in
        bl_http_post(url, lines, Int32(lines.count), bytes.baseAddress, bytes.count, rootCertificates, 30, &response)
      }
    }
    let message = withUnsafeBytes(of: response.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    switch Int(response.failure) {
    case BL_HTTP_ANSWERED:
      let data = response.body.map { Data(bytes: $0, count: response.body_length) } ?? Data()
      let date = response.date_header.map { String(cString: $0) }.flatMap(Self.parseHTTPDate)
      return .answer(status: response.status, data: data, serverDate: date)
    case BL_HTTP_UNREACHABLE:
      return .unreachable(message)
    case BL_HTTP_UNTRUSTED:
      let trust = rootCertificates.map { "a CA in \($0)" } ?? "a CA in the system's trust store (or give --root-certificates)"
      return .refused(
        "TLS with \(baseURL) failed (\(message)): the SuperLink's certificate must be issued by \(trust) and name the address's host, and only a SuperLink that speaks TLS takes https")
    case BL_HTTP_BAD_CA_FILE:
      return .refused("\(rootCertificates ?? "the system's trust store"): no certificates could be read (\(message))")
    default:
      return .refused(message)
    }
  }

  static func parseHTTPDate(_ text: String) -> Date? {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return formatter.date(from: text)
  }
}

/// A value shared between threads behind a lock.
final class LockedValue<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value
  init(_ value: Value) { stored = value }
  var value: Value {
    get { lock.withLock { stored } }
    set { lock.withLock { stored = newValue } }
  }
}

/// Calls `body` with `strings` as an array of C strings that live for the call.
func withCStrings<Result>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
  let copies = strings.map { strdup($0) }
  defer { copies.forEach { free($0) } }
  return body(copies.map { UnsafePointer($0) })
}
