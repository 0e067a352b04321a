import Crypto
import Federated
import Foundation
import Randomness

/// Secure aggregation by pairwise masking (Bonawitz et al. 2017; no dropout recovery): every pair of the round's
/// clients agrees a key (X25519, then HKDF-SHA256 bound to the round and the pair), expands it with ChaCha20 into
/// a mask, and client i adds the mask of each pair (i, j) with j > i and subtracts it when j < i. Updates are
/// clipped by the clients (`clientClipBound`), clamped to ±`range` and encoded in fixed point modulo 2³², so the
/// masks cancel exactly in the server's sum and the server learns only Σ xᵢ. It averages uniformly and may add
/// central Gaussian noise (weak DP). Keys are fresh random numbers each round; the result does not depend on them.
public struct SecureAggregation: Aggregator {
  public var clientClipBound: Double?
  public var noiseStandardDeviation: Double
  public var seed: UInt64
  /// Largest |coordinate| a client may send: larger ones are clamped to it, and the client's verdict is `clamped`
  /// (the clients know; the server, which sees only masked sums, would not). The encoding's step is about
  /// range × clients / 2³¹.
  public var range: Double

  public init(clientClipBound: Double? = nil, noiseStandardDeviation: Double = 0, seed: UInt64 = 0, range: Double = 8) {
    self.clientClipBound = clientClipBound
    self.noiseStandardDeviation = noiseStandardDeviation
    self.seed = seed
    self.range = range
  }

  public var name: String { "SecureAggregation" + (clientClipBound.map { "(client clip \($0))" } ?? "") + (noiseStandardDeviation > 0 ? " + noise" : "") }

  /// Fixed-point scale 2^bits for `clients` summands: the largest that keeps the sum inside Int32.
  func scaleBits(clients: Int) -> Int {
    max(0, min(30, Int(log2(Double(Int32.max) / (Double(clients) * range)).rounded(.down))))
  }

  /// What each client sends: its clipped, encoded and masked update (exposed for tests: they must look random).
  func maskedInputs(_ ordered: [ClientUpdate], round: Int) throws -> [[UInt32]] {
    let n = ordered.count, count = ordered[0].delta.count
    let scale = Double(1 << scaleBits(clients: n))
    let keys = ordered.map { _ in Curve25519.KeyAgreement.PrivateKey() }
    var inputs: [[UInt32]] = ordered.map { update in
      var x = update.delta
      if let bound = clientClipBound { ParameterVector.project(&x, ontoBallOfRadius: bound) }
      return x.map { UInt32(bitPattern: Int32((Double(min(max($0, Float(-range)), Float(range))) * scale).rounded())) }
    }
    for i in 0..<n {
      for j in (i + 1)..<max(n, i + 1) {
        // Both ends derive the same mask from their own private key and the other's public key.
        let secret = try keys[i].sharedSecretFromKeyAgreement(with: keys[j].publicKey)
        let info = Array("backdoor-lab mask round \(round) clients \(ordered[i].client) \(ordered[j].client)".utf8)
        let key = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: [UInt8](), sharedInfo: info, outputByteCount: 32)
        let mask = try Self.stream(key: key, count: count)
        for k in 0..<count {
          inputs[i][k] = inputs[i][k] &+ mask[k]
          inputs[j][k] = inputs[j][k] &- mask[k]
        }
      }
    }
    return inputs
  }

  /// `count` pseudo-random words: ChaCha20 over zeros (the key is used for this one stream only).
  static func stream(key: SymmetricKey, count: Int) throws -> [UInt32] {
    let sealed = try ChaChaPoly.seal(Data(count: count * 4), using: key, nonce: ChaChaPoly.Nonce(data: Data(count: 12)))
    return sealed.ciphertext.withUnsafeBytes { bytes in (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) } }
  }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let ordered = updates.sorted { $0.client < $1.client }
    let inputs: [[UInt32]]
    do { inputs = try maskedInputs(ordered, round: round) } catch {
      preconditionFailure("key agreement or ChaCha20 failed: \(error)")  // swift-crypto fails only on malformed keys, which are made here
    }
    // The server's whole view: the masked inputs; their sum is Σ encoded updates (mod 2³²).
    var sum = [UInt32](repeating: 0, count: inputs[0].count)
    for input in inputs { for k in sum.indices { sum[k] = sum[k] &+ input[k] } }
    let scale = Float(1 << scaleBits(clients: ordered.count))
    var delta = sum.map { Float(Int32(bitPattern: $0)) / scale / Float(ordered.count) }
    if noiseStandardDeviation > 0 {
      var generator = SplitMix64(seed: seed, stream: [0x5345_4341, UInt64(round)])  // "SECA"
      for k in delta.indices { delta[k] += Float(generator.nextStandardNormal() * noiseStandardDeviation) }
    }
    return AggregationResult(delta: delta, verdicts: Dictionary(uniqueKeysWithValues: ordered.map { update in
      (update.client, clamps(update) ? .clamped : .kept)
    }))
  }

  /// Whether any coordinate of the update, after the client's clipping, lies beyond ±range.
  func clamps(_ update: ClientUpdate) -> Bool {
    var x = update.delta
    if let bound = clientClipBound { ParameterVector.project(&x, ontoBallOfRadius: bound) }
    let limit = Float(range)
    return x.contains { abs($0) > limit }
  }
}
