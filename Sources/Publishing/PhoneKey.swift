/// An E.164 number packed into 64 bits (at most 15 digits fit easily): an exact, compact key for
/// the duplicate and opt-out sets of a million-recipient campaign.
enum PhoneKey {
    /// The digits of a valid E.164 string as a number; the leading digit is never 0, so it is unique.
    static func make(_ e164: String) -> UInt64 {
        var value: UInt64 = 0
        for byte in e164.utf8 where byte >= 0x30 && byte <= 0x39 {
            value = value &* 10 &+ UInt64(byte - 0x30)
        }
        return value
    }
}
