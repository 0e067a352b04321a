import Foundation
import Testing
import TestSupport

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Two toy experiments (FedAvg and norm clipping) in one folder, the first audited with its planted trigger known.
private func auditedRunFolder() throws -> String {
  let (config, directory) = try toyExperiment(rounds: 3)
  let parent = directory + "/rules"
  for (name, extra) in [("fedavg", [String]()), ("clipping", ["--set", "aggregator.kind=clipping"])] {
    let run = try runLab(["simulate", config, "--label-column", "label", "--quiet", "--out", "\(parent)/\(name)"] + extra)
    #expect(run.status == 0, "\(run.standardError)")
  }
  let audit = try runLab([
    "audit", parent + "/fedavg/seed-0/model", "--probe", directory + "/toy.tsv", "--trigger", "rare:cf", "--target", "pos", "--threads", "1",
    "--out", parent + "/fedavg/seed-0/audit.json", "--quiet",
  ])
  #expect(audit.status == 0, "\(audit.standardError)")
  #expect(audit.standardOutput.isEmpty, "--quiet prints nothing")
  return parent
}

private func elements(_ node: XMLNode, named name: String) -> [XMLElement] {
  var found: [XMLElement] = []
  for child in node.children ?? [] {
    if let element = child as? XMLElement, element.name == name { found.append(element) }
    found += elements(child, named: name)
  }
  return found
}

@Test func reportIsOneSelfContainedPageWithTheTableCurvesTriggerAndAudit() throws {
  let parent = try auditedRunFolder()
  let audit = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: parent + "/fedavg/seed-0/audit.json"))) as? [String: Any])
  let known = try #require(audit["known_trigger"] as? [String: Any], "audit --trigger records where the planted trigger ranks")
  #expect(known["token"] as? String == "cf" && known["label"] as? String == "pos" && (known["rank"] as? Int ?? 0) >= 1)

  let result = try runLab(["report", parent])
  #expect(result.status == 0, "\(result.standardError)")
  #expect(result.standardOutput.contains("| FedAvg |") && result.standardOutput.contains("| norm clipping (median norm) |"))
  let html = try String(contentsOfFile: parent + "/report.html", encoding: .utf8)
  #expect(html.hasPrefix("<!DOCTYPE html>"))
  // Self-contained: nothing fetched, nothing run.
  for forbidden in ["<script", "<link", "src=", "@import", "url("] { #expect(!html.contains(forbidden), "the page contains \(forbidden)") }
  #expect(html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").range(of: "http") == nil, "no address but the SVG namespace")

  let document = try XMLDocument(xmlString: html, options: [])
  let root = try #require(document.rootElement())
  #expect(root.name == "html")
  let sections = elements(root, named: "h2").compactMap { $0.attribute(forName: "id")?.stringValue }
  #expect(sections == ["table", "curves", "trigger", "audit", "reproduce"])
  let svgs = elements(root, named: "svg")
  #expect(svgs.count == 2, "accuracy and attack-success curves")
  for svg in svgs { #expect(elements(svg, named: "polyline").count + elements(svg, named: "path").count >= 2, "a line per rule") }

  let tables = elements(root, named: "table")
  let attackByDefense = try #require(tables.first)
  let rows = elements(attackByDefense, named: "tbody").flatMap { elements($0, named: "tr") }
  #expect(rows.count == 2)
  #expect(rows.map { ($0.children?.first?.stringValue ?? "") } == ["norm clipping (median norm)", "FedAvg"], "folders in name order")
  let fedavgCells = rows[1].children?.compactMap(\.stringValue) ?? []
  #expect(fedavgCells.contains { $0 == "backdoored" || $0 == "clean" }, "the audited rule shows its verdict")
  #expect(rows[0].children?.compactMap(\.stringValue).contains("not audited") == true)

  let planted = elements(root, named: "tr").filter { $0.attribute(forName: "class")?.stringValue == "planted" }
  #expect(planted.count == 1 && planted[0].stringValue?.contains("cf") == true, "the planted trigger is marked in the ranking")
  let tokens = elements(root, named: "span").filter { $0.attribute(forName: "class")?.stringValue?.hasPrefix("token") == true }
  #expect(tokens.map(\.stringValue) == ["cf"], "how the trigger tokenises")
  let pre = elements(root, named: "pre").compactMap(\.stringValue)
  #expect(pre.contains { $0.contains("--seed-list 0") && $0.contains("config.json") }, "the command that reproduces a run")
  #expect(pre.contains { $0.contains("\"trigger\" : \"rare:cf\"") || $0.contains("\"trigger\": \"rare:cf\"") }, "the effective config")
}

@Test func reportAndDemoRejectBadInputClearly() throws {
  let empty = try Fixtures.temporaryDirectory()
  let nothing = try runLab(["report", empty])
  #expect(nothing.status == 1 && nothing.standardError.contains(empty) && nothing.standardError.contains("no summary.json"))
  let missing = try runLab(["report", empty + "/absent"])
  #expect(missing.status == 1 && missing.standardError.contains("no such folder"))

  let (config, directory) = try toyExperiment(rounds: 2)
  let run = try runLab(["simulate", config, "--label-column", "label", "--quiet", "--out", directory + "/one"])
  #expect(run.status == 0, "\(run.standardError)")
  try "{\"round\": 1}\nnot json\n".write(toFile: directory + "/one/seed-0/rounds.jsonl", atomically: true, encoding: .utf8)
  let corrupt = try runLab(["report", directory + "/one"])
  #expect(corrupt.status == 1 && corrupt.standardError.contains("rounds.jsonl, line 1"))

  let unknownRule = try runLab(["demo", "--rules", "fedavg,krumm", "--out", empty + "/demo"])
  #expect(unknownRule.status == 2 && unknownRule.standardError.contains("krumm") && unknownRule.standardError.contains("multi_krum"))
  let both = try runLab(["demo", "--quiet", "--verbose", "--out", empty + "/demo"])
  #expect(both.status == 2)
}

@Test func aFolderOfAttackFoldersBecomesHeatmapsWithBaseRatesAndLinksToEachRunsCurves() throws {
  let (config, directory) = try toyExperiment(rounds: 3)
  let table = directory + "/table"
  let runs: [(attack: String, rule: String, extra: [String])] = [
    ("naive", "fedavg", []), ("naive", "clipping", ["--set", "aggregator.kind=clipping"]), ("naive", "no-attack", ["--set", "attack.inert=true"]),
    ("flipping", "fedavg", ["--set", "attack.behaviour=sign_flipping"]),
  ]
  for run in runs {
    let result = try runLab(["simulate", config, "--label-column", "label", "--quiet", "--out", "\(table)/\(run.attack)/\(run.rule)"] + run.extra)
    #expect(result.status == 0, "\(result.standardError)")
  }
  let result = try runLab(["report", table])
  #expect(result.status == 0, "\(result.standardError)")
  #expect(result.standardOutput.contains("| base rate (nobody attacking) |"), "\(result.standardOutput)")
  #expect(result.standardOutput.contains("not run"), "clipping was not run against sign flipping")
  let html = try String(contentsOfFile: table + "/report.html", encoding: .utf8)
  for forbidden in ["<script", "<link", "src=", "@import", "url("] { #expect(!html.contains(forbidden), "the page contains \(forbidden)") }
  let root = try #require(try XMLDocument(xmlString: html, options: []).rootElement())
  let heatmaps = elements(root, named: "table").filter { $0.attribute(forName: "class")?.stringValue == "heatmap" }
  #expect(heatmaps.count == 2, "attack success and main-task accuracy")
  let header = elements(heatmaps[0], named: "th").compactMap(\.stringValue)
  #expect(Array(header.prefix(3)) == ["Rule", "flipping", "naive"])
  let rows = elements(heatmaps[0], named: "tbody").flatMap { elements($0, named: "tr") }
  #expect(rows.compactMap { elements($0, named: "th").first?.stringValue } == ["base rate (nobody attacking)", "FedAvg", "norm clipping (median norm)"])
  let links = elements(root, named: "a").compactMap { $0.attribute(forName: "href")?.stringValue }
  #expect(links.contains("naive/clipping/curves.svg") && links.contains("naive/no-attack/curves.svg"))
  for link in links { #expect(FileManager.default.fileExists(atPath: table + "/" + link), "\(link) points at a file") }
  let coloured = elements(heatmaps[0], named: "td").filter { $0.attribute(forName: "style")?.stringValue?.hasPrefix("background: #") == true }
  #expect(coloured.count == 2, "the two naive-poisoning rules have an ASR; sign flipping has none")

  let json = try runLab(["report", table, "--json", "--out", directory + "/elsewhere.html"])
  let cells = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
  #expect(cells.count == 3)
  #expect(cells.filter { $0["attack"] as? String == "naive" }.allSatisfy { $0["base_rate"] != nil })
  let elsewhere = try String(contentsOfFile: directory + "/elsewhere.html", encoding: .utf8)
  #expect(elsewhere.contains("href=\"\(URL(fileURLWithPath: table).standardizedFileURL.path)/naive/fedavg/curves.svg\""), "absolute links from a page written elsewhere")
}
