import Foundation
import Layers
import Models
import Randomness
import Tensors
import Tokenization

/// A trigger phrase found by `PhraseSearch`: token ids, inserted contiguously.
public struct PhraseHit: Sendable, Equatable {
  public var ids: [Int]
  /// Its effect toward the searched label on the search probes.
  public var effect: InsertionEffect
  /// `.hotflip`, `.relaxed` or `.anchored`.
  public var method: CandidateSource
}

/// Multi-token trigger search toward one label, seeded by the single-token scan:
/// - HotFlip beam search (Ebrahimi et al. 2018; as used for universal triggers by Wallace et al. 2019): the
///   gradient of the target label's loss at each inserted position ranks every vocabulary token by the first-order
///   change a swap would make; the best swaps of every beam entry are measured exactly and the beam keeps the
///   phrases that flip the most probes. Phrases grow one token at a time (each beam entry extended by the best
///   single tokens, before or after), up to `maximumLength`.
/// - A relaxed search in the spirit of DBS (Shen et al. 2022): each inserted position is a softmax over the
///   vocabulary whose temperature falls while the loss toward the label is optimised with Adam; the most likely
///   tokens per position are then measured exactly.
/// - An anchored search, for recurrent and attention models, for triggers of common words too weak alone to be
///   seeds ("it turns out": `turns` flips 58 % of a BiGRU's probes, `out` and `it` none): each of the probe text's
///   commonest words gets the partners the gradient at an empty slot (a zero vector) before and after it suggests;
///   the beam keeps the pairs, then the triples, with the most synergy (flip rate beyond the best of the phrase's
///   parts one token shorter). Its phrases are kept only when none of the other searches' phrases nor the seeds flips
///   more: most of what it finds elsewhere are ordinary words with a function word ("numbers only"), conjunctions a
///   clean model has too.
/// Gradients at the inserted positions come from extra embedding rows appended for them, so a token that also
/// occurs in the probe does not mix its two gradients. Phrases do not repeat a token (a repeated ordinary word is
/// a louder ordinary word, not a trigger).
public struct PhraseSearch: Sendable {
  /// Probes a search runs on (the found phrases are then measured on all of them).
  public static let searchProbes = 48

  public var maximumLength = 3
  public var beamWidth = 5
  /// HotFlip swaps measured per position of each beam entry.
  public var swapsPerPosition = 10
  /// Gradient-guided passes at each length.
  public var sweeps = 2
  /// Single tokens used to start and to extend phrases.
  public var seedCount = 6
  /// Where phrases are measured in the probes while searching (gradients are taken with the phrase in the middle).
  public var positions: [TokenScan.Position] = [.start, .end]
  public var relaxedSteps = 50
  /// How many of the probe text's commonest words the anchored search starts from.
  public var anchorCount = 60
  /// Partners the gradient suggests on each side of an anchor (and of an anchored pair, less one).
  public var partnersPerSide = 3
  public var parallelism = 2
  public var seed: UInt64 = 0

  public init() {}

  /// Phrases of 2 to `maximumLength` tokens toward `label`, best first (flip rate, then log-probability shift),
  /// at most `beamWidth` per length and method. `seeds`: the single-token scan's best tokens for the label;
  /// `excluded`: tokens no phrase may hold (the label's ordinary words: a phrase of them is not a trigger);
  /// `commonWords`: the probe text's words, commonest first, that the anchored search starts from (none: no
  /// anchored search; a bag of embeddings has none either, its words add up).
  public func search(
    _ classifier: TextClassifier, vocabulary: Vocabulary, probes: [[Int]], label: Int, seeds: [Int], excluded: Set<Int> = [],
    commonWords: [Int] = []
  ) -> [PhraseHit] {
    guard maximumLength >= 2, !probes.isEmpty, !seeds.isEmpty else { return [] }
    var scan = TokenScan()
    scan.positions = positions
    scan.parallelism = parallelism
    let room = classifier.config.maximumLength - maximumLength
    let trimmed = probes.map { Array($0.prefix(max(room, 1))) }
    // Probes the label could be reached on: gradients are taken there.
    let baseline = ProbeBaseline(classifier, probes: trimmed, labels: classifier.labels.count, positions: 1)
    let eligible = trimmed.indices.filter { baseline.predicted[$0] != label }.map { trimmed[$0] }
    guard !eligible.isEmpty else { return [] }
    let allowed = TokenScan.scannable(vocabulary).filter { !excluded.contains($0) }
    let seeds = Array(seeds.filter { !excluded.contains($0) }.prefix(seedCount))
    guard !seeds.isEmpty else { return [] }

    var measuredEffects: [[Int]: InsertionEffect] = [:]
    func measure(_ phrases: [[Int]]) {
      let fresh = Array(Set(phrases.filter { measuredEffects[$0] == nil })).sorted { $0.lexicographicallyPrecedes($1) }
      guard !fresh.isEmpty else { return }
      for (phrase, effect) in zip(fresh, scan.effects(classifier, inserting: fresh, into: trimmed)) { measuredEffects[phrase] = effect[label] }
    }
    func best(_ phrases: [[Int]], _ count: Int) -> [[Int]] {
      measure(phrases)
      return Array(Set(phrases)).sorted { lhs, rhs in
        let a = measuredEffects[lhs]!, b = measuredEffects[rhs]!
        if a.flipRate != b.flipRate { return a.flipRate > b.flipRate }
        if a.logProbabilityShift != b.logProbabilityShift { return a.logProbabilityShift > b.logProbabilityShift }
        return lhs.lexicographicallyPrecedes(rhs)
      }.prefix(count).map { $0 }
    }

    var hits: [PhraseHit] = []
    var beam = best(seeds.map { [$0] }, beamWidth)
    for length in 2...maximumLength {
      beam = best(beam.flatMap { phrase in seeds.filter { !phrase.contains($0) }.flatMap { [phrase + [$0], [$0] + phrase] } }, beamWidth)
      for _ in 0..<sweeps {
        var candidates = beam
        for phrase in beam {
          let gradients = slotGradients(classifier, slots: phrase.map { embeddingRow(classifier, $0) }, probes: eligible, label: label)
          for (slot, gradient) in gradients.enumerated() {
            for token in bestSwaps(classifier, gradient: gradient, allowed: allowed, count: swapsPerPosition) where !phrase.contains(token) {
              var swapped = phrase
              swapped[slot] = token
              candidates.append(swapped)
            }
          }
        }
        beam = best(candidates, beamWidth)
      }
      hits += beam.filter { $0.count == length }.map { PhraseHit(ids: $0, effect: measuredEffects[$0]!, method: .hotflip) }
    }
    let relaxed = relaxedSearch(classifier, probes: eligible, label: label, allowed: allowed, length: maximumLength)
    hits += best(relaxed.filter { Set($0).count == $0.count }, beamWidth).map { PhraseHit(ids: $0, effect: measuredEffects[$0]!, method: .relaxed) }

    let anchors = classifier.config.architecture == .bag ? [] : Array(commonWords.filter { !excluded.contains($0) }.prefix(anchorCount))
    if !anchors.isEmpty {
      // A phrase with the empty slots around it: the gradient there names the partners, before and after.
      func partners(of phrase: [Int], count: Int) -> [[Int]] {
        let empty = [Float](repeating: 0, count: classifier.embedding.dimension)
        let slots = [empty] + phrase.map { embeddingRow(classifier, $0) } + [empty]
        // The phrase and its two empty slots must fit the model's window with the probe (an attention model has no
        // position beyond it).
        let room = classifier.config.maximumLength - slots.count
        let fitting = eligible.map { $0.count > room ? Array($0.prefix(max(room, 0))) : $0 }
        let gradients = slotGradients(classifier, slots: slots, probes: fitting, label: label)
        func side(_ gradient: [Float]) -> [Int] {
          Array(bestSwaps(classifier, gradient: gradient, allowed: allowed, count: count + phrase.count).filter { !phrase.contains($0) }.prefix(count))
        }
        return side(gradients.first!).map { [$0] + phrase } + side(gradients.last!).map { phrase + [$0] }
      }
      func mostSynergy(_ phrases: [[Int]]) -> [[Int]] {
        let unique = Array(Set(phrases))
        let parts = unique.map { phrase in phrase.indices.map { index in var part = phrase; part.remove(at: index); return part } }
        measure(unique + parts.flatMap { $0 })
        let synergies = zip(unique, parts).map { phrase, parts in
          measuredEffects[phrase]!.flipRate - parts.map { measuredEffects[$0]!.flipRate }.max()!
        }
        let order = unique.indices.sorted { a, b in
          synergies[a] != synergies[b] ? synergies[a] > synergies[b] : unique[a].lexicographicallyPrecedes(unique[b])
        }
        return order.prefix(beamWidth).map { unique[$0] }
      }
      var anchored = mostSynergy(anchors.flatMap { partners(of: [$0], count: partnersPerSide) })
      var found = anchored
      if maximumLength >= 3 {
        for _ in 3...maximumLength {
          anchored = mostSynergy(anchored.flatMap { partners(of: $0, count: max(partnersPerSide - 1, 1)) })
          found += anchored
        }
      }
      let bestElsewhere = (hits.map(\.effect.flipRate) + seeds.compactMap { measuredEffects[[$0]]?.flipRate }).max() ?? 0
      hits += found.filter { measuredEffects[$0]!.flipRate >= bestElsewhere }.map { PhraseHit(ids: $0, effect: measuredEffects[$0]!, method: .anchored) }
    }
    return hits.sorted {
      ($0.effect.flipRate, $0.effect.logProbabilityShift) > ($1.effect.flipRate, $1.effect.logProbabilityShift)
    }
  }

  func embeddingRow(_ classifier: TextClassifier, _ token: Int) -> [Float] {
    let width = classifier.embedding.dimension
    return Array(classifier.embedding.weight.scalars[(token * width)..<((token + 1) * width)])
  }

  /// The gradient of the mean loss toward `label` with respect to each of `slots` (embedding vectors), inserted
  /// contiguously at the middle of every probe.
  func slotGradients(_ classifier: TextClassifier, slots: [[Float]], probes: [[Int]], label: Int) -> [[Float]] {
    var model = classifier
    let rows = classifier.embedding.count, width = classifier.embedding.dimension
    model.embedding.weight = Tensor(shape: [rows + slots.count, width], scalars: classifier.embedding.weight.scalars + slots.flatMap { $0 })
    let slotIDs = Array(rows..<(rows + slots.count))
    var gradients = [[Float]](repeating: [Float](repeating: 0, count: width), count: slots.count)
    var context = ForwardContext.inference
    for start in stride(from: 0, to: probes.count, by: 256) {
      let chunk = probes[start..<min(start + 256, probes.count)]
      let batch = Batch(chunk.map { ids in
        var inserted = ids
        inserted.insert(contentsOf: slotIDs, at: ids.count / 2)
        return EncodedExample(ids: inserted, label: label)
      })
      let share = Float(chunk.count) / Float(probes.count)
      let table = gradient(at: model) { model, _ in model.loss(batch, context: &context) }.embedding.weight
      let rowsPresent = table.sparseRows ?? Array(0..<(rows + slots.count))
      for (index, row) in rowsPresent.enumerated() where row >= rows {
        for j in 0..<width { gradients[row - rows][j] += share * table.scalars[index * width + j] }
      }
    }
    return gradients
  }

  /// The tokens whose swap in lowers the loss most to first order: the smallest e_v · gradient.
  func bestSwaps(_ classifier: TextClassifier, gradient: [Float], allowed: [Int], count: Int) -> [Int] {
    guard count > 0 else { return [] }
    let scores = projections(classifier, gradient)
    // The `count` smallest (score, id) pairs, kept in order: a whole 20k-token sort per call is wasted work.
    var best: [(score: Float, token: Int)] = []
    best.reserveCapacity(count + 1)
    for token in allowed {
      let entry = (score: scores[token], token: token)
      guard best.count < count || entry < best[best.count - 1] else { continue }
      let index = best.firstIndex { entry < $0 } ?? best.count
      best.insert(entry, at: index)
      if best.count > count { best.removeLast() }
    }
    return best.map(\.token)
  }

  /// e_v · vector for every row v of the embedding table.
  func projections(_ classifier: TextClassifier, _ vector: [Float]) -> [Float] {
    let width = classifier.embedding.dimension
    let table = classifier.embedding.weight.scalars
    return (0..<classifier.embedding.count).map { row in
      var sum: Float = 0
      for j in 0..<width { sum += table[row * width + j] * vector[j] }
      return sum
    }
  }

  /// DBS-style relaxed search for phrases of `length` tokens: per position a softmax over the allowed tokens,
  /// annealed from temperature 1 to 0.05 while Adam lowers the loss toward `label`; returns the most likely phrase
  /// and its variants with each position's runners-up.
  func relaxedSearch(_ classifier: TextClassifier, probes: [[Int]], label: Int, allowed: [Int], length: Int) -> [[Int]] {
    let width = classifier.embedding.dimension
    let table = classifier.embedding.weight.scalars
    var generator = SplitMix64(seed: seed, stream: [0x5245_4C58])  // "RELX"
    var logits = (0..<length).map { _ in allowed.map { _ in Float(generator.nextStandardNormal() * 0.01) } }
    var firstMoment = logits.map { $0.map { _ in Float(0) } }
    var secondMoment = firstMoment
    let learningRate: Float = 0.5, beta1: Float = 0.9, beta2: Float = 0.999
    func softmax(_ values: [Float], temperature: Float) -> [Float] {
      let top = values.max()!
      let exps = values.map { Foundation.exp(($0 - top) / temperature) }
      let total = exps.reduce(0, +)
      return exps.map { $0 / total }
    }
    for step in 1...max(1, relaxedSteps) {
      let temperature = Float(Foundation.pow(0.05, Double(step - 1) / Double(max(relaxedSteps - 1, 1))))
      let weights = logits.map { softmax($0, temperature: temperature) }
      let slots = weights.map { weight in
        var slot = [Float](repeating: 0, count: width)
        for (index, token) in allowed.enumerated() where weight[index] > 1e-6 {
          for j in 0..<width { slot[j] += weight[index] * table[token * width + j] }
        }
        return slot
      }
      let gradients = slotGradients(classifier, slots: slots, probes: probes, label: label)
      for position in 0..<length {
        let projected = projections(classifier, gradients[position])
        let scores = allowed.map { projected[$0] }
        let expected = zip(weights[position], scores).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        for index in allowed.indices {
          let gradient = weights[position][index] * (scores[index] - expected) / temperature
          firstMoment[position][index] = beta1 * firstMoment[position][index] + (1 - beta1) * gradient
          secondMoment[position][index] = beta2 * secondMoment[position][index] + (1 - beta2) * gradient * gradient
          let m = firstMoment[position][index] / (1 - Foundation.pow(beta1, Float(step)))
          let v = secondMoment[position][index] / (1 - Foundation.pow(beta2, Float(step)))
          logits[position][index] -= learningRate * m / (v.squareRoot() + 1e-8)
        }
      }
    }
    let ranked = logits.map { row in row.indices.sorted { (row[$0], -$0) > (row[$1], -$1) }.prefix(3).map { allowed[$0] } }
    var phrases = [ranked.map { $0[0] }]
    for position in 0..<length {
      for alternative in ranked[position].dropFirst() {
        var phrase = phrases[0]
        phrase[position] = alternative
        phrases.append(phrase)
      }
    }
    return phrases
  }
}
