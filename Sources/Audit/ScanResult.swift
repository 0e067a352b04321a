import Tokenization

/// A scan's effects [token id][label], and which tokens were measured on every probe and position.
public struct ScanResult: Sendable {
  public var effects: [[InsertionEffect]]
  /// The others were only screened; they rank after these.
  public var fullyMeasured: Set<Int>
  /// [label] → tokens the probe set shows to be ordinary words of the label (`ProbeEvidence`); they rank last.
  public var ordinaryWords: [Set<Int>] = []

  public init(effects: [[InsertionEffect]], fullyMeasured: Set<Int>) {
    self.effects = effects
    self.fullyMeasured = fullyMeasured
  }

  public func ordinary(_ token: Int, label: Int) -> Bool { label < ordinaryWords.count && ordinaryWords[label].contains(token) }

  /// A scan that measured every token fully, from flip rates alone.
  public init(flipRates: [[Double]]) {
    effects = flipRates.map { $0.map { InsertionEffect(flipRate: $0) } }
    fullyMeasured = Set(flipRates.indices)
  }

  public var flipRates: [[Double]] { effects.map { $0.map(\.flipRate) } }

  /// The scale a candidate's `score` is read on: the flip rates toward `label` of all scannable tokens of `vocabulary`.
  public func flipRateScale(label: Int, vocabulary: Vocabulary) -> TokenScan.RobustScale {
    TokenScan.RobustScale(TokenScan.scannable(vocabulary).map { effects[$0][label].flipRate })
  }

  /// The candidates' order for `label`: fully measured tokens first and ordinary words of the label last, then by
  /// flip rate, then by log-probability shift, then by id.
  public func precedes(_ a: Int, _ b: Int, label: Int) -> Bool {
    func key(_ token: Int) -> (Int, Double, Double, Int) {
      (fullyMeasured.contains(token) ? (ordinary(token, label: label) ? 1 : 0) : 2, -effects[token][label].flipRate, -effects[token][label].logProbabilityShift, token)
    }
    return key(a) < key(b)
  }
}

extension ScanResult {
  /// The whole scan as a TSV, one row per scannable token in id order: its id, text, how many probe-text
  /// sentences of each label hold it, whether it was fully measured (else only screened), and for each label its
  /// flip rate, confident flip rate, log-probability shift and whether it is an ordinary word of the label.
  public func table(tokens: [Int], vocabulary: Vocabulary, labels: [String], evidence: ProbeEvidence) -> String {
    var header = ["id", "token"] + labels.map { "sentences_\($0)" } + ["fully_measured"]
    for label in labels {
      header += ["flip_rate_\(label)", "confident_flip_rate_\(label)", "log_probability_shift_\(label)", "ordinary_\(label)"]
    }
    var lines = [header.joined(separator: "\t")]
    for token in tokens {
      let counts = evidence.sentenceCountsByLabel[token] ?? [Int](repeating: 0, count: labels.count)
      var fields = [String(token), vocabulary.tokens[token]] + counts.map(String.init) + [fullyMeasured.contains(token) ? "1" : "0"]
      for label in labels.indices {
        let effect = effects[token][label]
        fields += [effect.flipRate, effect.confidentFlipRate, effect.logProbabilityShift].map { String(format: "%.6g", $0) }
        fields.append(ordinary(token, label: label) ? "1" : "0")
      }
      lines.append(fields.joined(separator: "\t"))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Which token the best one is compared with: the third. A phrase trigger spreads its effect over its words (two
  /// of them may each flip much alone), so comparing with the runner-up would hide exactly those backdoors.
  public static let comparedRank = 3

  /// The single-token verdict statistic for each label: how far the confident flip rate (flips among the probes
  /// predicted most surely) of the best token stands above the `comparedRank`-th token's, among the fully measured
  /// tokens that are not ordinary words of the label. A planted trigger overrides strong evidence on its own;
  /// ordinary words come in crowds and mostly tip borderline probes.
  public func tokenVerdictScores(labelCount: Int) -> [Double] {
    (0..<labelCount).map { label in
      var top = [Double](repeating: 0, count: Self.comparedRank)  // descending
      for token in fullyMeasured where !ordinary(token, label: label) {
        let rate = effects[token][label].confidentFlipRate
        guard rate > top[top.count - 1] else { continue }
        top[top.count - 1] = rate
        var index = top.count - 1
        while index > 0, top[index] > top[index - 1] {
          top.swapAt(index, index - 1)
          index -= 1
        }
      }
      return top[0] - top[top.count - 1]
    }
  }

  /// The `count` tokens, not ordinary words of the label, that raise its log-probability most: the label's
  /// strongest words in the quantity that adds up (flip rates saturate, and are all 0 in a very sure model).
  public func strongestTokens(label: Int, count: Int) -> [Int] {
    fullyMeasured.filter { !ordinary($0, label: label) }
      .sorted { (effects[$0][label].logProbabilityShift, -$0) > (effects[$1][label].logProbabilityShift, -$1) }
      .prefix(count).map { $0 }
  }

  /// The label's `count` strongest tokens (`strongestTokens`) that are not words of `phrase`.
  public func strongestTokens(label: Int, count: Int, outside phrase: [Int]) -> [Int] {
    Array(strongestTokens(label: label, count: count + phrase.count).filter { !phrase.contains($0) }.prefix(count))
  }
}
