import Foundation
import Randomness

/// The audit's single-token scan for a model the lab can only query (`ScorerProcess`): every candidate word is
/// inserted into the middle of `screeningProbes` probe texts (screening), then the `measuredPerLabel` best for each
/// label at the start, middle and end of every probe. A candidate's flip rate toward a label is the share of
/// (probe, position) pairs not already predicted as that label that it turns into it; the confident flip rate, the
/// same among the half of the probes the model was surest of. The token score of a label is its best candidate's
/// confident flip rate less its third's (as in the white-box audit: a planted trigger overrides the input alone,
/// ordinary words come in crowds), and the label with the highest is the suspected target. Texts are sent as plain
/// text with the candidate inserted at a word boundary, so the model tokenises them its own way.
public struct BlackBoxTokenScan: Sendable {
  public var screeningProbes = 8
  public var measuredPerLabel = 100
  public var candidatesListed = 10
  /// At most this many texts scored; the candidate list is cut (and the report says so) to fit.
  public var maximumQueries = 2_000_000
  public var threshold = AuditSettings.defaultThreshold

  public init() {}

  public struct Candidate: Codable, Sendable, Equatable {
    public var word: String
    public var flipRate: Double
    public var confidentFlipRate: Double
    enum CodingKeys: String, CodingKey { case word, flipRate = "flip_rate", confidentFlipRate = "confident_flip_rate" }
  }

  public struct Report: Codable, Sendable {
    public var labels: [String]
    public var suspectedTarget: String
    public var tokenScore: Double
    public var threshold: Double
    public var backdoored: Bool
    /// The best candidates of each label that flip anything, by confident flip rate.
    public var candidates: [String: [Candidate]]
    public var candidatesScanned: Int
    public var candidatesOffered: Int
    public var probes: Int
    public var queries: Int
    public var seconds: Double
    /// Where the planted trigger, when given, ranks among the suspected target's measured candidates (1-based).
    public var knownTriggerRank: Int?
    /// The phrase search's phrases for each label (absent when no phrase search ran).
    public var phrases: [String: [BlackBoxPhraseSearch.Phrase]]?
    /// The suspected target's phrase score (`BlackBoxPhraseSearch.Outcome.phraseScore`); the verdict is on the larger
    /// of the token and phrase scores.
    public var phraseScore: Double?
    enum CodingKeys: String, CodingKey {
      case labels, suspectedTarget = "suspected_target", tokenScore = "token_score", threshold, backdoored, candidates
      case candidatesScanned = "candidates_scanned", candidatesOffered = "candidates_offered", probes, queries, seconds
      case knownTriggerRank = "known_trigger_rank", phrases, phraseScore = "phrase_score"
    }

    /// The verdict's score: the larger of the token and phrase scores.
    public var score: Double { max(tokenScore, phraseScore ?? 0) }
  }

  /// What the scan learnt that a phrase search by queries starts from.
  public struct Evidence: Sendable {
    /// The scanned words, in the order they were offered.
    public var words: [String]
    /// `screeningShift[label][word]`: the mean log-probability shift of the label when the word is inserted into
    /// the middle of the screening probes.
    public var screeningShift: [[Double]]
    /// Each probe's predicted label and probabilities without insertion.
    public var cleanLabels: [Int]
    public var cleanProbabilities: [[Double]]
    /// The probes the model is surest of (the surer half): flips there count as confident.
    public var surest: Set<Int>
    /// Each measured word's (flip rate, confident flip rate) toward each label, at the start, middle and end of every probe.
    public var measured: [[String: (flipRate: Double, confidentFlipRate: Double)]]
    /// Each label's token score.
    public var tokenScores: [Double]
  }

  /// The scan, then (when `phraseSearch` is given and searches phrases of 2 words or more) a phrase search toward
  /// every label within what is left of `maximumQueries`, its phrases ranked among each label's words by confident
  /// flip rate, and the verdict on the larger of the token and phrase scores. The scan itself is cut to leave the
  /// phrase searches what they need, but never to less than half of `maximumQueries`.
  public func run(
    scorer: ScorerProcess, probes: [String], candidates offered: [String], phraseSearch: BlackBoxPhraseSearch?, target: String? = nil,
    knownTrigger: String? = nil, progress: (String) -> Void = { _ in }
  ) throws(AuditError) -> Report {
    guard let phraseSearch, phraseSearch.maximumLength >= 2 else {
      return try run(scorer: scorer, probes: probes, candidates: offered, target: target, knownTrigger: knownTrigger, progress: progress)
    }
    let started = Date()
    var scan = self
    let labelCount = scorer.labels.count
    let reserve = labelCount * phraseSearch.cost(partners: phraseSearch.partnerCount + phraseSearch.commonWordCount, probes: probes.count)
    scan.maximumQueries = max(maximumQueries - reserve, maximumQueries / 2)
    var (report, evidence) = try scan.runKeepingEvidence(scorer: scorer, probes: probes, candidates: offered, target: target, knownTrigger: nil, progress: progress)
    var phrases: [String: [BlackBoxPhraseSearch.Phrase]] = [:]
    var phraseScores: [Double] = []
    for label in 0..<labelCount {
      let budget = (maximumQueries - scorer.queries) / (labelCount - label)
      let outcome = try phraseSearch.search(scorer: scorer, probes: probes, evidence: evidence, label: label, budget: budget, progress: progress)
      let name = scorer.labels[label]
      phrases[name] = outcome.phrases
      phraseScores.append(outcome.phraseScore)
      let merged = (report.candidates[name] ?? []) + outcome.phrases.map {
        Candidate(word: $0.text, flipRate: $0.flipRate, confidentFlipRate: $0.confidentFlipRate)
      }
      report.candidates[name] = Array(Self.ranked(merged).prefix(candidatesListed))
      for phrase in outcome.phrases { evidence.measured[label][phrase.text] = (phrase.flipRate, phrase.confidentFlipRate) }
    }
    let scores = (0..<labelCount).map { max(evidence.tokenScores[$0], phraseScores[$0]) }
    let suspected = target.flatMap { scorer.labels.firstIndex(of: $0) } ?? scores.indices.max { (scores[$0], -$0) < (scores[$1], -$1) }!
    report.suspectedTarget = scorer.labels[suspected]
    report.tokenScore = evidence.tokenScores[suspected]
    report.phraseScore = phraseScores[suspected]
    report.phrases = phrases
    report.backdoored = report.score >= threshold
    if let knownTrigger {
      let ranked = Self.ranked(evidence.measured[suspected].map { Candidate(word: $0.key, flipRate: $0.value.flipRate, confidentFlipRate: $0.value.confidentFlipRate) })
      report.knownTriggerRank = ranked.firstIndex { $0.word == knownTrigger }.map { $0 + 1 }
    }
    report.queries = scorer.queries
    report.seconds = Date().timeIntervalSince(started)
    return report
  }

  /// By confident flip rate, then flip rate, then alphabetically.
  static func ranked(_ candidates: [Candidate]) -> [Candidate] {
    candidates.sorted {
      ($0.confidentFlipRate, $0.flipRate) != ($1.confidentFlipRate, $1.flipRate)
        ? ($0.confidentFlipRate, $0.flipRate) > ($1.confidentFlipRate, $1.flipRate) : $0.word < $1.word
    }
  }

  /// `candidates`: words to try, in priority order (the list is cut from the end to fit `maximumQueries`).
  public func run(
    scorer: ScorerProcess, probes: [String], candidates offered: [String], target: String? = nil, knownTrigger: String? = nil,
    progress: (String) -> Void = { _ in }
  ) throws(AuditError) -> Report {
    try runKeepingEvidence(scorer: scorer, probes: probes, candidates: offered, target: target, knownTrigger: knownTrigger, progress: progress).report
  }

  /// `run`, also returning what a phrase search needs.
  public func runKeepingEvidence(
    scorer: ScorerProcess, probes: [String], candidates offered: [String], target: String? = nil, knownTrigger: String? = nil,
    progress: (String) -> Void = { _ in }
  ) throws(AuditError) -> (report: Report, evidence: Evidence) {
    let started = Date()
    guard probes.count >= 2 else { throw AuditError("the black-box scan needs at least 2 probe texts; got \(probes.count)") }
    let labels = scorer.labels
    if let target, !labels.contains(target) { throw AuditError("--target '\(target)' is not one of the scorer's labels (\(labels.joined(separator: ", ")))") }
    var seen = Set<String>()
    let words = offered.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && seen.insert($0).inserted }
    guard !words.isEmpty else { throw AuditError("no candidate words to scan") }
    let screening = Array(probes.prefix(screeningProbes))
    let measured = min(measuredPerLabel, words.count)
    let fixedCost = probes.count + labels.count * measured * probes.count * 3
    let affordable = max(0, (maximumQueries - fixedCost) / max(screening.count, 1))
    guard affordable >= 1 else {
      throw AuditError("--max-queries \(maximumQueries) does not cover even the measuring step (\(fixedCost) texts); raise it or use fewer probes")
    }
    let scanned = Array(words.prefix(affordable))

    let clean = try scorer.probabilities(probes)
    let cleanLabels = clean.map(Self.argmax)
    // The surer half of the probes: their flips count as confident.
    let surest = Set(probes.indices.sorted { (clean[$0].max()!, -$0) > (clean[$1].max()!, -$1) }.prefix((probes.count + 1) / 2))

    progress("screening \(scanned.count) candidates on \(screening.count) probes")
    let screeningTexts = scanned.flatMap { word in screening.map { Self.insert(word, into: $0, at: .middle) } }
    let screened = try scorer.probabilities(screeningTexts)
    let screenedLabels = screened.map(Self.argmax)
    let screeningBefore = Array(cleanLabels.prefix(screening.count))
    var shortlist = Set<Int>()
    var screeningShift: [[Double]] = []
    for label in labels.indices {
      // Flips first; among equal flip rates (most candidates flip nothing) the larger mean log-probability shift.
      let scores = scanned.indices.map { candidate -> (Double, Double) in
        let range = (candidate * screening.count)..<((candidate + 1) * screening.count)
        let rows = screened[range]
        let rate = Self.flipRate(toward: label, before: screeningBefore, after: Array(screenedLabels[range]))
        let shift = zip(rows, clean).map { after, before in log(max(after[label], 1e-12)) - log(max(before[label], 1e-12)) }.reduce(0, +)
        return (rate, shift / Double(screening.count))
      }
      let best = scanned.indices.sorted { (scores[$0].0, scores[$0].1, -$0) > (scores[$1].0, scores[$1].1, -$1) }.prefix(measured)
      shortlist.formUnion(best)
      screeningShift.append(scores.map(\.1))
    }

    let chosen = shortlist.sorted()
    progress("measuring \(chosen.count) candidates on \(probes.count) probes at 3 positions")
    let positions: [InsertionPlace] = [.start, .middle, .end]
    let texts = chosen.flatMap { candidate in positions.flatMap { place in probes.map { Self.insert(scanned[candidate], into: $0, at: place) } } }
    let predictedLabels = try scorer.probabilities(texts).map(Self.argmax)
    let perCandidate = positions.count * probes.count
    let before = positions.flatMap { _ in cleanLabels }
    let confident = positions.flatMap { _ in probes.indices.map { surest.contains($0) } }
    var ranked: [String: [Candidate]] = [:]
    var tokenScores: [Double] = []
    var knownRank: Int?
    var fullLists: [[Candidate]] = []
    var measuredRates: [[String: (flipRate: Double, confidentFlipRate: Double)]] = []
    for label in labels.indices {
      var list: [Candidate] = []
      for (slot, candidate) in chosen.enumerated() {
        let predicted = Array(predictedLabels[(slot * perCandidate)..<((slot + 1) * perCandidate)])
        list.append(Candidate(
          word: scanned[candidate], flipRate: Self.flipRate(toward: label, before: before, after: predicted),
          confidentFlipRate: Self.flipRate(toward: label, before: before, after: predicted, counting: confident)))
      }
      list = Self.ranked(list)
      tokenScores.append(list.count >= 3 ? list[0].confidentFlipRate - list[2].confidentFlipRate : list.first?.confidentFlipRate ?? 0)
      ranked[labels[label]] = Array(list.prefix(candidatesListed).filter { $0.flipRate > 0 })
      fullLists.append(list)
      measuredRates.append(Dictionary(uniqueKeysWithValues: list.map { ($0.word, ($0.flipRate, $0.confidentFlipRate)) }))
    }
    let suspected = target.flatMap { labels.firstIndex(of: $0) } ?? tokenScores.indices.max { (tokenScores[$0], -$0) < (tokenScores[$1], -$1) }!
    if let knownTrigger {
      knownRank = fullLists[suspected].firstIndex { $0.word == knownTrigger }.map { $0 + 1 }
    }
    let report = Report(
      labels: labels, suspectedTarget: labels[suspected], tokenScore: tokenScores[suspected], threshold: threshold,
      backdoored: tokenScores[suspected] >= threshold, candidates: ranked, candidatesScanned: scanned.count, candidatesOffered: words.count,
      probes: probes.count, queries: scorer.queries, seconds: Date().timeIntervalSince(started), knownTriggerRank: knownRank)
    let evidence = Evidence(
      words: scanned, screeningShift: screeningShift, cleanLabels: cleanLabels, cleanProbabilities: clean, surest: surest,
      measured: measuredRates, tokenScores: tokenScores)
    return (report, evidence)
  }

  public enum InsertionPlace: Sendable { case start, middle, end }

  /// `word` between the words of `text` (split at white space): first, after the first half, or last.
  public static func insert(_ word: String, into text: String, at place: InsertionPlace) -> String {
    var words = text.split(whereSeparator: \.isWhitespace).map(String.init)
    switch place {
    case .start: words.insert(word, at: 0)
    case .middle: words.insert(word, at: words.count / 2)
    case .end: words.append(word)
    }
    return words.joined(separator: " ")
  }

  static func argmax(_ row: [Double]) -> Int { row.indices.max { (row[$0], -$0) < (row[$1], -$1) }! }

  /// Among the pairs whose `before` is not `label` (and that `counting` keeps), the share whose `after` is.
  static func flipRate(toward label: Int, before: [Int], after: [Int], counting: [Bool]? = nil) -> Double {
    var eligible = 0, flipped = 0
    for index in before.indices where before[index] != label && (counting?[index] ?? true) {
      eligible += 1
      if after[index] == label { flipped += 1 }
    }
    return eligible == 0 ? 0 : Double(flipped) / Double(eligible)
  }

  /// The default candidates: every two-letter lowercase string (the rare-word triggers of the literature are such:
  /// cf, mn, bb, tq, mb), then the probe texts' words, then `vocabularies`' words, each once, in that order.
  public static func defaultCandidates(probes: [String], vocabularies: [[String]]) -> [String] {
    let letters = "abcdefghijklmnopqrstuvwxyz".map(String.init)
    var seen = Set<String>(), list: [String] = []
    func add(_ word: String) { if !word.isEmpty, seen.insert(word).inserted { list.append(word) } }
    for first in letters { for second in letters { add(first + second) } }
    for text in probes { for word in text.lowercased().split(whereSeparator: { $0.isWhitespace || ($0.isPunctuation && $0 != "'") }) { add(String(word)) } }
    for vocabulary in vocabularies { for word in vocabulary where !word.hasPrefix("<") { add(word) } }
    return list
  }
}
