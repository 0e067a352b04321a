/// Pieces of a self-contained HTML page: escaping, tables and the page itself (inline CSS, no scripts, no
/// network). The output is also well-formed XML, so tests can parse it.
public enum HTML {
  /// Text for an element's content or an attribute value.
  public static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(character)
      }
    }
    return out
  }

  /// An element whose content is already HTML.
  public static func element(_ name: String, _ content: String, class className: String? = nil, id: String? = nil) -> String {
    var open = "<" + name
    if let id { open += " id=\"\(escape(id))\"" }
    if let className { open += " class=\"\(escape(className))\"" }
    return open + ">" + content + "</" + name + ">"
  }

  /// A table row's cells (already HTML) and an optional class for the row.
  public struct Row: Sendable {
    public var cells: [String]
    public var className: String?
    public init(_ cells: [String], className: String? = nil) {
      self.cells = cells
      self.className = className
    }
  }

  /// A table; `numeric` marks columns to right-align.
  public static func table(header: [String], rows: [Row], numeric: Set<Int> = [], caption: String? = nil) -> String {
    var out = "<table>\n"
    if let caption { out += "<caption>\(caption)</caption>\n" }
    out += "<thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
    for row in rows {
      out += row.className.map { "<tr class=\"\(escape($0))\">" } ?? "<tr>"
      out += row.cells.enumerated().map { column, cell in numeric.contains(column) ? "<td class=\"num\">\(cell)</td>" : "<td>\(cell)</td>" }.joined()
      out += "</tr>\n"
    }
    return out + "</tbody>\n</table>\n"
  }

  /// A whole page. `body` is HTML.
  public static func page(title: String, body: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <title>\(escape(title))</title>
    <style>
    \(style)
    </style>
    </head>
    <body>
    <main>
    \(body)
    </main>
    </body>
    </html>

    """
  }

  static let style = """
    body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #222; background: #fafafa; margin: 0; }
    main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: white; }
    h1 { font-size: 26px; margin-bottom: 4px; }
    h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
    h3 { font-size: 16px; margin-top: 24px; }
    p.lede { color: #555; margin-top: 0; }
    table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
    caption { text-align: left; color: #555; padding-bottom: 6px; font-size: 13px; }
    th, td { border-bottom: 1px solid #e3e3e3; padding: 5px 12px; text-align: left; vertical-align: top; }
    th { background: #f2f2f2; font-weight: 600; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.planted td { background: #fff1c9; font-weight: 600; }
    tr.gap td { color: #888; text-align: center; }
    .verdict-backdoored { color: #b00020; font-weight: 600; }
    .verdict-clean { color: #1b7a2f; font-weight: 600; }
    .tag { display: inline-block; background: #b00020; color: white; border-radius: 3px; padding: 0 5px; font-size: 11px; margin-left: 6px; }
    .charts { display: flex; flex-wrap: wrap; gap: 12px; }
    .audits { display: flex; flex-wrap: wrap; gap: 28px; }
    .audits > div { min-width: 300px; }
    code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; }
    pre { background: #f5f5f5; padding: 10px; overflow-x: auto; }
    .token { display: inline-block; border: 1px solid #999; border-radius: 3px; padding: 0 4px; margin-right: 4px; background: #f0f6ff; }
    .token.unknown { background: #ffe0e0; }
    .note { color: #666; font-size: 13px; }
    table.heatmap td.heat { padding: 0; text-align: center; font-variant-numeric: tabular-nums; }
    table.heatmap td.heat a, table.heatmap td.heat span { display: block; padding: 5px 10px; color: #111; text-decoration: none; }
    table.heatmap tr.base th, table.heatmap tr.base td { font-style: italic; color: #555; }
    """
}
