import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import Reports
import Testing

@Test func lineChartsAreWellFormedSVGWithEverySeries() throws {
  var chart = LineChart(title: "ASR <vs> rate", xLabel: "rate", yLabel: "%", xScale: .logarithmic, yRange: 0...100)
  chart.series = [
    .init(name: "attack success", points: [.init(x: 0.001, y: 20, low: 10, high: 30), .init(x: 0.01, y: 85), .init(x: 0.1, y: 99)]),
    .init(name: "clean accuracy", points: [.init(x: 0.001, y: 76), .init(x: 0.01, y: 75.5), .init(x: 0.1, y: 74)], dashed: true),
  ]
  let svg = chart.svg()
  let document = try XMLDocument(xmlString: svg)
  #expect(document.rootElement()?.name == "svg")
  #expect(svg.contains("ASR &lt;vs&gt; rate"), "text is escaped")
  #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
  #expect(svg.components(separatedBy: "<circle").count - 1 == 6)
  #expect(svg.contains("attack success") && svg.contains("clean accuracy") && svg.contains("stroke-dasharray"))
}

@Test func summaryStatisticsAndTables() {
  let (mean, sd) = meanAndStandardDeviation([1, 2, 3, 4])
  #expect(mean == 2.5)
  #expect(abs(sd - 1.2909944) < 1e-6)
  #expect(meanAndStandardDeviation([5]).standardDeviation == 0)
  #expect(markdownTable(header: ["a", "b"], rows: [["1", "2"]]) == "| a | b |\n|---|---|\n| 1 | 2 |\n")
}
