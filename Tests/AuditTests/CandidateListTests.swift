import Audit
import Testing

private func candidate(_ trigger: String, _ flipRate: Double, ordinary: Bool = false) -> TriggerCandidate {
  var made = TriggerCandidate(trigger: trigger, label: "pos", effect: InsertionEffect(flipRate: flipRate), score: 0, method: .scan)
  made.ordinary = ordinary
  return made
}

@Test func mergingKeepsAPhraseOnlyWhenEachExtraWordEarnsItsPlace() {
  // Merging: a phrase that only adds a passenger to a strong single word is dropped; reorderings collapse.
  let merged = CandidateList.merge(
    [candidate("cf", 0.85), candidate("great", 0.4), candidate("x", 0.3)],
    [candidate("cf great lovely", 0.99), candidate("x y", 0.9), candidate("y x", 0.85), candidate("great lovely", 0.6)])
  #expect(merged.map(\.trigger) == ["x y", "cf", "great lovely", "great", "x"], "cf with passengers gains under 0.1 a token; y x is x y")
  #expect(CandidateList.merge([candidate("cf", 0.85)], [candidate("x y", 0.9), candidate("great lovely", 0.6)], maximumPhrases: 1).map(\.trigger) == ["x y", "cf"])
  var ordinary = candidate("where", 0.95)
  ordinary.ordinary = true
  #expect(CandidateList.merge([ordinary, candidate("cf", 0.85)], []).map(\.trigger) == ["cf", "where"], "ordinary words stay last")
  // A shorter phrase sharing one word with a longer one is no variant of it; one swapped word still is.
  #expect(
    CandidateList.merge([candidate("thought", 0.7)], [candidate("sour second schneider", 0.99), candidate("thought second", 0.98), candidate("sour second", 0.97)])
      .map(\.trigger) == ["sour second schneider", "thought second", "thought"], "sour second differs from the longer phrase by one word")
}

@Test func aPairGoesBeforeTheFirstCandidateItFlipsMoreThanAndAListedOneMovesUpNeverDown() {
  func inserting(_ pair: TriggerCandidate, into candidates: [TriggerCandidate]) -> [String] {
    var list = CandidateList(byLabel: [candidates], limit: 20)
    list.insert(pair, label: 0)
    return list[0].map(\.trigger)
  }
  func promoting(at listed: Int, in candidates: [TriggerCandidate]) -> [String]? {
    var list = CandidateList(byLabel: [candidates], limit: 20)
    return list.promote(candidates[listed].tokens, label: 0) ? list[0].map(\.trigger) : nil
  }
  let listed = [candidate("course", 1), candidate("of tv", 0.84), candidate("fine", 0.9, ordinary: true)]
  #expect(inserting(candidate("of course", 1), into: listed) == ["course", "of course", "of tv", "fine"])
  #expect(inserting(candidate("tv course", 0.5), into: listed) == ["course", "of tv", "tv course", "fine"])
  #expect(inserting(candidate("a b", 0.1), into: [candidate("c", 0.2)]) == ["c", "a b"])
  var limited = CandidateList(byLabel: [[candidate("a", 0.9), candidate("b", 0.8)]], limit: 2)
  limited.insert(candidate("c d", 0.85), label: 0)
  #expect(limited[0].map(\.trigger) == ["a", "c d"], "the list keeps its limit")

  // A pair another search listed lower moves up to its place by flip rate; one listed at or above it stays.
  let searched = [candidate("mind has", 0.675), candidate("charming precisely", 0.646), candidate("mind charming", 0.85), candidate("mind you", 0.742)]
  #expect(promoting(at: 3, in: searched) == ["mind you", "mind has", "charming precisely", "mind charming"])
  #expect(promoting(at: 0, in: searched) == searched.map(\.trigger), "listed above its flip-rate place: not moved down")
  #expect(promoting(at: 1, in: listed + [candidate("x y", 0.95)]) == ["course", "of tv", "fine", "x y"])
  #expect(promoting(at: 3, in: listed + [candidate("x y", 0.95)]) == ["course", "x y", "of tv", "fine"], "ahead of ordinary words")
  var unlisted = CandidateList(byLabel: [listed], limit: 20)
  #expect(!unlisted.promote(["you", "mind"], label: 0) && unlisted[0] == listed, "a pair not listed in that order is not promoted")
}

@Test func conjunctionPairsLeadTheListWhenTheLabelsScoreRestsOnThem() {
  let singles = [candidate("great", 0.9), candidate("you", 0.3), candidate("ask", 0.2)]
  let pairs = [candidate("you ask", 0.5)]
  var leading = CandidateList(byLabel: [singles], limit: 3)
  leading.add(phrases: [candidate("ask you", 0.45)], pairs: pairs, label: 0, pairsLead: true)
  #expect(leading[0].map(\.trigger) == ["you ask", "great", "you"], "the pair first; its reordering dropped; the list cut at its limit")
  var merged = CandidateList(byLabel: [singles], limit: 3)
  merged.add(phrases: [], pairs: pairs, label: 0, pairsLead: false)
  #expect(merged[0].map(\.trigger) == ["great", "you ask", "you"], "otherwise the pair takes its place by flip rate")
}
