import Crypto
import Foundation

/// A node's P-384 signing key on disk. Reads the two forms people have: PEM (PKCS#8 `PRIVATE KEY` or SEC1
/// `EC PRIVATE KEY`, what `openssl` and Python's `cryptography` write) and OpenSSH's own format (what
/// `ssh-keygen -t ecdsa -b 384 -N ""` writes, as Flower's documentation generates node keys). A missing file is
/// created, with the public key beside it as `FILE.pub` in OpenSSH form, the form `flwr supernode register` reads.
public enum NodeKey {
  public static func load(orCreate path: String) throws(FlowerProtocolError) -> P384.Signing.PrivateKey {
    guard let data = FileManager.default.contents(atPath: path) else {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        throw FlowerProtocolError("\(path): cannot read the node key\(isDirectory.boolValue ? " (a folder)" : "")")
      }
      return try create(at: path)
    }
    let text = String(decoding: data, as: UTF8.self)
    do {
      if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") { return try openSSHPrivateKey(text) }
      return try P384.Signing.PrivateKey(pemRepresentation: text)
    } catch let error as FlowerProtocolError {
      throw FlowerProtocolError("\(path): \(error.description)")
    } catch {
      throw FlowerProtocolError("\(path): not a P-384 private key in PEM or OpenSSH form (\(error))")
    }
  }

  /// `ecdsa-sha2-nistp384 AAAA… comment`: the public key as an OpenSSH `.pub` line.
  public static func openSSHPublicKey(_ key: P384.Signing.PublicKey, comment: String) -> String {
    var blob = SSHBlobWriter()
    blob.string("ecdsa-sha2-nistp384")
    blob.string("nistp384")
    blob.bytes(key.x963Representation)
    return "ecdsa-sha2-nistp384 \(blob.data.base64EncodedString()) \(comment)\n"
  }

  static func create(at path: String) throws(FlowerProtocolError) -> P384.Signing.PrivateKey {
    let key = P384.Signing.PrivateKey()
    do {
      let url = URL(fileURLWithPath: path)
      try Data(key.pemRepresentation.utf8).write(to: url, options: .atomic)
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
      let comment = "backdoor-lab-node-" + url.deletingPathExtension().lastPathComponent
      try Data(openSSHPublicKey(key.publicKey, comment: comment).utf8).write(to: URL(fileURLWithPath: path + ".pub"), options: .atomic)
    } catch {
      throw FlowerProtocolError("\(path): cannot write the new node key (\(error))")
    }
    return key
  }

  /// The `openssh-key-v1` container (OpenSSH's PROTOCOL.key): one unencrypted ECDSA P-384 key.
  static func openSSHPrivateKey(_ text: String) throws -> P384.Signing.PrivateKey {
    let body = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
      .filter { !$0.isEmpty && !$0.hasPrefix("-----") }.joined()
    guard let data = Data(base64Encoded: body) else { throw FlowerProtocolError("the OpenSSH private key is not valid base64") }
    var reader = SSHBlobReader(data)
    guard try reader.fixed(15) == Data("openssh-key-v1\0".utf8) else { throw FlowerProtocolError("not an openssh-key-v1 private key") }
    let cipher = String(decoding: try reader.string(), as: UTF8.self)
    _ = try reader.string()  // KDF name
    _ = try reader.string()  // KDF options
    guard cipher == "none" else {
      throw FlowerProtocolError("the OpenSSH private key is encrypted (\(cipher)); write it without a passphrase (ssh-keygen -p -N \"\" -f FILE)")
    }
    guard try reader.uint32() == 1 else { throw FlowerProtocolError("the OpenSSH file must hold exactly one key") }
    _ = try reader.string()  // public key blob, repeated in the private section
    var secret = SSHBlobReader(try reader.string())
    guard try secret.uint32() == (try secret.uint32()) else { throw FlowerProtocolError("the OpenSSH private key's check words differ (corrupt or encrypted)") }
    let type = String(decoding: try secret.string(), as: UTF8.self)
    guard type == "ecdsa-sha2-nistp384" else {
      throw FlowerProtocolError("the OpenSSH key is \(type); Flower nodes sign with ECDSA P-384 (ssh-keygen -t ecdsa -b 384)")
    }
    _ = try secret.string()  // curve name
    let publicPoint = try secret.string()
    var scalar = try secret.string()  // an mpint: big-endian, a leading zero byte when the top bit is set
    while scalar.count > 48, scalar.first == 0 { scalar.removeFirst() }
    guard scalar.count <= 48 else { throw FlowerProtocolError("the OpenSSH private scalar has \(scalar.count) bytes; P-384 has 48") }
    let key = try P384.Signing.PrivateKey(rawRepresentation: Data(repeating: 0, count: 48 - scalar.count) + scalar)
    guard key.publicKey.x963Representation == publicPoint else { throw FlowerProtocolError("the OpenSSH private key does not match its public key") }
    return key
  }
}

/// Reads SSH wire-format fields (RFC 4251: big-endian uint32, length-prefixed strings), refusing to read past the end.
struct SSHBlobReader {
  private let data: Data
  private var offset: Int
  init(_ data: Data) {
    self.data = Data(data)
    offset = 0
  }
  mutating func fixed(_ count: Int) throws(FlowerProtocolError) -> Data {
    guard count >= 0, count <= data.count - offset else { throw FlowerProtocolError("the OpenSSH key ends early (corrupt)") }
    defer { offset += count }
    return data.subdata(in: offset..<offset + count)
  }
  mutating func uint32() throws(FlowerProtocolError) -> UInt32 {
    try fixed(4).reduce(0) { $0 << 8 | UInt32($1) }
  }
  mutating func string() throws(FlowerProtocolError) -> Data {
    let length = try uint32()
    guard length <= UInt32(Int32.max) else { throw FlowerProtocolError("the OpenSSH key ends early (corrupt)") }
    return try fixed(Int(length))
  }
}

struct SSHBlobWriter {
  var data = Data()
  mutating func bytes(_ value: Data) {
    let length = UInt32(value.count)
    data.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
    data.append(value)
  }
  mutating func string(_ value: String) { bytes(Data(value.utf8)) }
}
