// Light, invisible-to-the-reader variation so copies of one campaign are not byte-identical.
//
// Only two kinds of change, both deterministic per seed:
// - a few single spaces between two plain words become a no-break space (U+00A0) or gain a
//   zero-width space (U+200B);
// - the final full stop after a plain word may be dropped, or one added.
// "Plain word" means letters only (inner ' and - allowed, trailing , . ! ? ; : allowed), so URLs,
// numbers, codes like ABC-1234, phone numbers, {placeholders}, emoji, @mentions and WhatsApp
// *formatting* are never touched, and neither are the spaces next to them.

public enum Variation {
    /// Chance that an eligible space is varied.
    static let spaceChance = 0.15
    /// At most this many spaces are varied per message, so the text stays normal to copy.
    static let maxSpaceChanges = 3
    /// Chance that the final punctuation is varied.
    static let endingChance = 0.3

    static let noBreakSpace: Character = "\u{00A0}"
    static let zeroWidthSpace: Character = "\u{200B}"

    public static func apply(_ text: String, seed: String) -> String {
        var rng = SeededGenerator(seed: seed, stream: "variation")
        var chars = Array(text)
        varySpaces(&chars, rng: &rng)
        varyEnding(&chars, rng: &rng)
        return String(chars)
    }

    private static func varySpaces(_ chars: inout [Character], rng: inout SeededGenerator) {
        var changes = 0
        var i = chars.count - 1
        // Walk backwards so inserting a zero-width space does not shift indices still to visit.
        while i > 0, changes < maxSpaceChanges {
            defer { i -= 1 }
            guard chars[i] == " ", isPlainWord(wordEnding(at: i - 1, in: chars)),
                  isPlainWord(wordStarting(at: i + 1, in: chars)) else { continue }
            guard rng.chance(spaceChance) else { continue }
            if rng.chance(0.5) {
                chars[i] = noBreakSpace
            } else {
                chars.insert(zeroWidthSpace, at: i + 1)
            }
            changes += 1
        }
    }

    private static func varyEnding(_ chars: inout [Character], rng: inout SeededGenerator) {
        guard let lastIndex = chars.lastIndex(where: { !$0.isWhitespace }) else { return }
        let word = wordEnding(at: lastIndex, in: chars)
        guard isPlainWord(word), rng.chance(endingChance) else { return }
        if chars[lastIndex] == "." {
            // Leave "..." and abbreviations with inner dots alone.
            guard lastIndex > 0, chars[lastIndex - 1].isLetter, word.filter({ $0 == "." }).count == 1 else { return }
            chars.remove(at: lastIndex)
        } else if chars[lastIndex].isLetter {
            chars.insert(".", at: lastIndex + 1)
        }
    }

    private static func wordEnding(at end: Int, in chars: [Character]) -> ArraySlice<Character> {
        guard end >= 0, end < chars.count, !chars[end].isWhitespace else { return [] }
        var start = end
        while start > 0, !chars[start - 1].isWhitespace { start -= 1 }
        return chars[start...end]
    }

    private static func wordStarting(at start: Int, in chars: [Character]) -> ArraySlice<Character> {
        guard start >= 0, start < chars.count, !chars[start].isWhitespace else { return [] }
        var end = start
        while end + 1 < chars.count, !chars[end + 1].isWhitespace { end += 1 }
        return chars[start...end]
    }

    /// Letters with optional inner ' or -, and optional trailing sentence punctuation.
    static func isPlainWord(_ word: ArraySlice<Character>) -> Bool {
        var core = word
        while let last = core.last, ",.!?;:".contains(last) { core = core.dropLast() }
        guard let first = core.first, let last = core.last, first.isLetter, last.isLetter else { return false }
        return core.allSatisfy { $0.isLetter || $0 == "'" || $0 == "’" || $0 == "-" }
    }
}
