/// Gives a pattern's `\w`, `\W`, `\b`, `\B`, `\s` and `\S` the meanings they have in Python's `re` for str patterns,
/// so a pattern copied from a PyTorch pipeline finds the tokens `re.findall` found there. ICU's `\w` also takes
/// combining marks and leaves out numbers other than decimal digits ("x²", "½", the dot of "i̇"); Python's is
/// `[\p{L}\p{N}_]`. ICU's `\s` leaves out U+000B, U+001C–U+001F and U+0085, which Python counts as space.
/// A leading `(?u)` (scikit-learn's default `(?u)\b\w\w+\b`) is dropped. Everything else is passed to ICU as written (ICU's syntax is a superset of the common Python syntax).
enum PythonRegexSyntax {
  static let word = #"\p{L}\p{N}_"#
  static let space = #"\s\x{0B}\x{1C}-\x{1F}\x{85}"#

  static func translate(_ pattern: String) -> String {
    var result = ""
    // Python 3's str patterns are Unicode already; ICU has no `u` flag.
    var characters = (pattern.hasPrefix("(?u)") ? String(pattern.dropFirst(4)) : pattern).makeIterator()
    var classDepth = 0
    var quoting = false
    while let character = characters.next() {
      if quoting {
        result.append(character)
        if character == "\\", let next = characters.next() {
          result.append(next)
          if next == "E" { quoting = false }
        }
        continue
      }
      switch character {
      case "\\":
        guard let next = characters.next() else {
          result.append(character)
          continue
        }
        switch (next, classDepth > 0) {
        case ("w", false): result += "[\(word)]"
        case ("w", true): result += word
        case ("W", _): result += "[^\(word)]"
        case ("s", false): result += "[\(space)]"
        case ("s", true): result += space
        case ("S", _): result += "[^\(space)]"
        case ("b", false): result += "(?:(?<=[\(word)])(?![\(word)])|(?<![\(word)])(?=[\(word)]))"
        case ("B", false): result += "(?:(?<=[\(word)])(?=[\(word)])|(?<![\(word)])(?![\(word)]))"
        case ("Q", _):
          quoting = true
          result += "\\Q"
        default: result += "\\\(next)"
        }
      case "[":
        classDepth += 1
        result.append(character)
        // A `]` first in a class (after an optional `^`) is a literal, in Python and ICU alike.
      case "]" where classDepth > 0:
        classDepth -= 1
        result.append(character)
      default:
        result.append(character)
      }
    }
    return result
  }
}
