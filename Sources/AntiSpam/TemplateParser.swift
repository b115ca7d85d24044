// A small hand-written parser for placeholders, spintax and URLs in one pass.
//
// Why not regexes: the previous system's spintax regex also matched `{name}` and expanded spintax
// inside links. Here the grammar is explicit:
// - `{identifier}` is a placeholder, everywhere (also inside URLs);
// - `{a|b}` (at least one `|` at its own level) is spintax; options may nest and may be empty;
// - `{…}` with no `|` that is not an identifier (JSON, prose) stays literal, its inside still parsed;
// - a URL (`http://`, `https://`, `www.`) is opaque: nothing in it is spintax;
// - a `{` without a matching `}` (or nested deeper than `maxDepth`) is literal text; a stray `}` or
//   `|` outside a group is literal text. Parsing never fails.
// Digits, phone numbers and codes like `ABC-1234` are plain text to this parser, so it never
// alters them.

public enum TemplateParser {
    /// Deeper nesting is treated as literal text, which bounds recursion on hostile input.
    public static let maxDepth = 16

    public static func parse(_ template: String) -> [TemplateNode] {
        var parser = Parser(chars: Array(template))
        return parser.parseTopLevel()
    }
}

private struct Parser {
    let chars: [Character]
    /// Group parse results by start index, so unbalanced input like "{{{{…" is not re-scanned
    /// from every brace (which took minutes on a few thousand braces). A group that failed only
    /// because of the depth limit stays literal wherever it is reached from; that only affects
    /// input nested deeper than `maxDepth`.
    var groupCache: [Int: GroupResult?] = [:]
    /// `closersAfter[i]` = number of "}" at index ≥ i: a group with none after it fails at once.
    let closersAfter: [Int]

    struct GroupResult {
        var nodes: [TemplateNode]
        var end: Int  // index just past the closing brace
    }

    init(chars: [Character]) {
        self.chars = chars
        var counts = [Int](repeating: 0, count: chars.count + 1)
        for i in stride(from: chars.count - 1, through: 0, by: -1) {
            counts[i] = counts[i + 1] + (chars[i] == "}" ? 1 : 0)
        }
        self.closersAfter = counts
    }

    mutating func parseTopLevel() -> [TemplateNode] {
        var out = NodeBuilder()
        var i = 0
        while i < chars.count {
            if let end = urlEnd(at: i, inGroup: false) {
                out.append(contentsOf: urlNodes(i..<end))
                i = end
            } else if chars[i] == "{" {
                if let group = parseGroup(at: i, depth: 1) {
                    out.append(contentsOf: group.nodes)
                    i = group.end
                } else {
                    out.appendText("{")
                    i += 1
                }
            } else {
                out.appendText(chars[i])
                i += 1
            }
        }
        return out.finish()
    }

    /// Parses the group opening at `start`; nil when it is never closed (or too deep).
    mutating func parseGroup(at start: Int, depth: Int) -> GroupResult? {
        if let cached = groupCache[start] { return cached }
        let result = scanGroup(at: start, depth: depth)
        groupCache[start] = result
        return result
    }

    private mutating func scanGroup(at start: Int, depth: Int) -> GroupResult? {
        guard depth <= TemplateParser.maxDepth, closersAfter[start + 1] > 0 else { return nil }
        if let placeholderEnd = placeholderEnd(at: start) {
            let name = String(chars[(start + 1)..<(placeholderEnd - 1)])
            return GroupResult(nodes: [.placeholder(name, inURL: false)], end: placeholderEnd)
        }
        var options: [[TemplateNode]] = []
        var current = NodeBuilder()
        var i = start + 1
        while i < chars.count {
            let c = chars[i]
            if let end = urlEnd(at: i, inGroup: true) {
                current.append(contentsOf: urlNodes(i..<end))
                i = end
            } else if c == "}" {
                options.append(current.finish())
                return GroupResult(nodes: Self.close(options), end: i + 1)
            } else if c == "|" {
                options.append(current.finish())
                current = NodeBuilder()
                i += 1
            } else if c == "{" {
                if let nested = parseGroup(at: i, depth: depth + 1) {
                    current.append(contentsOf: nested.nodes)
                    i = nested.end
                } else {
                    current.appendText("{")
                    i += 1
                }
            } else {
                current.appendText(c)
                i += 1
            }
        }
        return nil  // reached the end without a closing brace
    }

    /// A closed group with a single option is not spintax: keep its braces as text.
    private static func close(_ options: [[TemplateNode]]) -> [TemplateNode] {
        if options.count > 1 { return [.choice(options)] }
        var out = NodeBuilder()
        out.appendText("{")
        out.append(contentsOf: options.first ?? [])
        out.appendText("}")
        return out.finish()
    }

    /// End index (past `}`) of `{identifier}` starting at `start`, if that is what is there.
    private func placeholderEnd(at start: Int) -> Int? {
        guard start < chars.count, chars[start] == "{" else { return nil }
        var i = start + 1
        let limit = min(chars.count, start + 1 + PlaceholderName.maxLength + 1)
        while i < limit, chars[i] != "}" {
            i += 1
        }
        guard i < limit, chars[i] == "}", PlaceholderName.isValid(chars[(start + 1)..<i]) else { return nil }
        return i + 1
    }

    // MARK: URLs

    private static let urlPrefixes: [[Character]] = ["https://", "http://", "www."].map { Array($0) }

    /// End index of a URL starting at `i`, or nil when no URL starts here. A URL runs to the next
    /// whitespace. Inside a spintax group it also ends at a `|` or `}` that does not close a brace
    /// opened inside the URL, so `{see https://a.io|call us}` still has two options while
    /// `https://x.io/?b={c|d}` keeps its braces.
    private func urlEnd(at i: Int, inGroup: Bool) -> Int? {
        guard startsURL(at: i) else { return nil }
        var j = i
        var braceDepth = 0
        while j < chars.count {
            let c = chars[j]
            if c.isWhitespace { break }
            if c == "{" {
                braceDepth += 1
            } else if c == "}" {
                if braceDepth == 0 {
                    if inGroup { break }
                } else {
                    braceDepth -= 1
                }
            } else if c == "|", braceDepth == 0, inGroup {
                break
            }
            j += 1
        }
        return j
    }

    private func startsURL(at i: Int) -> Bool {
        // Only at a word start: "xhttp://" or "awww.b" are not links.
        if i > 0 {
            let previous = chars[i - 1]
            if previous.isLetter || previous.isNumber || previous == "." || previous == "/" { return false }
        }
        return Self.urlPrefixes.contains { prefix in
            guard i + prefix.count < chars.count else { return false }  // a bare prefix is not a link
            for (offset, p) in prefix.enumerated() where chars[i + offset].lowercased() != String(p) {
                return false
            }
            return true
        }
    }

    /// A URL is literal text except for `{identifier}` placeholders (e.g. a tracking id).
    private func urlNodes(_ range: Range<Int>) -> [TemplateNode] {
        var out = NodeBuilder()
        var i = range.lowerBound
        while i < range.upperBound {
            if chars[i] == "{", let end = placeholderEnd(at: i), end <= range.upperBound {
                out.append(.placeholder(String(chars[(i + 1)..<(end - 1)]), inURL: true))
                i = end
            } else {
                out.appendText(chars[i])
                i += 1
            }
        }
        return out.finish()
    }
}

/// Accumulates nodes, merging adjacent text so the tree stays small and easy to compare in tests.
/// Text is buffered until the next non-text node, so appending is linear in the text length.
private struct NodeBuilder {
    private var nodes: [TemplateNode] = []
    private var pending = ""

    mutating func appendText(_ c: Character) {
        pending.append(c)
    }

    mutating func appendText(_ s: String) {
        pending += s
    }

    mutating func append(_ node: TemplateNode) {
        if case .text(let s) = node {
            pending += s
        } else {
            flush()
            nodes.append(node)
        }
    }

    mutating func append(contentsOf other: [TemplateNode]) {
        for node in other { append(node) }
    }

    mutating func finish() -> [TemplateNode] {
        flush()
        return nodes
    }

    private mutating func flush() {
        guard !pending.isEmpty else { return }
        nodes.append(.text(pending))
        pending = ""
    }
}
