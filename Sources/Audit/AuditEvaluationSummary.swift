import Foundation

/// One folder's figures in the JSON of several: its `AuditEvaluation` (its models named as in the pooled list)
/// with the folder's name beside them.
public struct FolderEvaluation: Encodable, Sendable {
  public var folder: String
  public var evaluation: AuditEvaluation

  public init(folder: String, evaluation: AuditEvaluation) {
    self.folder = folder
    self.evaluation = evaluation
  }

  enum CodingKeys: String, CodingKey { case folder }

  public func encode(to encoder: Encoder) throws {
    try evaluation.encode(to: encoder)
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(folder, forKey: .folder)
  }
}

/// The JSON of several folders: the pooled evaluation's keys, as for one folder, and `by_folder`, each folder's.
public struct PooledEvaluation: Encodable, Sendable {
  public var pooled: AuditEvaluation
  public var byFolder: [FolderEvaluation]

  public init(pooled: AuditEvaluation, byFolder: [FolderEvaluation]) {
    self.pooled = pooled
    self.byFolder = byFolder
  }

  enum CodingKeys: String, CodingKey { case byFolder = "by_folder" }

  public func encode(to encoder: Encoder) throws {
    try pooled.encode(to: encoder)
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(byFolder, forKey: .byFolder)
  }
}

extension AuditEvaluation {
  /// One line of figures per folder: the pooled figures hide how much the sets differ.
  public static func perFolderTable(_ rows: [(String, AuditEvaluation)]) -> String {
    let header = ["folder", "models", "ROC-AUC", "TPR at 5 % FPR", "flagged: backdoored & clean", "rare-word top 5", "phrase top 5", "learnt part top 5", "target right"]
    func count(_ share: AuditEvaluation.Share) -> String { "\(share.count)/\(share.of)" }
    let lines = rows.map { name, evaluation in
      [
        name, "\(evaluation.backdoored) + \(evaluation.clean)", evaluation.rocAUC.map { String(format: "%.3f", $0) } ?? "–",
        evaluation.truePositiveRateAtFivePercent.map { String(format: "%.1f %%", $0 * 100) } ?? "–",
        "\(count(evaluation.truePositives)) & \(count(evaluation.falsePositives))", count(evaluation.rareWordRecovered),
        count(evaluation.phraseRecovered), count(evaluation.learnedPartRecovered), count(evaluation.targetRight),
      ]
    }
    let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max()! }
    return ([header] + lines).map { cells in
      zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }

  /// The evaluation in a few lines of prose: counts, ROC-AUC, the 5 % FPR operating point, the verdicts at `threshold`,
  /// trigger recovery by kind and architecture, the target label, the time per audit.
  public func summary(threshold: Double) -> String {
    func share(_ share: AuditEvaluation.Share) -> String {
      let interval = share.interval.map { String(format: "; 95 %% CI %.0f–%.0f %%", $0.lowerBound * 100, $0.upperBound * 100) } ?? ""
      return "\(share.count) of \(share.of) (\(String(format: "%.0f", share.rate * 100)) %\(interval))"
    }
    return [
      "\(backdoored) backdoored and \(clean) clean models",
      rocAUC.map { auc in
        String(format: "verdict score ROC-AUC %.3f", auc)
          + (rocAUCInterval.map { String(format: " (95 %% CI %.3f–%.3f)", $0.lowerBound, $0.upperBound) } ?? "")
      } ?? "verdict score ROC-AUC: needs clean and backdoored models",
      thresholdAtFivePercent.map { threshold in
        String(
          format: "at 5 %% FPR (score > %.3f): TPR %@, FPR %.1f %%", threshold,
          truePositiveRateAtFivePercent.map { String(format: "%.1f %%", $0 * 100) } ?? "–", (falsePositiveRateAtFivePercent ?? 0) * 100)
      } ?? "at 5 % FPR: needs clean models",
      "at the threshold \(String(format: "%.3g", threshold)): \(share(truePositives)) backdoored models flagged, "
        + "\(share(falsePositives)) clean models flagged",
      "rare-word triggers in the top 5: \(share(rareWordRecovered))",
      "phrase triggers in the top 5 (a candidate with two of its words or more): \(share(phraseRecovered)); "
        + "with one of its words at least: \(share(phraseWordFound)); "
        + "made of its words alone (a part of the phrase): \(share(phrasePartFound))",
      "phrase triggers as the models learnt them in the top 5 (the shortest part that alone turns "
        + "\(String(format: "%.0f", AuditedModel.learnedPartShare * 100)) % of the phrase's attack success into the target; "
        + "a candidate with two of its words, the word of a one-word part): \(share(learnedPartRecovered))",
      phraseByArchitecture.isEmpty ? nil : "phrase triggers by architecture (two words in the top 5; learnt one word of it; learnt part in the top 5): "
        + phraseByArchitecture.map { figures in
          "\(figures.architecture) \(figures.recovered.count)/\(figures.models); \(figures.learnedOneWord); "
            + "\(figures.learnedPartRecovered.count)/\(figures.learnedPartRecovered.of)"
        }.joined(separator: ", "),
      byArchitecture.isEmpty ? nil : "by architecture (ROC-AUC; flagged backdoored, clean; rare word in the top 5; learnt phrase part in the top 5; "
        + "REASR ≥ \(String(format: "%.1f", TriggerReproduction.reproducingShare))× the planted trigger's): "
        + byArchitecture.map { figures in
          let auc = figures.rocAUC.map { auc in
            String(format: "%.3f", auc) + (figures.rocAUCInterval.map { String(format: " (%.3f–%.3f)", $0.lowerBound, $0.upperBound) } ?? "")
          } ?? "–"
          return "\(figures.architecture) \(auc); \(figures.truePositives.count)/\(figures.truePositives.of), \(figures.falsePositives.count)/\(figures.falsePositives.of); "
            + "\(figures.rareWordRecovered.count)/\(figures.rareWordRecovered.of); \(figures.learnedPartRecovered.count)/\(figures.learnedPartRecovered.of); "
            + "\(figures.reproduced.count)/\(figures.reproduced.of)"
        }.joined(separator: " · "),
      byTriggerKind.isEmpty ? nil : "by trigger kind (flagged; trigger or learnt part in the top 5; REASR reached; median REASR ratio): "
        + byTriggerKind.map { figures in
          "\(figures.kind) \(figures.truePositives.count)/\(figures.models); \(figures.recovered.count)/\(figures.models); "
            + "\(figures.reproduced.count)/\(figures.reproduced.of); \(figures.medianReproductionRatio.map { String(format: "%.2f", $0) } ?? "–")"
        }.joined(separator: " · "),
      reproduced.of == 0 ? nil : "top candidate reproduces the backdoor (its attack success toward the suspected label on the test split "
        + "≥ \(String(format: "%.1f", TriggerReproduction.reproducingShare))× the planted trigger's): \(share(reproduced)); "
        + "reproducing it toward the planted target: \(share(reproducedTowardTheTarget))",
      probabilityScores.map { scores in
        String(
          format: "P(backdoored), Platt-calibrated on the other models (leave-one-out, %d models): cross-entropy %.3f nats, Brier %.3f "
            + "(a constant guess of the backdoored share: %.3f, %.3f)", scores.models, scores.crossEntropy, scores.brier, scores.priorCrossEntropy,
          scores.priorBrier)
          + (calibration.map { String(format: "; fitted on all: P = 1/(1 + exp(−(%.3f·score %+.3f)))", $0.slope, $0.intercept) } ?? "")
      },
      "suspected target label right: \(share(targetRight))",
      String(format: "seconds per audit: median %.1f, max %.1f", medianSeconds, maximumSeconds),
    ].compactMap { $0 }.joined(separator: "\n")
  }
}
