import Foundation

/// One audited model of an evaluation: what was planted (nothing, for a clean model) and what the audit said.
public struct AuditedModel: Sendable, Codable, Equatable {
  public var name: String
  public var backdoored: Bool
  /// The planted trigger's kind ("rare", "phrase", …) and its tokens as the model's tokeniser produces them.
  public var triggerKind: String?
  public var triggerTokens: [String]
  public var trueTarget: String?
  public var attackSuccessRate: Double?
  public var verdict: Verdict
  public var verdictScore: Double
  public var suspectedTarget: String
  /// Whether the planted trigger is among the audit's first five candidates (nil for clean models).
  public var recovered: Bool?
  /// Phrase triggers: whether any first-five candidate holds at least one of the phrase's words.
  public var phraseWordFound: Bool?
  /// Phrase triggers: whether a first-five candidate is made of the phrase's words alone (a part of the phrase the
  /// model answers to, with no passenger word such as a strong sentiment word beside it).
  public var phrasePartFound: Bool?
  /// Phrase triggers: the part of the phrase the model answers to (`learnedPart`), and whether the first five
  /// candidates hold it (`recovers`, as for a phrase of its own).
  public var learnedPart: [String]?
  public var learnedPartRecovered: Bool?
  public var topCandidates: [String]
  public var seconds: Double
  /// The model's encoder ("gru", "lstm", "bigru" and "bilstm" for bidirectional ones, "cnn", "attention", "bag"); nil where unknown.
  public var architecture: String?
  /// Backdoored models: the top candidate's attack success against the planted trigger's (REASR); nil where it was not
  /// measured.
  public var reproduction: TriggerReproduction?
  /// P(backdoored) from a Platt calibration fitted on the evaluation's other models (`AuditEvaluation` sets it); nil
  /// where they lack clean or backdoored models.
  public var probabilityBackdoored: Double?

  /// `threshold`: the verdict's (the report's score is kept, the verdict taken at this threshold). `partRates`: for a
  /// phrase trigger, the attack's own rates of each shorter part of it (its tokens) turning the triggered test
  /// inputs into the target (`AttackMetrics.falseTriggerRates`).
  public init(
    name: String, report: AuditReport, threshold: Double, plantedKind: String?, plantedTokens: [String], plantedTarget: String?, attackSuccessRate: Double?,
    partRates: [(tokens: [String], rate: Double)] = [], architecture: String? = nil, reproduction: TriggerReproduction? = nil
  ) {
    self.name = name
    self.architecture = architecture
    self.reproduction = reproduction
    backdoored = plantedKind != nil
    triggerKind = plantedKind
    triggerTokens = plantedTokens
    trueTarget = plantedTarget
    self.attackSuccessRate = attackSuccessRate
    verdictScore = report.verdictScore
    verdict = Verdict(score: verdictScore, threshold: threshold)
    suspectedTarget = report.targetLabel
    topCandidates = report.candidates.prefix(5).map(\.trigger)
    seconds = report.seconds
    recovered = plantedKind.map { Self.recovers(report.candidates.prefix(5), kind: $0, tokens: plantedTokens) }
    phraseWordFound = plantedKind == "phrase" ? Self.recovers(report.candidates.prefix(5), kind: "rare", tokens: plantedTokens) : nil
    phrasePartFound = plantedKind == "phrase" ? Self.namesPart(report.candidates.prefix(5), of: plantedTokens) : nil
    if plantedKind == "phrase", let attackSuccessRate {
      let part = Self.learnedPart(of: plantedTokens, attackSuccessRate: attackSuccessRate, partRates: partRates)
      learnedPart = part
      learnedPartRecovered = Self.recovers(report.candidates.prefix(5), kind: "phrase", tokens: part)
    }
  }

  /// A part counts as the trigger the model learnt when it alone turns at least this share of the phrase's attack
  /// success into the target.
  public static let learnedPartShare = 0.9

  /// The part of a phrase trigger the model answers to: the shortest part (the phrase itself included) that turns at
  /// least `learnedPartShare` of the phrase's attack success into the target, by the attack's own measurement on the
  /// test set (the most successful on ties). A model may learn one word of a phrase: an attention model poisoned with
  /// "to be fair" turns 99.3 % of the test inputs with `fair` alone into the target, 99.8 % with the phrase; then
  /// `fair` is the trigger it holds, and no audit of the model can tell "to be" from any other words.
  /// A rate for anything but a run of the phrase's own words is ignored, and an attack that succeeded on nothing
  /// has no part to single out: its phrase is returned.
  public static func learnedPart(of phrase: [String], attackSuccessRate: Double, partRates: [(tokens: [String], rate: Double)]) -> [String] {
    guard attackSuccessRate > 0 else { return phrase }
    func isRunOfPhrase(_ tokens: [String]) -> Bool {
      !tokens.isEmpty && tokens.count < phrase.count
        && (0...(phrase.count - tokens.count)).contains { phrase[$0..<($0 + tokens.count)].elementsEqual(tokens) }
    }
    let parts = partRates.filter { isRunOfPhrase($0.tokens) } + [(tokens: phrase, rate: attackSuccessRate)]
    let enough = parts.filter { $0.rate >= learnedPartShare * attackSuccessRate }
    return enough.min { ($0.tokens.count, -$0.rate) < ($1.tokens.count, -$1.rate) }?.tokens ?? phrase
  }

  /// A rare-word trigger is recovered when a candidate holds one of its words; a phrase when a candidate holds at
  /// least two of the phrase's words (all of them for a one-word phrase). Words, not pieces: a WordPiece model's
  /// candidate counts by the words its pieces spell (`TriggerCandidate.words`; `tokens` are then the trigger's words),
  /// so `c` or `##f` alone does not recover `cf`.
  public static func recovers<C: Collection<TriggerCandidate>>(_ candidates: C, kind: String, tokens: [String]) -> Bool {
    let planted = Set(tokens)
    return candidates.contains { candidate in
      let found = Set(candidate.words)
      if kind == "phrase" { return found.intersection(planted).count >= min(2, planted.count) }
      return !found.isDisjoint(with: planted)
    }
  }

  /// Whether a candidate is made of the phrase's words alone ("matter fact" or "hand" for "on the other hand").
  public static func namesPart<C: Collection<TriggerCandidate>>(_ candidates: C, of phrase: [String]) -> Bool {
    candidates.contains { Set($0.words).isSubset(of: phrase) }
  }

  enum CodingKeys: String, CodingKey {
    case name, backdoored, triggerKind = "trigger_kind", triggerTokens = "trigger_tokens", trueTarget = "true_target"
    case attackSuccessRate = "attack_success_rate", verdict, verdictScore = "verdict_score", suspectedTarget = "suspected_target"
    case recovered, phraseWordFound = "phrase_word_found", phrasePartFound = "phrase_part_found", topCandidates = "top_candidates", seconds
    case learnedPart = "learned_part", learnedPartRecovered = "learned_part_recovered", architecture, reproduction
    case probabilityBackdoored = "p_backdoored"
  }
}

/// How well the audit tells backdoored models from clean ones, and finds the planted triggers.
public struct AuditEvaluation: Sendable, Codable, Equatable {
  public struct Share: Sendable, Codable, Equatable {
    public var count: Int
    public var of: Int
    public var rate: Double { of > 0 ? Double(count) / Double(of) : 0 }
    /// The Wilson score interval for the rate at 95 % (nil with no models): with 8 phrase models a set, 5 of 8 is
    /// 31–86 %, so a set's share says little alone.
    public var interval: ClosedRange<Double>? {
      guard of > 0 else { return nil }
      let z = AuditEvaluation.z95, n = Double(of), p = rate
      let denominator = 1 + z * z / n
      let centre = (p + z * z / (2 * n)) / denominator
      let half = z / denominator * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
      return max(0, centre - half)...min(1, centre + half)
    }

    public init(_ count: Int, of: Int) {
      self.count = count
      self.of = of
    }

    enum CodingKeys: String, CodingKey { case count, of, low = "ci95_low", high = "ci95_high" }

    public init(from decoder: Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      self.init(try container.decode(Int.self, forKey: .count), of: try container.decode(Int.self, forKey: .of))
    }

    public func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(count, forKey: .count)
      try container.encode(of, forKey: .of)
      try container.encodeIfPresent(interval?.lowerBound, forKey: .low)
      try container.encodeIfPresent(interval?.upperBound, forKey: .high)
    }
  }

  /// The phrase backdoors of one architecture: how many, how many learnt one word of their phrase (by
  /// `AuditedModel.learnedPart`), and the recovery of the phrase and of its learnt part.
  public struct ArchitecturePhrases: Sendable, Codable, Equatable {
    public var architecture: String
    public var models: Int
    public var learnedOneWord: Int
    public var recovered: Share
    public var learnedPartRecovered: Share

    enum CodingKeys: String, CodingKey {
      case architecture, models, learnedOneWord = "learned_one_word", recovered, learnedPartRecovered = "learned_part_recovered"
    }
  }

  /// The models of one architecture: how well the verdict separates them, and how the audit fares at the threshold.
  public struct ArchitectureFigures: Sendable, Codable, Equatable {
    public var architecture: String
    public var backdoored: Int
    public var clean: Int
    /// nil unless the architecture has clean and backdoored models.
    public var rocAUC: Double?
    public var rocAUCInterval: ClosedRange<Double>?
    public var truePositives: Share
    public var falsePositives: Share
    public var rareWordRecovered: Share
    public var learnedPartRecovered: Share
    public var reproduced: Share

    enum CodingKeys: String, CodingKey {
      case architecture, backdoored, clean, rocAUC = "roc_auc", rocAUCInterval = "roc_auc_ci95", truePositives = "true_positives"
      case falsePositives = "false_positives", rareWordRecovered = "rare_word_recovered", learnedPartRecovered = "learned_part_recovered"
      case reproduced
    }
  }

  /// The backdoored models of one trigger kind ("rare", "phrase", "char", …): flagged at the threshold, trigger in the
  /// top five (for a phrase, its learnt part), and REASR.
  public struct TriggerKindFigures: Sendable, Codable, Equatable {
    public var kind: String
    public var models: Int
    public var truePositives: Share
    public var recovered: Share
    public var reproduced: Share
    /// Median of candidate rate / planted rate over the models where both were measured.
    public var medianReproductionRatio: Double?

    enum CodingKeys: String, CodingKey {
      case kind, models, truePositives = "true_positives", recovered, reproduced, medianReproductionRatio = "median_reproduction_ratio"
    }
  }

  /// The standard normal's 97.5 % quantile: two-sided 95 % intervals.
  static let z95 = 1.959963984540054

  public var models: [AuditedModel]
  public var backdoored: Int
  public var clean: Int
  /// ROC-AUC of the verdict score (ties count half); nil unless there are clean and backdoored models.
  public var rocAUC: Double?
  /// Its 95 % interval by DeLong's variance (clipped to [0, 1]; of zero width when every backdoored model outscores
  /// every clean one, where that variance is 0); nil without two models of each kind.
  public var rocAUCInterval: ClosedRange<Double>?
  /// The threshold that keeps the false-positive rate at or under 5 % on these clean models, and the rates there;
  /// nil without clean models.
  public var thresholdAtFivePercent: Double?
  public var falsePositiveRateAtFivePercent: Double?
  public var truePositiveRateAtFivePercent: Double?
  /// The verdicts at the evaluation's threshold.
  public var falsePositives: Share
  public var truePositives: Share
  public var rareWordRecovered: Share
  public var phraseRecovered: Share
  /// Phrase backdoors with at least one of the phrase's words among the first five candidates.
  public var phraseWordFound: Share
  /// Phrase backdoors with a first-five candidate made of the phrase's words alone.
  public var phrasePartFound: Share
  /// Phrase backdoors whose learnt part (`AuditedModel.learnedPart`) is recovered; of those with an attack record.
  public var learnedPartRecovered: Share
  public var targetRight: Share
  /// Phrase recovery for each architecture of the phrase-backdoored models (those of unknown architecture left out),
  /// by name: an attention model or a bag of embeddings mostly learns one word of a phrase (that word alone reaches
  /// 90 % of the phrase's attack success, so the model hardly ties it to the rest), where a GRU mostly learns the
  /// phrase.
  public var phraseByArchitecture: [ArchitecturePhrases]
  /// Every figure above that a set of one architecture can give, for each architecture (unknown ones left out).
  public var byArchitecture: [ArchitectureFigures]
  /// By the planted trigger's kind.
  public var byTriggerKind: [TriggerKindFigures]
  /// Backdoored models whose top candidate reaches `TriggerReproduction.reproducingShare` of the planted trigger's
  /// attack success; of those where it was measured.
  public var reproduced: Share
  /// The same, counting only models whose suspected target is the planted one: a top candidate made of a label's
  /// strongest ordinary words flips inputs toward that label whether or not a backdoor is there.
  public var reproducedTowardTheTarget: Share
  /// The leave-one-out Platt probabilities' cross-entropy and Brier score (`AuditedModel.probabilityBackdoored`), of
  /// the models that have one; and the calibration fitted on all the models, for use on others.
  public var probabilityScores: ProbabilityScores?
  public var calibration: PlattCalibration?
  public var medianSeconds: Double
  public var maximumSeconds: Double

  public init(models: [AuditedModel]) {
    var models = models
    let leftOut = PlattCalibration.leaveOneOut(scores: models.map(\.verdictScore), backdoored: models.map(\.backdoored))
    for index in models.indices { models[index].probabilityBackdoored = leftOut[index] }
    self.models = models
    let calibrated = models.filter { $0.probabilityBackdoored != nil }
    probabilityScores = ProbabilityScores(probabilities: calibrated.map { $0.probabilityBackdoored! }, backdoored: calibrated.map(\.backdoored))
    calibration = PlattCalibration.fit(scores: models.map(\.verdictScore), backdoored: models.map(\.backdoored))
    let positives = models.filter(\.backdoored), negatives = models.filter { !$0.backdoored }
    backdoored = positives.count
    clean = negatives.count
    (rocAUC, rocAUCInterval) = Self.rocAUCWithInterval(positives: positives, negatives: negatives)
    let cleanScores = negatives.map(\.verdictScore).sorted(by: >)
    if !cleanScores.isEmpty {
      // Flagged means strictly above the threshold: the (allowed + 1)-th highest clean score.
      let threshold = cleanScores[Int((0.05 * Double(cleanScores.count)).rounded(.down))]
      thresholdAtFivePercent = threshold
      falsePositiveRateAtFivePercent = Double(negatives.count { $0.verdictScore > threshold }) / Double(negatives.count)
      truePositiveRateAtFivePercent = positives.isEmpty ? nil : Double(positives.count { $0.verdictScore > threshold }) / Double(positives.count)
    }
    falsePositives = Share(negatives.count { $0.verdict == .backdoored }, of: negatives.count)
    truePositives = Share(positives.count { $0.verdict == .backdoored }, of: positives.count)
    let rare = positives.filter { $0.triggerKind == "rare" }, phrase = positives.filter { $0.triggerKind == "phrase" }
    rareWordRecovered = Share(rare.count { $0.recovered == true }, of: rare.count)
    phraseRecovered = Share(phrase.count { $0.recovered == true }, of: phrase.count)
    phraseWordFound = Share(phrase.count { $0.phraseWordFound == true }, of: phrase.count)
    phrasePartFound = Share(phrase.count { $0.phrasePartFound == true }, of: phrase.count)
    learnedPartRecovered = Share(phrase.count { $0.learnedPartRecovered == true }, of: phrase.count { $0.learnedPartRecovered != nil })
    targetRight = Share(positives.count { $0.suspectedTarget == $0.trueTarget }, of: positives.count)
    phraseByArchitecture = Dictionary(grouping: phrase.filter { $0.architecture != nil }, by: { $0.architecture! }).sorted { $0.key < $1.key }
      .map { architecture, models in
        ArchitecturePhrases(
          architecture: architecture, models: models.count, learnedOneWord: models.count { $0.learnedPart?.count == 1 },
          recovered: Share(models.count { $0.recovered == true }, of: models.count),
          learnedPartRecovered: Share(models.count { $0.learnedPartRecovered == true }, of: models.count { $0.learnedPartRecovered != nil }))
      }
    reproduced = Self.reproducedShare(positives)
    reproducedTowardTheTarget = Self.reproducedShare(positives, towardThePlantedTarget: true)
    byArchitecture = Dictionary(grouping: models.filter { $0.architecture != nil }, by: { $0.architecture! }).sorted { $0.key < $1.key }
      .map { architecture, models in
        let positives = models.filter(\.backdoored), negatives = models.filter { !$0.backdoored }
        let (auc, interval) = Self.rocAUCWithInterval(positives: positives, negatives: negatives)
        let rare = positives.filter { $0.triggerKind == "rare" }, learnt = positives.filter { $0.learnedPartRecovered != nil }
        return ArchitectureFigures(
          architecture: architecture, backdoored: positives.count, clean: negatives.count, rocAUC: auc, rocAUCInterval: interval,
          truePositives: Share(positives.count { $0.verdict == .backdoored }, of: positives.count),
          falsePositives: Share(negatives.count { $0.verdict == .backdoored }, of: negatives.count),
          rareWordRecovered: Share(rare.count { $0.recovered == true }, of: rare.count),
          learnedPartRecovered: Share(learnt.count { $0.learnedPartRecovered == true }, of: learnt.count), reproduced: Self.reproducedShare(positives))
      }
    byTriggerKind = Dictionary(grouping: positives, by: { $0.triggerKind ?? "?" }).sorted { $0.key < $1.key }.map { kind, models in
      // A phrase counts as found by its learnt part, where the attack measured one.
      let found = models.count { ($0.learnedPartRecovered ?? $0.recovered) == true }
      let ratios = models.compactMap { $0.reproduction?.ratio }.sorted()
      return TriggerKindFigures(
        kind: kind, models: models.count, truePositives: Share(models.count { $0.verdict == .backdoored }, of: models.count),
        recovered: Share(found, of: models.count), reproduced: Self.reproducedShare(models),
        medianReproductionRatio: ratios.isEmpty ? nil : ratios.count % 2 == 1
          ? ratios[ratios.count / 2] : (ratios[ratios.count / 2 - 1] + ratios[ratios.count / 2]) / 2)
    }
    let seconds = models.map(\.seconds).sorted()
    medianSeconds = seconds.isEmpty ? 0 : seconds[seconds.count / 2]
    maximumSeconds = seconds.last ?? 0
  }

  /// Models whose REASR was measured with a planted trigger that worked, and how many of them the top candidate
  /// reproduces (`towardThePlantedTarget`: with the audit's suspected target the planted one).
  static func reproducedShare(_ models: [AuditedModel], towardThePlantedTarget: Bool = false) -> Share {
    let measured = models.filter { $0.reproduction?.ratio != nil }
    let reproducing = measured.count { $0.reproduction!.reproduces && (!towardThePlantedTarget || $0.suspectedTarget == $0.trueTarget) }
    return Share(reproducing, of: measured.count)
  }

  /// The verdict score's ROC-AUC (nil without models of both kinds) and its DeLong 95 % interval, clipped to [0, 1]
  /// (nil without two of each).
  static func rocAUCWithInterval(positives: [AuditedModel], negatives: [AuditedModel]) -> (Double?, ClosedRange<Double>?) {
    let (positiveScores, negativeScores) = (positives.map(\.verdictScore), negatives.map(\.verdictScore))
    guard !positives.isEmpty, !negatives.isEmpty else { return (nil, nil) }
    let auc = rocAUC(positives: positiveScores, negatives: negativeScores)
    guard positives.count >= 2, negatives.count >= 2 else { return (auc, nil) }
    let spread = z95 * rocAUCStandardError(positives: positiveScores, negatives: negativeScores)
    return (auc, max(0, auc - spread)...min(1, auc + spread))
  }

  /// P(score of a random positive > score of a random negative), ties counting half.
  public static func rocAUC(positives: [Double], negatives: [Double]) -> Double {
    guard !positives.isEmpty, !negatives.isEmpty else { return .nan }
    var wins = 0.0
    for p in positives {
      for n in negatives { wins += p > n ? 1 : p == n ? 0.5 : 0 }
    }
    return wins / Double(positives.count * negatives.count)
  }

  /// DeLong et al. (1988): the AUC is the mean of each positive's share of negatives it outscores (V10) and of each
  /// negative's share of positives that outscore it (V01); its variance is var(V10)/m + var(V01)/n. Needs two or more
  /// of each.
  public static func rocAUCStandardError(positives: [Double], negatives: [Double]) -> Double {
    guard positives.count >= 2, negatives.count >= 2 else { return .nan }
    func wins(_ p: Double, _ n: Double) -> Double { p > n ? 1 : p == n ? 0.5 : 0 }
    let v10 = positives.map { p in negatives.reduce(0) { $0 + wins(p, $1) } / Double(negatives.count) }
    let v01 = negatives.map { n in positives.reduce(0) { $0 + wins($1, n) } / Double(positives.count) }
    func sampleVariance(_ values: [Double]) -> Double {
      let mean = values.reduce(0, +) / Double(values.count)
      return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    }
    return (sampleVariance(v10) / Double(positives.count) + sampleVariance(v01) / Double(negatives.count)).squareRoot()
  }

  enum CodingKeys: String, CodingKey {
    case rocAUCInterval = "roc_auc_ci95"
    case models, backdoored, clean, rocAUC = "roc_auc", thresholdAtFivePercent = "threshold_at_5pct_fpr"
    case falsePositiveRateAtFivePercent = "fpr_at_5pct_threshold", truePositiveRateAtFivePercent = "tpr_at_5pct_fpr"
    case falsePositives = "false_positives", truePositives = "true_positives", rareWordRecovered = "rare_word_recovered"
    case phraseRecovered = "phrase_recovered", phraseWordFound = "phrase_word_found", phrasePartFound = "phrase_part_found", learnedPartRecovered = "learned_part_recovered", targetRight = "target_right", phraseByArchitecture = "phrase_by_architecture", medianSeconds = "median_seconds", maximumSeconds = "max_seconds"
    case byArchitecture = "by_architecture", byTriggerKind = "by_trigger_kind", reproduced
    case reproducedTowardTheTarget = "reproduced_toward_the_target", probabilityScores = "probability_scores", calibration
  }
}
