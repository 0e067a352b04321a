import Crypto
import FlowerProtos
import Foundation
import Testing
import TestSupport

@testable import FlowerClient

private func fixture(_ name: String) -> String { Fixtures.path("Tests/Fixtures/node-keys/" + name) }

@Test func aNodeKeyIsReadFromOpenSSHAndPEMAlike() throws {
  let openSSH = try NodeKey.load(orCreate: fixture("node.key"))
  let pkcs8 = try NodeKey.load(orCreate: fixture("node-pkcs8.pem"))
  let sec1 = try NodeKey.load(orCreate: fixture("node-sec1.pem"))
  #expect(openSSH.rawRepresentation == pkcs8.rawRepresentation)
  #expect(openSSH.rawRepresentation == sec1.rawRepresentation)
  // The public key written back in OpenSSH form is the line ssh-keygen wrote.
  let written = try String(contentsOfFile: fixture("node.key.pub"), encoding: .utf8)
  #expect(NodeKey.openSSHPublicKey(openSSH.publicKey, comment: "fixture-node") == written)
}

@Test func encryptedForeignAndCorruptKeysAreRefusedNamingTheFile() throws {
  let cases: [(String, String)] = [
    (fixture("encrypted.key"), "is encrypted"),
    (fixture("ed25519.key"), "ssh-ed25519"),
    (fixture("node.key.pub"), "not a P-384 private key"),
  ]
  for (path, expected) in cases {
    #expect {
      try NodeKey.load(orCreate: path)
    } throws: { error in
      "\(error)".contains(path) && "\(error)".contains(expected)
    }
  }
  let directory = try Fixtures.temporaryDirectory()
  #expect(throws: FlowerProtocolError.self) { try NodeKey.load(orCreate: directory) }
}

@Test func aMissingNodeKeyIsCreatedOnceWithAPublicKeyFlowerCanRegister() throws {
  let path = try Fixtures.temporaryDirectory() + "/node-3.key"
  let first = try NodeKey.load(orCreate: path)
  let again = try NodeKey.load(orCreate: path)
  #expect(first.rawRepresentation == again.rawRepresentation)
  let attributes = try FileManager.default.attributesOfItem(atPath: path)
  #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
  let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
  let fields = line.split(separator: " ")
  #expect(fields.count == 3 && fields[0] == "ecdsa-sha2-nistp384" && fields[2] == "backdoor-lab-node-node-3\n")
  // The blob: string type, string curve, string point (RFC 5656), the point this key's.
  var blob = SSHBlobReader(try #require(Data(base64Encoded: String(fields[1]))))
  #expect(String(decoding: try blob.string(), as: UTF8.self) == "ecdsa-sha2-nistp384")
  #expect(String(decoding: try blob.string(), as: UTF8.self) == "nistp384")
  #expect(try blob.string() == first.publicKey.x963Representation)
}

/// Thousands of mutated OpenSSH key files: each is read as a key or refused with an error, never a crash.
@Test func mutatedOpenSSHKeysAreReadOrRefused() throws {
  let text = try String(contentsOfFile: fixture("node.key"), encoding: .utf8)
  let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
  let decoded = Array(try #require(Data(base64Encoded: body)))
  var mutator = Mutator(seed: 11)
  var read = 0, refused = 0
  for _ in 0..<Mutator.iterations(standard: 2000) {
    let mutated = Data(mutator.mutate(decoded)).base64EncodedString()
    do {
      _ = try NodeKey.openSSHPrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\n\(mutated)\n-----END OPENSSH PRIVATE KEY-----\n")
      read += 1
    } catch {
      #expect(!"\(error)".isEmpty)
      refused += 1
    }
  }
  #expect(refused > 0 && read + refused == Mutator.iterations(standard: 2000))
}

@Test func anAddressWithoutSchemeIsHTTPSOnlyWithRootCertificates() {
  #expect(FleetConnection.url("10.0.0.5:8000", tls: false) == "http://10.0.0.5:8000")
  #expect(FleetConnection.url("10.0.0.5:8000", tls: true) == "https://10.0.0.5:8000")
  #expect(FleetConnection.url("https://link.example.org:8000", tls: false) == "https://link.example.org:8000")
}

@Test func anUnreadableCAFileStopsTheFirstCallWithoutRetrying() throws {
  let path = try Fixtures.temporaryDirectory() + "/ca.crt"
  try "not a certificate".write(toFile: path, atomically: true, encoding: .utf8)
  // A listening socket that never answers TLS: curl loads the CA file for the handshake and fails on it.
  let server = try LoopbackListener()
  let started = Date()
  let connection = FleetConnection(
    superlink: "127.0.0.1:\(server.port)", rootCertificates: path, retry: RetryPolicy(firstDelay: 0.1, maximumDelay: 0.2, window: 20), log: { _ in })
  #expect {
    _ = try connection.call("pull-messages", Flwr_Proto_PullMessagesRequest(), as: Flwr_Proto_PullMessagesResponse.self)
  } throws: { error in
    "\(error)".contains(path) && "\(error)".contains("no certificates could be read")
  }
  #expect(Date().timeIntervalSince(started) < 10, "a bad CA file is not retried")
}

/// A TCP socket listening on 127.0.0.1 (a free port) that never answers: connections complete in the kernel's backlog.
private final class LoopbackListener {
  let descriptor: Int32
  let port: UInt16
  init() throws {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.descriptor = descriptor
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(descriptor, pointer, length) == 0 && listen(descriptor, 4) == 0 && getsockname(descriptor, pointer, &length) == 0
      }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    port = UInt16(bigEndian: address.sin_port)
  }
  deinit { close(descriptor) }
}

@Test func anEmptyRequestIsPostedAsAnEmptyBodyAndTheAnswerRead() throws {
  let server = try LoopbackListener()
  let seen = LockedValue("")
  let listening = server.descriptor
  let serving = Thread {
    let connection = accept(listening, nil, nil)
    guard connection >= 0 else { return }
    defer { close(connection) }
    var request = [UInt8](repeating: 0, count: 4096)
    var received = 0
    while received < request.count {
      let count = read(connection, &request[received], request.count - received)
      if count <= 0 { break }
      received += count
      if String(decoding: request[..<received], as: UTF8.self).contains("\r\n\r\n") { break }
    }
    seen.value = String(decoding: request[..<received], as: UTF8.self)
    let answer = "HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 10:00:00 GMT\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    _ = answer.withCString { write(connection, $0, strlen($0)) }
  }
  serving.start()
  let connection = FleetConnection(superlink: "127.0.0.1:\(server.port)", retry: RetryPolicy(firstDelay: 0.1, maximumDelay: 0.2, window: 5), log: { _ in })
  _ = try connection.call("pull-messages", Flwr_Proto_PullMessagesRequest(), as: Flwr_Proto_PullMessagesResponse.self)
  let request = seen.value.lowercased()
  #expect(request.hasPrefix("post /v1/fleet/pull-messages http/1.1"))
  #expect(request.contains("content-length: 0") && request.contains("flwr-signature: "))
  #expect(!request.contains("expect: 100-continue"))
}
