// The parsed form of a message template. Rendering walks these nodes, so filled-in values are
// never re-parsed (an attribute containing "{a|b}" stays literal) and URLs are opaque.

/// One piece of a parsed template.
public enum TemplateNode: Sendable, Equatable {
    /// Literal text, emitted unchanged.
    case text(String)
    /// `{identifier}`; `inURL` is true when it sits inside a URL (its value is then percent-encoded).
    case placeholder(String, inURL: Bool)
    /// Spintax `{a|b|c}`: one option is chosen per render. Options may be empty or nested.
    case choice([[TemplateNode]])
}

enum PlaceholderName {
    /// Longest identifier we accept; longer brace contents are treated as text.
    static let maxLength = 64

    /// Identifier-like: starts with a letter or `_`, then letters, digits, `_`, `-` or `.`.
    /// Requiring a leading letter keeps things like `{1}` or `{-}` literal.
    static func isValid<S: Collection>(_ chars: S) -> Bool where S.Element == Character {
        guard let first = chars.first, chars.count <= maxLength else { return false }
        guard first.isLetter || first == "_" else { return false }
        return chars.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }
}
