import Foundation

/// A line chart written as a standalone SVG: one or more series, optional error bars, a legend, linear
/// or logarithmic x. Enough for attack-vs-rate curves and per-round federated curves.
public struct LineChart: Sendable {
  public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    /// Error bar (for example mean ± sd, or min–max over seeds).
    public var low: Double?
    public var high: Double?
    public init(x: Double, y: Double, low: Double? = nil, high: Double? = nil) {
      self.x = x
      self.y = y
      self.low = low
      self.high = high
    }
  }

  public struct Series: Sendable {
    public var name: String
    public var points: [Point]
    public var dashed: Bool
    public init(name: String, points: [Point], dashed: Bool = false) {
      self.name = name
      self.points = points
      self.dashed = dashed
    }
  }

  public enum Scale: Sendable { case linear, logarithmic }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var xScale: Scale = .linear
  /// y range; nil fits the data.
  public var yRange: ClosedRange<Double>?
  /// Formats tick labels (default: up to 4 significant digits).
  public var xTickFormat: @Sendable (Double) -> String = { String(format: "%.4g", $0) }
  public var yTickFormat: @Sendable (Double) -> String = { String(format: "%.4g", $0) }
  public var series: [Series] = []

  public init(title: String, xLabel: String, yLabel: String, xScale: Scale = .linear, yRange: ClosedRange<Double>? = nil) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.xScale = xScale
    self.yRange = yRange
  }

  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

  public func svg(width: Double = 640, height: Double = 400) -> String {
    // The legend sits right of the plot: room for the longest series name (about 7 px a character at 12 px).
    let longestName = series.map(\.name.count).max() ?? 0
    let left = 64.0, right = max(170.0, 40 + 7 * Double(longestName)), top = 36.0, bottom = 52.0
    let plotWidth = width - left - right, plotHeight = height - top - bottom
    let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (xScale == .linear || $0.x > 0) }
    func transform(_ x: Double) -> Double { xScale == .logarithmic ? log10(x) : x }
    var xMin = points.map { transform($0.x) }.min() ?? 0, xMax = points.map { transform($0.x) }.max() ?? 1
    if xMax - xMin < 1e-12 { xMin -= 0.5; xMax += 0.5 }
    let yValues = points.flatMap { [$0.y, $0.low ?? $0.y, $0.high ?? $0.y] }
    var yLow = yRange?.lowerBound ?? (yValues.min() ?? 0), yHigh = yRange?.upperBound ?? (yValues.max() ?? 1)
    if yHigh - yLow < 1e-12 { yLow -= 0.5; yHigh += 0.5 }
    func px(_ x: Double) -> Double { left + (transform(x) - xMin) / (xMax - xMin) * plotWidth }
    func py(_ y: Double) -> Double { top + (1 - (y - yLow) / (yHigh - yLow)) * plotHeight }
    func f(_ value: Double) -> String { String(format: "%.1f", value) }

    var out = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(f(left + plotWidth / 2))" y="20" text-anchor="middle" font-size="14">\(Self.escape(title))</text>

      """
    // Grid and ticks.
    let yTicks = Self.niceTicks(yLow, yHigh, count: 5)
    for tick in yTicks {
      out += "<line x1=\"\(f(left))\" y1=\"\(f(py(tick)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(tick)))\" stroke=\"#e5e5e5\"/>\n"
      out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(Self.escape(yTickFormat(tick)))</text>\n"
    }
    let xTicks: [Double] =
      xScale == .logarithmic
      ? Array(Set(points.map(\.x))).sorted()
      : Self.niceTicks(xMin, xMax, count: 6)
    for tick in xTicks {
      out += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(top))\" x2=\"\(f(px(tick)))\" y2=\"\(f(top + plotHeight))\" stroke=\"#f0f0f0\"/>\n"
      out += "<text x=\"\(f(px(tick)))\" y=\"\(f(top + plotHeight + 16))\" text-anchor=\"middle\">\(Self.escape(xTickFormat(tick)))</text>\n"
    }
    out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
    out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
    out += "<text transform=\"translate(16 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
    // Series.
    for (index, line) in series.enumerated() {
      let color = Self.palette[index % Self.palette.count]
      let visible = line.points.filter { $0.x.isFinite && $0.y.isFinite && (xScale == .linear || $0.x > 0) }.sorted { $0.x < $1.x }
      if visible.count > 1 {
        let path = visible.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
        out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
      }
      for point in visible {
        if let low = point.low, let high = point.high {
          out += "<line x1=\"\(f(px(point.x)))\" y1=\"\(f(py(low)))\" x2=\"\(f(px(point.x)))\" y2=\"\(f(py(high)))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
        }
        out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3\" fill=\"\(color)\"/>\n"
      }
      let legendY = top + 8 + Double(index) * 18
      out += "<line x1=\"\(f(left + plotWidth + 12))\" y1=\"\(f(legendY))\" x2=\"\(f(left + plotWidth + 32))\" y2=\"\(f(legendY))\" stroke=\"\(color)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
      out += "<text x=\"\(f(left + plotWidth + 38))\" y=\"\(f(legendY + 4))\">\(Self.escape(line.name))</text>\n"
    }
    return out + "</svg>\n"
  }

  /// About `count` round-numbered ticks covering [low, high].
  static func niceTicks(_ low: Double, _ high: Double, count: Int) -> [Double] {
    let raw = (high - low) / Double(max(count - 1, 1))
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    var ticks: [Double] = []
    var tick = ceil(low / step - 1e-9) * step
    while tick <= high + step * 1e-9 {
      ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
      tick += step
    }
    return ticks
  }

  static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
      .replacingOccurrences(of: "\"", with: "&quot;")
  }
}

/// A Markdown table.
public func markdownTable(header: [String], rows: [[String]]) -> String {
  var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
  lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
  return lines.joined(separator: "\n") + "\n"
}

/// Mean and sample standard deviation.
public func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
  guard !values.isEmpty else { return (.nan, .nan) }
  let mean = values.reduce(0, +) / Double(values.count)
  guard values.count > 1 else { return (mean, 0) }
  let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
  return (mean, variance.squareRoot())
}
