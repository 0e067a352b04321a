import Foundation

/// What `audit` concludes.
public struct AuditReport: Sendable, Codable, Equatable {
  /// The report's layout: 2 since the audit became a pipeline (`verdict` an enum, this key added). Readers of
  /// reports without it see version 1, whose keys are the same.
  public static let currentFormatVersion = 2
  public var formatVersion = AuditReport.currentFormatVersion
  public var verdict: Verdict
  /// The label with the highest verdict score (reported whatever the verdict).
  public var targetLabel: String
  /// The best candidate's flip rate.
  public var score: Double
  /// The verdict score of the target label: the largest of its token, phrase, conjunction and (two-label models)
  /// margin scores; `backdoored` when it reaches `threshold`.
  public var verdictScore: Double
  public var verdictScores: [String: Double]
  /// Per label, `ScanResult.tokenVerdictScores`: the best single token's confident flip rate less the third's.
  public var tokenScores: [String: Double]
  /// Per label searched for phrases, `phraseExcess`: the best phrase's confident flip rate less that of the
  /// label's strongest tokens together.
  public var phraseScores: [String: Double]
  /// Per label searched for phrases (and finding one), `phraseExcess` of the best phrase over the label's strongest
  /// tokens outside it together; in the verdict through `PhraseScore` (absent in reports written before it).
  public var phraseExcessesOverOtherTokens: [String: Double]?
  /// Per label of a unidirectional binary GRU searched for phrases, the best `ConjunctionScan` pair's excess (nats);
  /// its verdict score is `ConjunctionScan.verdictScore` (absent for other models, and in reports written before it).
  public var conjunctionScores: [String: Double]?
  /// Per label searched for phrases (and finding one), `phraseMarginExcess`: nats the best phrase moves the label's
  /// margin beyond the label's strongest tokens together; in a two-label model's verdict as
  /// `PhraseMarginScore.verdictScore` (absent in reports written before it).
  public var phraseMarginExcesses: [String: Double]?
  public var threshold: Double
  public var calibration: String
  public var candidates: [TriggerCandidate]
  /// The best candidates for each label.
  public var candidatesByLabel: [String: [TriggerCandidate]]
  public var probes: Int
  public var tokensScanned: Int
  public var positions: [TokenScan.Position]
  /// Longest phrase searched for (1: single tokens only).
  public var maximumTriggerLength: Int
  public var seconds: Double
  /// Where those seconds went, by stage of the audit (`AuditStages`; absent in reports written before it).
  public var secondsByStage: [String: Double]?
  /// Set when the caller knows the planted trigger (`audit --trigger`, the demo).
  public var knownTrigger: KnownTriggerRank?
  /// The whole token scan as a TSV (`ScanResult.table`), when `AuditSettings.tokenTable` asked for it; not in the JSON.
  public var tokenTable: String?

  enum CodingKeys: String, CodingKey {
    case formatVersion = "format_version", verdict, targetLabel = "target_label", score, verdictScore = "verdict_score", verdictScores = "verdict_scores", threshold, calibration
    case tokenScores = "token_scores", phraseScores = "phrase_scores", conjunctionScores = "conjunction_scores"
    case phraseMarginExcesses = "phrase_margin_excess"
    case phraseExcessesOverOtherTokens = "phrase_excess_over_other_tokens"
    case candidates, candidatesByLabel = "candidates_by_label", probes, tokensScanned = "tokens_scanned", positions
    case maximumTriggerLength = "max_trigger_length", seconds, secondsByStage = "seconds_by_stage", knownTrigger = "known_trigger"
  }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    formatVersion = try container.decodeIfPresent(Int.self, forKey: .formatVersion) ?? 1
    verdict = try container.decode(Verdict.self, forKey: .verdict)
    targetLabel = try container.decode(String.self, forKey: .targetLabel)
    score = try container.decode(Double.self, forKey: .score)
    verdictScore = try container.decode(Double.self, forKey: .verdictScore)
    verdictScores = try container.decode([String: Double].self, forKey: .verdictScores)
    tokenScores = try container.decode([String: Double].self, forKey: .tokenScores)
    phraseScores = try container.decode([String: Double].self, forKey: .phraseScores)
    phraseExcessesOverOtherTokens = try container.decodeIfPresent([String: Double].self, forKey: .phraseExcessesOverOtherTokens)
    conjunctionScores = try container.decodeIfPresent([String: Double].self, forKey: .conjunctionScores)
    phraseMarginExcesses = try container.decodeIfPresent([String: Double].self, forKey: .phraseMarginExcesses)
    threshold = try container.decode(Double.self, forKey: .threshold)
    calibration = try container.decode(String.self, forKey: .calibration)
    candidates = try container.decode([TriggerCandidate].self, forKey: .candidates)
    candidatesByLabel = try container.decode([String: [TriggerCandidate]].self, forKey: .candidatesByLabel)
    probes = try container.decode(Int.self, forKey: .probes)
    tokensScanned = try container.decode(Int.self, forKey: .tokensScanned)
    positions = try container.decode([TokenScan.Position].self, forKey: .positions)
    maximumTriggerLength = try container.decode(Int.self, forKey: .maximumTriggerLength)
    seconds = try container.decode(Double.self, forKey: .seconds)
    secondsByStage = try container.decodeIfPresent([String: Double].self, forKey: .secondsByStage)
    knownTrigger = try container.decodeIfPresent(KnownTriggerRank.self, forKey: .knownTrigger)
  }

  public init(
    candidatesByLabel: [[TriggerCandidate]], verdictScores: [Double], tokenScores: [Double]? = nil, phraseScores: [Double?] = [],
    phraseExcessesOverOtherTokens: [Double?] = [], conjunctionScores: [Double?] = [], phraseMarginExcesses: [Double?] = [], labels: [String], threshold: Double, calibration: String, probes: Int, tokensScanned: Int, positions: [TokenScan.Position],
    maximumTriggerLength: Int, seconds: Double
  ) {
    let target = Self.target(verdictScores: verdictScores, candidatesByLabel: candidatesByLabel)
    targetLabel = labels[target]
    candidates = candidatesByLabel[target]
    score = candidates.first?.flipRate ?? 0
    verdictScore = verdictScores[target]
    self.verdictScores = Dictionary(uniqueKeysWithValues: zip(labels, verdictScores))
    self.tokenScores = Dictionary(uniqueKeysWithValues: zip(labels, tokenScores ?? verdictScores))
    self.phraseScores = Self.byLabel(labels, phraseScores)
    let overOthers = Self.byLabel(labels, phraseExcessesOverOtherTokens)
    self.phraseExcessesOverOtherTokens = overOthers.isEmpty ? nil : overOthers
    let conjunctions = Self.byLabel(labels, conjunctionScores)
    self.conjunctionScores = conjunctions.isEmpty ? nil : conjunctions
    let margins = Self.byLabel(labels, phraseMarginExcesses)
    self.phraseMarginExcesses = margins.isEmpty ? nil : margins
    verdict = Verdict(score: verdictScore, threshold: threshold)
    self.threshold = threshold
    self.calibration = calibration
    self.candidatesByLabel = Dictionary(uniqueKeysWithValues: zip(labels, candidatesByLabel))
    self.probes = probes
    self.tokensScanned = tokensScanned
    self.positions = positions
    self.maximumTriggerLength = maximumTriggerLength
    self.seconds = seconds
  }

  /// The labels' values that are present (nil: that label was not measured).
  static func byLabel(_ labels: [String], _ values: [Double?]) -> [String: Double] {
    Dictionary(uniqueKeysWithValues: zip(labels, values).compactMap { label, value in value.map { (label, $0) } })
  }

  /// The label with the highest verdict score; ties go to the higher best flip rate, then the first label.
  public static func target(verdictScores: [Double], candidatesByLabel: [[TriggerCandidate]]) -> Int {
    verdictScores.indices.max {
      (verdictScores[$0], candidatesByLabel[$0].first?.flipRate ?? 0, -$0) < (verdictScores[$1], candidatesByLabel[$1].first?.flipRate ?? 0, -$1)
    } ?? 0
  }

  /// Whether `phraseMarginExcesses` count in this model's verdict (a two-label model).
  var marginInVerdict: Bool { PhraseMarginScore.applies(labelCount: verdictScores.count) }

  public var summary: String {
    var lines = [
      "verdict: \(verdict.rawValue) (score \(String(format: "%.3f", verdictScore)), threshold \(String(format: "%.3f", threshold)): \(calibration))",
      "  token score \(String(format: "%.3f", tokenScores[targetLabel] ?? 0)) (the best token's confident flip rate over the third's); phrase score "
        + (phraseScores[targetLabel].map { overStrongest in
          let overOthers = phraseExcessesOverOtherTokens?[targetLabel]
          return String(format: "%.3f", PhraseScore.verdictScore(overStrongest: overStrongest, overOthers: overOthers))
            + String(format: " (the best phrase's confident flip rate %.3f over the strongest tokens together", overStrongest)
            + (overOthers.map { String(format: ", %.3f over those outside it less %.2f", $0, PhraseScore.ownWordsAllowance) } ?? "") + ")"
        } ?? "not searched")
        + (conjunctionScores?[targetLabel].map {
          String(format: "; conjunction score %.3f (the best word pair's interaction %.3f nats above its context word's median, less %.2f)",
            ConjunctionScan.verdictScore(bestExcess: $0), $0, ConjunctionScan.cleanExcess)
        } ?? "")
        + (marginInVerdict
          ? phraseMarginExcesses?[targetLabel].map {
            String(format: "; margin score %.3f (the best phrase moves the margin %.2f nats beyond the strongest tokens together, less %.2f)",
              PhraseMarginScore.verdictScore(marginExcess: $0), $0, PhraseMarginScore.cleanExcess)
          } ?? "" : ""),
      "suspected target label: \(targetLabel)",
    ]
    if let margins = phraseMarginExcesses, !marginInVerdict {
      lines.append(
        "  not in the verdict of a \(verdictScores.count)-label model: nats the best phrase moves each label's margin beyond its strongest tokens together: "
          + margins.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", "))
    }
    lines += [
      "top candidates (flip rate to \(targetLabel), confident flip rate, robust score):",
    ]
    for candidate in candidates.prefix(10) {
      let shown = candidate.shownText
      let name = shown.count >= 28 ? shown : shown + String(repeating: " ", count: 28 - shown.count)
      let note = candidate.ordinary ? "   (an ordinary \(targetLabel) word in the probes)" : candidate.method == .scan ? "" : "   (\(candidate.method.rawValue))"
      lines.append(
        "  " + name + String(format: " %6.1f %%  %6.1f %%   z %.1f", candidate.flipRate * 100, candidate.confidentFlipRate * 100, candidate.score) + note)
    }
    if let known = knownTrigger {
      lines.append("planted trigger '\(known.token)': rank \(known.rank) of \(known.of) for \(known.label) (flip rate \(String(format: "%.1f", known.flipRate * 100)) %)")
    }
    let phrases = maximumTriggerLength > 1 ? ", phrases up to \(maximumTriggerLength) tokens" : ""
    let stages = AuditStageName.allCases.compactMap { stage in
      secondsByStage?[stage.rawValue].map { "\(stage.rawValue.replacingOccurrences(of: "_", with: " ")) \(String(format: "%.1f", $0))" }
    }
    lines.append(
      "\(tokensScanned) tokens × \(probes) probes × \(positions.count) positions\(phrases) in \(String(format: "%.1f", seconds)) s"
        + (stages.isEmpty ? "" : " (\(stages.joined(separator: ", ")))"))
    return lines.joined(separator: "\n")
  }
}
