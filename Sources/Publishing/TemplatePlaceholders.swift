/// Finds `{identifier}` placeholders in a template with the same rule the send-time renderer uses
/// (a letter or `_`, then letters, digits, `_`, `-`, `.`; at most 64 characters). Spintax groups
/// contain a `|` and so are never mistaken for placeholders.
enum TemplatePlaceholders {
    /// Filled at send time without a column.
    static let builtIn: Set<String> = ["name", "greeting"]

    static func names(in template: String) -> [String] {
        var result: [String] = []
        var current: [Character]?
        for char in template {
            if char == "{" {
                current = []
            } else if char == "}" {
                if let name = current, isIdentifier(name), !result.contains(String(name)) { result.append(String(name)) }
                current = nil
            } else if current != nil {
                current?.append(char)
                if (current?.count ?? 0) > 64 { current = nil }
            }
        }
        return result
    }

    /// Placeholders that neither the renderer nor a CSV column can fill (matched case-insensitively,
    /// as the renderer does).
    static func unknown(in template: String, columns: [String]) -> [String] {
        let known = Set(columns.map { $0.lowercased() }).union(builtIn)
        return names(in: template).filter { !known.contains($0.lowercased()) }
    }

    private static func isIdentifier(_ chars: [Character]) -> Bool {
        guard let first = chars.first, first.isLetter || first == "_" else { return false }
        return chars.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }
}
