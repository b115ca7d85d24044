import Testing
@testable import AntiSpam

@Suite struct VariationTests {
    static let text = "Hi {name} please call +60 12-345 6789 or use code ABC-1234 at https://x.io/a?b=1 now 😀 thanks a lot my good friend"

    /// Undo the invisible changes: what is left must be the original (up to a final full stop).
    private func normalized(_ s: String) -> String {
        var out = s.replacingOccurrences(of: "\u{200B}", with: "").replacingOccurrences(of: "\u{00A0}", with: " ")
        if out.hasSuffix(".") { out.removeLast() }
        return out
    }

    @Test func deterministicPerSeed() {
        #expect(Variation.apply(Self.text, seed: "m-1") == Variation.apply(Self.text, seed: "m-1"))
    }

    @Test func protectedTokensAndTheirSpacesAreNeverTouched() {
        var variedCount = 0
        for i in 0..<300 {
            let varied = Variation.apply(Self.text, seed: "m-\(i)")
            if varied != Self.text { variedCount += 1 }
            #expect(normalized(varied) == Self.text)
            // Protected tokens and the plain spaces on both sides of them are byte-identical.
            for token in ["Hi {name} ", " +60 12-345 6789 ", " ABC-1234 ", " https://x.io/a?b=1 ", " 😀 "] {
                #expect(varied.contains(token))
            }
            let changes = varied.unicodeScalars.filter { $0 == "\u{200B}" || $0 == "\u{00A0}" }.count
            #expect(changes <= Variation.maxSpaceChanges)
        }
        // Off-by-default feature, but when on it must actually vary most messages.
        #expect(variedCount > 150)
    }

    @Test func endingVariation() {
        let endings = Set((0..<200).map { Variation.apply("See you soon.", seed: "\($0)").hasSuffix(".") })
        #expect(endings == [true, false])
        // A URL at the end is never given or stripped of a dot.
        for i in 0..<100 {
            #expect(Variation.apply("Link: https://x.io/a.", seed: "\(i)") == "Link: https://x.io/a.")
        }
    }
}
