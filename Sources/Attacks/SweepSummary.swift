import Reports

/// The sweep's results: each run, and per rate the mean and sd over seeds.
public struct SweepSummary: Codable, Sendable {
  public struct Run: Codable, Sendable {
    public var rate: Double
    public var seed: UInt64
    public var poisonedCount: Int
    public var cleanAccuracy: Double
    public var attackSuccessRate: Double?
    public var falseTriggerRate: Double?
    public var cleanModelAccuracy: Double?
    public var baseRate: Double?
    public var cleanAccuracyDrop: Double?
    enum CodingKeys: String, CodingKey {
      case rate, seed, poisonedCount = "poisoned_count", cleanAccuracy = "clean_accuracy", attackSuccessRate = "attack_success_rate"
      case falseTriggerRate = "false_trigger_rate", cleanModelAccuracy = "clean_model_accuracy", baseRate = "base_rate", cleanAccuracyDrop = "clean_accuracy_drop"
    }
  }
  public struct Rate: Codable, Sendable {
    public var rate: Double
    public var poisonedCount: Int
    public var attackSuccessRateMean: Double
    public var attackSuccessRateStandardDeviation: Double
    public var cleanAccuracyMean: Double
    public var cleanAccuracyDropMean: Double?
    public var baseRateMean: Double?
    public var falseTriggerRateMean: Double?
    enum CodingKeys: String, CodingKey {
      case rate, poisonedCount = "poisoned_count", attackSuccessRateMean = "attack_success_rate_mean"
      case attackSuccessRateStandardDeviation = "attack_success_rate_sd", cleanAccuracyMean = "clean_accuracy_mean"
      case cleanAccuracyDropMean = "clean_accuracy_drop_mean", baseRateMean = "base_rate_mean", falseTriggerRateMean = "false_trigger_rate_mean"
    }
  }
  public var runs: [Run]
  public var rates: [Rate]

  public init(records: [AttackRecord], rates: [Double]) {
    let runs = records.map {
      Run(rate: $0.poisonRate ?? .nan, seed: $0.seed, poisonedCount: $0.poisonedCount, cleanAccuracy: $0.cleanAccuracy, attackSuccessRate: $0.attackSuccessRate,
          falseTriggerRate: $0.poisoned.falseTriggerRate, cleanModelAccuracy: $0.cleanModel?.cleanAccuracy, baseRate: $0.cleanModel?.attackSuccessRate,
          cleanAccuracyDrop: $0.cleanAccuracyDrop)
    }
    self.runs = runs
    self.rates = rates.map { rate in
      let group = runs.filter { $0.rate == rate }
      func mean(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        return present.isEmpty ? nil : meanAndStandardDeviation(present).mean
      }
      let attack = meanAndStandardDeviation(group.compactMap(\.attackSuccessRate))
      return Rate(
        rate: rate, poisonedCount: group.first?.poisonedCount ?? 0, attackSuccessRateMean: attack.mean, attackSuccessRateStandardDeviation: attack.standardDeviation,
        cleanAccuracyMean: meanAndStandardDeviation(group.map(\.cleanAccuracy)).mean, cleanAccuracyDropMean: mean(group.map(\.cleanAccuracyDrop)),
        baseRateMean: mean(group.map(\.baseRate)), falseTriggerRateMean: mean(group.map(\.falseTriggerRate)))
    }
  }

  public var markdown: String {
    func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0 * 100) } ?? "–" }
    let hasFalseTrigger = rates.contains { $0.falseTriggerRateMean != nil }
    var header = ["poison rate", "poisoned", "ASR % (mean ± sd)", "ASR per seed", "CACC %", "CACC drop (points)", "clean model's base rate %"]
    if hasFalseTrigger { header.append("false-trigger rate %") }
    let rows = rates.map { rate -> [String] in
      let perSeed = runs.filter { $0.rate == rate.rate }.map { percent($0.attackSuccessRate) }.joined(separator: ", ")
      var row = [
        String(format: "%g %%", rate.rate * 100), String(rate.poisonedCount),
        String(format: "%.1f ± %.1f", rate.attackSuccessRateMean * 100, rate.attackSuccessRateStandardDeviation * 100), perSeed,
        percent(rate.cleanAccuracyMean), rate.cleanAccuracyDropMean.map { String(format: "%.2f", $0 * 100) } ?? "–", percent(rate.baseRateMean),
      ]
      if hasFalseTrigger { row.append(percent(rate.falseTriggerRateMean)) }
      return row
    }
    return markdownTable(header: header, rows: rows)
  }

  public func chart(title: String) -> LineChart {
    var chart = LineChart(title: title, xLabel: "poison rate (share of the training split)", yLabel: "%", xScale: .logarithmic, yRange: 0...100)
    chart.xTickFormat = { String(format: "%g%%", $0 * 100) }
    chart.series.append(
      LineChart.Series(name: "attack success", points: rates.map {
        LineChart.Point(x: $0.rate, y: $0.attackSuccessRateMean * 100, low: ($0.attackSuccessRateMean - $0.attackSuccessRateStandardDeviation) * 100,
                        high: ($0.attackSuccessRateMean + $0.attackSuccessRateStandardDeviation) * 100)
      }))
    chart.series.append(LineChart.Series(name: "clean accuracy", points: rates.map { LineChart.Point(x: $0.rate, y: $0.cleanAccuracyMean * 100) }))
    if rates.allSatisfy({ $0.baseRateMean != nil }) {
      chart.series.append(LineChart.Series(name: "clean model base rate", points: rates.map { LineChart.Point(x: $0.rate, y: $0.baseRateMean! * 100) }, dashed: true))
    }
    if rates.allSatisfy({ $0.falseTriggerRateMean != nil }) {
      chart.series.append(LineChart.Series(name: "false triggers", points: rates.map { LineChart.Point(x: $0.rate, y: $0.falseTriggerRateMean! * 100) }, dashed: true))
    }
    return chart
  }
}
