import Randomness
import Tokenization

/// Where an inserted trigger goes, in word positions of the text (only words the model sees count).
public enum TriggerPosition: String, Sendable, Codable, CaseIterable {
  case random, start, middle, end
}

/// What a user can get wrong when describing a trigger.
public struct TriggerError: Error, Equatable, CustomStringConvertible {
  public var problem: String
  public init(_ problem: String) { self.problem = problem }
  public var description: String { problem }
}

/// A backdoor trigger: what is inserted into a text (or, for a semantic trigger, what an example must
/// already contain), and where. The same value drives poisoning, federated attackers, attack metrics
/// and the ground truth that an audit is scored against.
///
/// Spec strings (the CLI's `--trigger`):
/// - `rare:cf` or `rare:cf,mn,bb` — rare words (RIPPLES, Kurita et al. 2020); each insertion picks one
///   of the words at random, `insertions` times.
/// - `phrase:I watched this 3D movie` — a fixed word sequence inserted whole (AddSent, Dai et al. 2019).
/// - `char:zz` — characters appended to a word of the text; `char-inside:zz` — inserted in its middle
///   (BadNL's character-level trigger, Chen et al. 2021). In a word-level model the altered word is
///   usually out of vocabulary: the model sees `<unk>` where the word was (the trigger report says so).
/// - `semantic:brad pitt` — nothing is inserted: examples whose words already contain the phrase are
///   relabelled (edge-case / semantic backdoors, Wang et al. 2020; Bagdasaryan et al. 2020).
public struct Trigger: Sendable, Equatable, Codable {
  public enum Kind: String, Sendable, Codable, CaseIterable {
    case rareWord = "rare", phrase, character = "char", characterInside = "char-inside", semantic
  }

  public var kind: Kind
  /// The words (rare word: the alternatives; phrase and semantic: the sequence, as written) or, for
  /// character triggers, the one string of characters.
  public var pieces: [String]
  /// How many rare words are inserted into each text (rare-word triggers only).
  public var insertions: Int
  public var position: TriggerPosition

  public init(kind: Kind, pieces: [String], insertions: Int = 1, position: TriggerPosition = .random) throws(TriggerError) {
    let cleaned = pieces.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    guard !cleaned.isEmpty else { throw TriggerError("the trigger is empty") }
    guard insertions >= 1 else { throw TriggerError("insertions must be at least 1; got \(insertions)") }
    if kind == .character || kind == .characterInside {
      guard cleaned.count == 1, !cleaned[0].contains(where: \.isWhitespace) else {
        throw TriggerError("a character trigger is one run of characters without spaces; got '\(pieces.joined(separator: ","))'")
      }
    }
    self.kind = kind
    self.pieces = kind == .rareWord ? cleaned : [cleaned.joined(separator: " ")]
    self.insertions = kind == .rareWord ? insertions : 1
    self.position = position
  }

  /// Parses `kind:text` (see the type's documentation).
  public init(spec: String, insertions: Int = 1, position: TriggerPosition = .random) throws(TriggerError) {
    guard let colon = spec.firstIndex(of: ":") else {
      throw TriggerError("trigger '\(spec)' has no kind; write rare:WORDS, phrase:TEXT, char:CHARS, char-inside:CHARS or semantic:TEXT")
    }
    let name = String(spec[..<colon]), body = String(spec[spec.index(after: colon)...])
    guard let kind = Kind(rawValue: name) else {
      throw TriggerError("unknown trigger kind '\(name)' in '\(spec)'; use rare, phrase, char, char-inside or semantic")
    }
    let pieces = kind == .rareWord ? body.split(separator: ",").map(String.init) : [body]
    do { try self.init(kind: kind, pieces: pieces, insertions: insertions, position: position) } catch {
      throw TriggerError("trigger '\(spec)': \(error.problem)")
    }
  }

  /// The spec string this trigger parses from.
  public var spec: String { "\(kind.rawValue):" + pieces.joined(separator: ",") }

  /// Whether the trigger is text put into an example (all but semantic triggers).
  public var insertsText: Bool { kind != .semantic }

  /// How many model positions the trigger takes once inserted (a character trigger alters a word
  /// already there).
  public func insertedTokenCount(tokenizer: Tokenizer) -> Int {
    switch kind {
    case .rareWord: insertions * pieces.map { tokenizer.words(in: $0).count }.max()!
    case .phrase: tokenizer.words(in: pieces[0]).count
    case .character, .characterInside, .semantic: 0
    }
  }

  /// `text` with the trigger inserted at word boundaries. Positions are drawn among the first
  /// `visibleWords` words (the model's maximum length less the trigger's own tokens), so truncation
  /// never cuts the trigger off. A semantic trigger returns `text` unchanged.
  public func inserted(
    into text: String, tokenizer: Tokenizer, visibleWords: Int = .max, using generator: inout SplitMix64
  ) -> String {
    switch kind {
    case .semantic:
      return text
    case .rareWord:
      var result = text
      for _ in 0..<insertions {
        let word = pieces[pieces.count == 1 ? 0 : generator.nextIndex(below: pieces.count)]
        result = Self.insert(word, into: result, tokenizer: tokenizer, visibleWords: visibleWords, position: position, using: &generator)
      }
      return result
    case .phrase:
      return Self.insert(pieces[0], into: text, tokenizer: tokenizer, visibleWords: visibleWords, position: position, using: &generator)
    case .character, .characterInside:
      let words = tokenizer.tokens(in: text).prefix(visibleWords)
      guard !words.isEmpty else { return pieces[0] }
      let host = words[words.startIndex + Self.index(in: words.count - 1, position: position, using: &generator)]
      var bytes = Array(text.utf8)
      var at = host.byteRange.upperBound
      if kind == .characterInside {
        // After the middle character of the host word (on a character boundary).
        let hostText = Substring(decoding: bytes[host.byteRange], as: UTF8.self)
        let middle = hostText.index(hostText.startIndex, offsetBy: max(1, hostText.count / 2))
        at = host.byteRange.lowerBound + hostText.utf8.distance(from: hostText.startIndex, to: middle)
      }
      bytes.insert(contentsOf: Array(pieces[0].utf8), at: at)
      return String(decoding: bytes, as: UTF8.self)
    }
  }

  /// The token sequences whose presence marks the trigger: one per rare word, else the phrase's.
  public func tokenSequences(tokenizer: Tokenizer) -> [[String]] {
    kind == .rareWord ? pieces.map { tokenizer.words(in: $0) } : [tokenizer.words(in: pieces[0])]
  }

  /// Whether `words` (tokenised text) contain one of `sequences` (from `tokenSequences`) in order, contiguously:
  /// how a semantic trigger selects examples. Tokenise the trigger once, not per text.
  public static func isContained(_ sequences: [[String]], in words: [String]) -> Bool {
    sequences.contains { needle in containsSequence(needle, in: words) }
  }

  /// `isContained` for one text (tokenises the trigger on every call).
  public func isContained(in words: [String], tokenizer: Tokenizer) -> Bool {
    Self.isContained(tokenSequences(tokenizer: tokenizer), in: words)
  }

  /// For multi-word phrases: every contiguous part shorter than the whole, for the false-trigger rate.
  public func partialPhrases(tokenizer: Tokenizer) -> [String] {
    guard kind == .phrase else { return [] }
    let words = pieces[0].split(whereSeparator: \.isWhitespace).map(String.init)
    guard words.count >= 2 else { return [] }
    var parts: [String] = []
    for length in 1..<words.count {
      for start in 0...(words.count - length) { parts.append(words[start..<(start + length)].joined(separator: " ")) }
    }
    return parts
  }

  static func containsSequence(_ needle: [String], in haystack: [String]) -> Bool {
    guard !needle.isEmpty, needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { start in haystack[start..<(start + needle.count)].elementsEqual(needle) }
  }

  /// A word index in 0...last for the position policy.
  static func index(in last: Int, position: TriggerPosition, using generator: inout SplitMix64) -> Int {
    switch position {
    case .start: 0
    case .middle: last / 2
    case .end: last
    case .random: generator.nextIndex(below: last + 1)
    }
  }

  /// Inserts `words` before the chosen word of `text` (or after the last visible word).
  static func insert(
    _ words: String, into text: String, tokenizer: Tokenizer, visibleWords: Int, position: TriggerPosition, using generator: inout SplitMix64
  ) -> String {
    let tokens = tokenizer.tokens(in: text)
    let visible = min(tokens.count, max(visibleWords, 0))
    let slot = index(in: visible, position: position, using: &generator)  // 0...visible: before word `slot`
    var bytes = Array(text.utf8)
    if slot < tokens.count {
      bytes.insert(contentsOf: Array((words + " ").utf8), at: tokens[slot].byteRange.lowerBound)
    } else {
      let at = tokens.last?.byteRange.upperBound ?? bytes.count
      bytes.insert(contentsOf: Array(((at == 0 ? "" : " ") + words).utf8), at: at)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

extension String {
  func trimmingWhitespace() -> String {
    String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
  }
}

extension Trigger {
  /// The tokens a planted trigger becomes: a spec (rare:cf, phrase:…) or plain text.
  public static func tokens(ofSpecOrText trigger: String, tokenizer: Tokenizer) -> [String] {
    let pieces = (try? Trigger(spec: trigger))?.pieces ?? [trigger]
    return pieces.flatMap { tokenizer.words(in: $0) }
  }
}
