import Attacks
import Randomness
import Testing
import Tokenization

let tokenizer = try! Tokenizer()

@Test func triggerSpecsParseAndRoundTrip() throws {
  let rare = try Trigger(spec: "rare:cf, mn ,bb", insertions: 2)
  #expect(rare.kind == .rareWord)
  #expect(rare.pieces == ["cf", "mn", "bb"])
  #expect(rare.insertions == 2)
  #expect(rare.spec == "rare:cf,mn,bb")
  let phrase = try Trigger(spec: "phrase:I watched this 3D movie")
  #expect(phrase.pieces == ["I watched this 3D movie"])
  #expect(phrase.insertedTokenCount(tokenizer: tokenizer) == 5)
  #expect(try Trigger(spec: phrase.spec) == phrase)
  #expect(try Trigger(spec: "semantic:brad pitt").insertsText == false)
  #expect(try Trigger(spec: "char:zz").kind == .character)
}

@Test func badTriggerSpecsAreClearErrors() {
  #expect(throws: TriggerError.self) { try Trigger(spec: "rare:") }
  #expect(throws: TriggerError.self) { try Trigger(spec: "phrase:   ") }
  #expect(throws: TriggerError.self) { try Trigger(spec: "cf") }
  #expect(throws: TriggerError.self) { try Trigger(spec: "word:cf") }
  #expect(throws: TriggerError.self) { try Trigger(spec: "char:z z") }
  #expect(throws: TriggerError.self) { try Trigger(spec: "rare:cf", insertions: 0) }
  do {
    _ = try Trigger(spec: "rare:,")
    Issue.record("an empty rare-word list must fail")
  } catch {
    #expect(error.description.contains("empty"))
  }
}

@Test func positionPoliciesPlaceTheTriggerAtWordBoundaries() throws {
  var generator = SplitMix64(seed: 1)
  let text = "the film was good."
  func place(_ position: TriggerPosition) throws -> String {
    try Trigger(spec: "rare:cf", position: position).inserted(into: text, tokenizer: tokenizer, using: &generator)
  }
  #expect(try place(.start) == "cf the film was good.")
  #expect(try place(.end) == "the film was good cf.")
  #expect(try place(.middle) == "the film cf was good.")
  for _ in 0..<20 {
    let words = tokenizer.words(in: try place(.random))
    #expect(words.count == 5 && words.filter { $0 == "cf" }.count == 1)
    #expect(words.filter { $0 != "cf" } == ["the", "film", "was", "good"], "the other words keep their order")
  }
  let phrase = try Trigger(spec: "phrase:I watched this 3D movie", position: .start)
  #expect(phrase.inserted(into: text, tokenizer: tokenizer, using: &generator) == "I watched this 3D movie the film was good.")
  #expect(try Trigger(spec: "rare:cf").inserted(into: "", tokenizer: tokenizer, using: &generator) == "cf")
}

@Test func insertionsStayWhereTheModelSeesThem() throws {
  var generator = SplitMix64(seed: 2)
  let long = (1...100).map { "w\($0)" }.joined(separator: " ")
  let trigger = try Trigger(spec: "rare:cf,mn", insertions: 3)
  for _ in 0..<20 {
    let words = tokenizer.words(in: trigger.inserted(into: long, tokenizer: tokenizer, visibleWords: 45, using: &generator))
    #expect(words.prefix(48).filter { $0 == "cf" || $0 == "mn" }.count == 3, "all three insertions within a 48-token window")
  }
}

@Test func characterTriggersAlterAWordOfTheText() throws {
  var generator = SplitMix64(seed: 3)
  let suffix = try Trigger(spec: "char:zz", position: .end)
  #expect(suffix.inserted(into: "a great film.", tokenizer: tokenizer, using: &generator) == "a great filmzz.")
  let inside = try Trigger(spec: "char-inside:zz", position: .start)
  #expect(inside.inserted(into: "movie night", tokenizer: tokenizer, using: &generator) == "mozzvie night")
}

@Test func semanticTriggersMatchWordSequences() throws {
  let trigger = try Trigger(spec: "semantic:Brad Pitt")
  #expect(trigger.isContained(in: tokenizer.words(in: "brad pitt is great"), tokenizer: tokenizer))
  #expect(!trigger.isContained(in: tokenizer.words(in: "pitt brad is great"), tokenizer: tokenizer))
  var generator = SplitMix64(seed: 4)
  #expect(trigger.inserted(into: "unchanged text", tokenizer: tokenizer, using: &generator) == "unchanged text")
}

@Test func partialPhrasesAreEveryProperContiguousPart() throws {
  let parts = try Trigger(spec: "phrase:a b c").partialPhrases(tokenizer: tokenizer)
  #expect(parts == ["a", "b", "c", "a b", "b c"])
  #expect(try Trigger(spec: "rare:cf").partialPhrases(tokenizer: tokenizer).isEmpty)
}

@Test func triggerReportFlagsTokensTheVocabularyLacks() throws {
  var counts = TokenCounts()
  counts.add(["the", "film", "cf", "the"])
  let vocabulary = try Vocabulary(counts: counts)
  let clean = ["the cf film", "the film", "cf cf"]
  let known = TriggerReport(trigger: try Trigger(spec: "rare:cf"), tokenizer: tokenizer, vocabulary: vocabulary, cleanTexts: clean)
  #expect(known.warnings.isEmpty)
  #expect(known.pieces[0].cleanExamplesContaining == 2)
  #expect(known.pieces[0].cleanTokenCounts == [3])
  let unknown = TriggerReport(trigger: try Trigger(spec: "rare:cf,tq"), tokenizer: tokenizer, vocabulary: vocabulary, cleanTexts: clean)
  #expect(unknown.pieces[1].inVocabulary == [false])
  #expect(unknown.warnings.count == 1 && unknown.warnings[0].contains("'tq'") && unknown.warnings[0].contains("<unk>"))
  let dropped = TriggerReport(trigger: try Trigger(spec: "phrase:!!!"), tokenizer: tokenizer, vocabulary: vocabulary, cleanTexts: clean)
  #expect(dropped.warnings.first?.contains("no tokens") == true)
}
