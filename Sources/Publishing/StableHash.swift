/// FNV-1a, 64 bits: a hash that is the same on every machine, run and Swift version.
///
/// Message ids and device assignment must not change between runs, so Swift's `Hasher` (seeded
/// per process) is never used for them.
public struct StableHash: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
    }

    public mutating func combine(_ text: String) {
        combine(text.utf8)
    }

    /// A separator that cannot occur in the text fields hashed, so ("ab","c") ≠ ("a","bc").
    public mutating func separate() {
        combine(CollectionOfOne(0))
    }

    /// 16 lower-case hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        var v = value
        for index in stride(from: 15, through: 0, by: -1) {
            out[index] = digits[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func fnv1a(_ text: String) -> UInt64 {
        var hash = StableHash()
        hash.combine(text)
        return hash.value
    }
}
