import Foundation

// Locales we have greeting lists for. Anything else falls back to English rather than failing:
// a missing translation should never stop a send.

public enum MessageLocale: String, Sendable, CaseIterable {
    case en, ms, id, pt, es

    /// Accepts "pt", "pt-BR", "pt_BR", "PT"; "in" (legacy Indonesian code) maps to `id`.
    /// Unknown or empty codes give `.en`.
    public init(code: String) {
        let language = code
            .trimmingCharacters(in: .whitespacesAndNewlines)
            .lowercased()
            .split(whereSeparator: { $0 == "-" || $0 == "_" })
            .first
            .map(String.init) ?? ""
        if language == "in" {
            self = .id
        } else {
            self = MessageLocale(rawValue: language) ?? .en
        }
    }

    /// What `{name}` becomes when the recipient has no usable name: a polite, neutral address.
    public var nameFallback: String {
        switch self {
        case .en: "there"  // "Hi there"
        case .ms, .id: "Kak"  // friendly, gender-neutral address common in MY/ID commerce
        case .pt, .es: "amigo(a)"
        }
    }
}
