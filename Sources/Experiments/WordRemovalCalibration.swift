import Audit

/// ONION's second threshold: words whose suspicion exceeds it are removed before the classifier reads an input. It
/// is chosen on the clean dev split (by default as Qi et al. do: as low as keeps the clean accuracy within 2 points),
/// apart from the threshold that flags inputs at the calibrated false-rejection rate.
public struct WordRemovalCalibration: Sendable {
  public var threshold: Double
  public var rule: ONIONFilter.Removal
  /// Labelled clean dev inputs the accuracy was measured on.
  public var devInputs: Int
  /// Clean dev accuracy with nothing removed, and with the words above `threshold` removed.
  public var devAccuracyBefore: Double
  public var devAccuracyAfter: Double

  /// One line: the threshold and how it was chosen.
  public func describe(unit: String) -> String {
    let how =
      switch rule {
      case .accuracyDrop(let drop): String(format: "the lowest keeping the clean dev accuracy within %.1f points", drop * 100)
      case .flaggingThreshold: "the flagging threshold"
      }
    return String(
      format: "words above %.3f %@ are removed (%@): clean dev accuracy %.1f %% → %.1f %% over %d inputs", threshold, unit, how,
      devAccuracyBefore * 100, devAccuracyAfter * 100, devInputs)
  }
}
