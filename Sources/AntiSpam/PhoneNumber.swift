/// E.164 checks shared by the opt-out list and the send gate.
public enum PhoneNumber {
    /// "+" then 7 to 15 digits, the first not 0 (ITU-T E.164 allows at most 15 digits; 7 is a
    /// conservative minimum that still admits the shortest national numbers in use).
    public static func isE164(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 8, utf8.count <= 16, utf8[0] == UInt8(ascii: "+") else { return false }
        let digits = utf8.dropFirst()
        guard let first = digits.first, first != UInt8(ascii: "0") else { return false }
        return digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
