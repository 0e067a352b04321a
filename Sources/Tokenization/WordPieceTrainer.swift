/// Learns a WordPiece vocabulary from text the way the `tokenizers` package's `WordPieceTrainer` does: byte-pair
/// merges over each word's characters, the pieces after a word's first carrying the continuation prefix (`##`).
///
/// 1. Words: BERT's basic tokenizer as `options` set it (the steps of `WordPieceEngine` before the pieces), counted.
/// 2. Alphabet: every character of the words on its own, then every one that continues a word with the prefix, each by
///    code point; when it does not fit, its most frequent pieces (a word with a character left out becomes the
///    unknown token).
/// 3. Merges: the adjacent pair of pieces that occurs most often in the counted words (ties: the pair of older pieces,
///    as below) becomes one piece, `a` + `b` without its prefix, in every word, until the vocabulary holds
///    `size` entries or no pair occurs `minimumPairCount` times.
///
/// The vocabulary is the lab's four special tokens, the alphabet, then the merged pieces in the order they were made.
/// A greedy longest-match tokenizer over it covers every word of the counted text whose characters are all in the
/// alphabet.
public struct WordPieceTrainer: Sendable {
  /// Entries in all, the four special tokens included.
  public var size: Int
  /// Pairs seen fewer times than this in the counted words are not merged.
  public var minimumPairCount = 2
  /// A `wordpiece` tokenizer's options: lowercasing, accent stripping, the continuation prefix, the longest word.
  public var options: TokenizerOptions

  public init(size: Int, options: TokenizerOptions = .wordPiece()) {
    self.size = size
    self.options = options
  }

  /// How often each word of `texts` occurs, as BERT's basic tokenizer with `options` cuts them (words longer than the
  /// options' limit left out: the tokenizer makes them the unknown token).
  public func countWords(in texts: some Sequence<String>) throws(TokenizationError) -> TokenCounts {
    guard options.kind == .wordpiece else { throw .unsupported("a WordPiece vocabulary is learnt with wordpiece tokenizer options") }
    if let problem = options.validationProblems().first { throw .unsupported(problem) }
    let placeholder: Vocabulary
    do {
      placeholder = try Vocabulary(tokenList: Vocabulary.specialTokens, source: "WordPieceTrainer")
    } catch {
      preconditionFailure("the special tokens make a vocabulary")
    }
    var engine = try WordPieceEngine(options: options, vocabulary: placeholder, splitsWords: false)
    let unknown = placeholder.tokens[placeholder.unknownID]
    var counts = TokenCounts()
    var words: [String] = []
    for text in texts {
      words.removeAll(keepingCapacity: true)
      var copy = text
      copy.withUTF8 { bytes in
        engine.segment(bytes) { _, _, word in words.append(String(decoding: word, as: UTF8.self)) }
      }
      counts.add(words.lazy.filter { $0 != unknown })
    }
    return counts
  }

  /// A WordPiece vocabulary learnt from `texts` and the tokenizer that reads text with it.
  public func tokenization(learntFrom texts: some Sequence<String>) throws -> (tokenizer: Tokenizer, vocabulary: Vocabulary) {
    let vocabulary = try vocabulary(from: try countWords(in: texts))
    return (try Tokenizer(options: options, vocabulary: vocabulary), vocabulary)
  }

  /// The vocabulary learnt from `words` (`countWords`).
  public func vocabulary(from words: TokenCounts) throws(VocabularyError) -> Vocabulary {
    let room = size - Vocabulary.specialTokens.count
    guard room > 0 else { throw .invalidOption("a WordPiece vocabulary of \(size) entries leaves no room beyond the \(Vocabulary.specialTokens.count) special tokens") }
    var pieces = PieceTable()
    // Words in a fixed order, so that nothing depends on a dictionary's.
    let counted = words.counts.sorted { $0.key < $1.key }
    // The alphabet, whose order gives the piece ids that break ties between pairs: every character on its own, then
    // every one that continues a word with the prefix, each by code point (the `tokenizers` package orders the first
    // so and the second as it meets them).
    var characters = Set<Unicode.Scalar>(), continuations = Set<Unicode.Scalar>()
    for (word, _) in counted {
      characters.formUnion(word.unicodeScalars)
      continuations.formUnion(word.unicodeScalars.dropFirst())
    }
    for scalar in characters.sorted(by: { $0.value < $1.value }) { _ = pieces.id(of: String(scalar)) }
    for scalar in continuations.sorted(by: { $0.value < $1.value }) { _ = pieces.id(of: options.continuationPrefix + String(scalar)) }
    var sequences = counted.map { word, _ in
      word.unicodeScalars.enumerated().map { index, scalar in pieces.id(of: (index == 0 ? "" : options.continuationPrefix) + String(scalar)) }
    }
    let weights = counted.map(\.value)

    // An alphabet larger than the room keeps its most frequent pieces (ties: the older), in their order.
    var alphabet = Array(0..<pieces.count)
    if alphabet.count > room {
      var occurrences = [Int](repeating: 0, count: pieces.count)
      for (sequence, weight) in zip(sequences, weights) { for piece in sequence { occurrences[piece] += weight } }
      alphabet = Array(alphabet.sorted { (occurrences[$0], -$0) > (occurrences[$1], -$1) }.prefix(room)).sorted()
    }
    var tokens = Vocabulary.specialTokens + alphabet.map { pieces.texts[$0] }
    var inVocabulary = Set(alphabet)
    // (An alphabet cut to the size leaves no room for merges.)
    var pairs = PairCounts()
    for word in sequences.indices { pairs.add(sequences[word], weight: weights[word], word: word) }
    var queue = PairQueue()
    for (pair, count) in pairs.counts.sorted(by: { $0.key < $1.key }) where count > 0 { queue.push(pair, count: count) }

    while tokens.count < size, let (pair, count) = queue.popLargest(current: pairs.counts), count >= minimumPairCount {
      let (first, second) = PairCounts.split(pair)
      let merged = pieces.id(of: pieces.texts[first] + pieces.texts[second].dropFirst(options.continuationPrefix.count))
      if inVocabulary.insert(merged).inserted { tokens.append(pieces.texts[merged]) }
      var touched = Set<UInt64>()
      for word in pairs.words(holding: pair) {
        let before = sequences[word]
        let after = Self.merging(first, second, into: merged, in: before)
        guard after.count < before.count else { continue }
        touched.formUnion(pairs.remove(before, weight: weights[word]))
        touched.formUnion(pairs.add(after, weight: weights[word], word: word))
        sequences[word] = after
      }
      for changed in touched.sorted() {
        if let count = pairs.counts[changed], count > 0 { queue.push(changed, count: count) }
      }
    }
    return try Vocabulary(tokenList: tokens, source: "WordPieceTrainer")
  }

  /// `sequence` with every non-overlapping occurrence of `first`, `second` (from the left) made one `merged` piece.
  static func merging(_ first: Int, _ second: Int, into merged: Int, in sequence: [Int]) -> [Int] {
    var result: [Int] = []
    result.reserveCapacity(sequence.count)
    var index = 0
    while index < sequence.count {
      if index + 1 < sequence.count, sequence[index] == first, sequence[index + 1] == second {
        result.append(merged)
        index += 2
      } else {
        result.append(sequence[index])
        index += 1
      }
    }
    return result
  }
}

/// Piece texts and their ids while a vocabulary is learnt.
private struct PieceTable: Sendable {
  var texts: [String] = []
  var ids: [String: Int] = [:]

  var count: Int { texts.count }

  mutating func id(of text: String) -> Int {
    if let id = ids[text] { return id }
    ids[text] = texts.count
    texts.append(text)
    return texts.count - 1
  }
}

/// How often each adjacent pair of pieces occurs (weighted by its words' counts), and which words hold it.
private struct PairCounts: Sendable {
  var counts: [UInt64: Int] = [:]
  /// Words that held the pair when it was counted (some may no longer: callers check).
  var holders: [UInt64: [Int]] = [:]

  static func key(_ first: Int, _ second: Int) -> UInt64 { UInt64(first) << 32 | UInt64(second) }
  static func split(_ key: UInt64) -> (Int, Int) { (Int(key >> 32), Int(key & 0xFFFF_FFFF)) }

  /// Counts `sequence`'s pairs; returns them.
  @discardableResult
  mutating func add(_ sequence: [Int], weight: Int, word: Int) -> Set<UInt64> {
    var seen = Set<UInt64>()
    for (first, second) in zip(sequence, sequence.dropFirst()) {
      let pair = Self.key(first, second)
      counts[pair, default: 0] += weight
      if seen.insert(pair).inserted { holders[pair, default: []].append(word) }
    }
    return seen
  }

  /// Takes `sequence`'s pairs off the counts; returns them.
  mutating func remove(_ sequence: [Int], weight: Int) -> Set<UInt64> {
    var seen = Set<UInt64>()
    for (first, second) in zip(sequence, sequence.dropFirst()) {
      let pair = Self.key(first, second)
      counts[pair, default: 0] -= weight
      seen.insert(pair)
    }
    return seen
  }

  /// The words recorded as holding `pair`, each once, in order.
  func words(holding pair: UInt64) -> [Int] { Array(Set(holders[pair] ?? [])).sorted() }
}

/// A max-heap of pairs by count, then by their pieces' ids (the smaller first, as the `tokenizers` package breaks
/// ties). Entries whose count is out of date are skipped when popped.
private struct PairQueue: Sendable {
  private var heap: [(count: Int, pair: UInt64)] = []

  mutating func push(_ pair: UInt64, count: Int) {
    heap.append((count, pair))
    var child = heap.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard precedes(heap[child], heap[parent]) else { break }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  /// The pair with the largest current count (nil when none is left).
  mutating func popLargest(current counts: [UInt64: Int]) -> (UInt64, Int)? {
    while let top = heap.first {
      let last = heap.removeLast()
      if !heap.isEmpty {
        heap[0] = last
        var parent = 0
        while true {
          let left = 2 * parent + 1, right = left + 1
          var best = parent
          if left < heap.count, precedes(heap[left], heap[best]) { best = left }
          if right < heap.count, precedes(heap[right], heap[best]) { best = right }
          guard best != parent else { break }
          heap.swapAt(parent, best)
          parent = best
        }
      }
      if counts[top.pair] == top.count, top.count > 0 { return (top.pair, top.count) }
    }
    return nil
  }

  private func precedes(_ x: (count: Int, pair: UInt64), _ y: (count: Int, pair: UInt64)) -> Bool {
    x.count != y.count ? x.count > y.count : x.pair < y.pair
  }
}
