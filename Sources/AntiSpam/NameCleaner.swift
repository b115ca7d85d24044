import Foundation

// Turns whatever the contact list holds ("jOHN doe 😀 0123", "+60 12-345 6789", "null") into
// something safe to greet with, or nil so the caller uses a polite fallback instead.

public enum NameCleaner {
    /// Longest name we put in a greeting; longer names are cut at a word boundary.
    public static let maxLength = 30
    /// How many significant words to keep (connecting particles like "bin" or "da" are extra).
    public static let maxWords = 2

    /// Lower-case connecting words, kept lower case except as the first word. Single-letter ones
    /// ("e", "y") are the only single letters we keep.
    static let particles: Set<String> = [
        "bin", "binti", "binte", "bte", "bt", "da", "das", "de", "del", "della", "der", "di", "do",
        "dos", "du", "la", "le", "van", "von", "e", "y",
    ]

    /// Placeholder junk that exporters write into empty name fields.
    static let junk: Set<String> = ["null", "nil", "none", "undefined", "unknown", "test", "na", "n/a", "no name"]

    /// - Returns: a cleaned name such as "John Doe", "José da Silva", "Muhammad bin Ali", "CS",
    ///   or nil when nothing usable remains (empty, single letter, only digits, a phone number,
    ///   emoji only, or an exporter placeholder like "null").
    public static func clean(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !junk.contains(trimmed.lowercased()) else { return nil }

        let words = splitWords(trimmed)
            .enumerated()
            .compactMap { index, word in normalize(word, isFirst: index == 0) }
        let limited = limit(words)
        let result = limited.joined(separator: " ")
        guard result.filter(\.isLetter).count >= 2, !junk.contains(result.lowercased()) else { return nil }
        return result
    }

    /// Letters form words; apostrophes and hyphens join letters inside a word; digits vanish
    /// ("Jo3hn" → "John"); everything else (spaces, emoji, punctuation, "@") separates words.
    private static func splitWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        func flush() {
            // Drop joiners left dangling at the ends ("-john'" → "john").
            while let last = current.last, isJoiner(last) { current.removeLast() }
            if !current.isEmpty { words.append(current) }
            current = ""
        }
        for c in text {
            if c.isLetter {
                current.append(c)
            } else if isJoiner(c) {
                // Only between letters, and never two in a row.
                if let last = current.last, !isJoiner(last) {
                    current.append(c == "-" || c == "‐" ? "-" : "'")
                }
            } else if c.isNumber {
                continue
            } else {
                flush()
            }
        }
        flush()
        return words
    }

    private static func isJoiner(_ c: Character) -> Bool {
        c == "'" || c == "’" || c == "ʼ" || c == "-" || c == "‐"
    }

    /// Casing for one word, or nil to drop it (stray single letters such as "a/l" fragments).
    private static func normalize(_ word: String, isFirst: Bool) -> String? {
        let lower = word.lowercased()
        if particles.contains(lower) {
            if !isFirst { return lower }
            if word.count == 1 { return nil }
            return capitalized(lower)
        }
        guard word.count >= 2 else { return nil }
        // Two-letter all-caps words are tags ("CS", "HR"), not shouting.
        if word.count == 2, word == word.uppercased(), word != lower {
            return word
        }
        // Already deliberately cased ("McDonald", "DeShawn"): leave it.
        if let first = word.first, first.isUppercase, word != word.uppercased(), word.dropFirst().contains(where: \.isLowercase) {
            return word
        }
        return capitalized(lower)
    }

    /// "o'brien" → "O'Brien", "jean-luc" → "Jean-Luc".
    private static func capitalized(_ lower: String) -> String {
        var out = ""
        var startOfPart = true
        for c in lower {
            if isJoiner(c) {
                out.append(c)
                startOfPart = true
            } else if startOfPart {
                out += c.uppercased()
                startOfPart = false
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Keeps up to `maxWords` significant words (plus particles between them) and `maxLength`
    /// characters, never ending on a particle.
    private static func limit(_ words: [String]) -> [String] {
        var kept: [String] = []
        var significant = 0
        for (index, word) in words.enumerated() {
            let isParticle = index > 0 && particles.contains(word)
            if !isParticle {
                if significant == maxWords { break }
                significant += 1
            }
            kept.append(word)
        }
        func trimTrailingParticles() {
            while kept.count > 1, let last = kept.last, particles.contains(last) { kept.removeLast() }
        }
        trimTrailingParticles()
        while kept.count > 1, kept.joined(separator: " ").count > maxLength {
            kept.removeLast()
            trimTrailingParticles()
        }
        if kept.count == 1, let only = kept.first, only.count > maxLength {
            kept = [String(only.prefix(maxLength))]
        }
        return kept
    }
}
