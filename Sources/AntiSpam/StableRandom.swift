// Deterministic randomness for rendering and variation.
//
// Swift's `Hasher` is seeded per process, so a retry in another process would render different
// text. We hash the seed with FNV-1a 64 (stable across processes, platforms and Swift versions) and
// feed SplitMix64. Choices use our own `uniform(below:)` instead of `Int.random(in:using:)` so a
// standard-library change can never alter what a given message id renders.

/// FNV-1a 64-bit hash of the UTF-8 bytes of `text`.
public func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}

/// SplitMix64: tiny, fast, good enough statistical quality for picking variants.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    /// A generator for `seed` (typically the message id) in a named stream, so spintax, greeting
    /// and variation draw independent sequences from the same id.
    public init(seed: String, stream: String) {
        self.init(state: fnv1a64(stream + "\u{1F}" + seed))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform integer in `0..<bound` (Lemire's multiply-shift with rejection); 0 when bound ≤ 1.
    public mutating func uniform(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let range = UInt64(bound)
        let threshold = (0 &- range) % range
        while true {
            let product = next().multipliedFullWidth(by: range)
            if product.low >= threshold {
                return Int(product.high)
            }
        }
    }

    /// True with probability `p` (0...1).
    public mutating func chance(_ p: Double) -> Bool {
        // 53 random bits give a uniform Double in [0, 1).
        let unit = Double(next() >> 11) / Double(UInt64(1) << 53)
        return unit < p
    }
}
