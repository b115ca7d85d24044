/// Phone number helpers for publishers (cleaning contact lists) and logs (masking).
public enum PhoneNumber {
    /// True for E.164: `+`, then 7 to 15 ASCII digits, the first not `0`.
    public static func isE164(_ phone: String) -> Bool {
        let utf8 = phone.utf8
        guard utf8.first == UInt8(ascii: "+"), (8...16).contains(utf8.count) else { return false }
        let digits = utf8.dropFirst()
        return digits.first != UInt8(ascii: "0") && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Turns a number as people type it into E.164, or nil when that is not possible.
    ///
    /// Spaces, dashes, dots and parentheses are dropped; `00` becomes `+`; a leading `0` is a
    /// local number in `defaultCountryCode` (e.g. `"60"` or `"+60"`); bare digits that already
    /// start with the country code are taken as international, other bare digits get it
    /// prepended. Without a default country, bare digits are taken as international (contact
    /// exports often drop the `+`) and local `0…` numbers cannot be resolved.
    ///
    ///     PhoneNumber.normalize("012-345 6778", defaultCountryCode: "60")  // "+60123456778"
    public static func normalize(_ raw: String, defaultCountryCode: String?) -> String? {
        var digits = ""
        var hasPlus = false
        for (index, char) in raw.trimmingWhitespace().enumerated() {
            switch char {
            case "+" where index == 0: hasPlus = true
            case "0"..."9": digits.append(char)
            case " ", "-", ".", "(", ")", "\u{00A0}", "\t": continue
            default: return nil
            }
        }
        let country = defaultCountryCode.map { $0.hasPrefix("+") ? String($0.dropFirst()) : $0 }
        if let country, !(country.allSatisfy(\.isASCIIDigit) && !country.isEmpty) { return nil }

        let candidate: String
        if hasPlus {
            candidate = "+" + digits
        } else if digits.hasPrefix("00") {
            candidate = "+" + digits.dropFirst(2)
        } else if digits.hasPrefix("0") {
            guard let country else { return nil }
            candidate = "+" + country + digits.dropFirst()
        } else if let country, !digits.hasPrefix(country) {
            candidate = "+" + country + digits
        } else {
            candidate = "+" + digits
        }
        return isE164(candidate) ? candidate : nil
    }

    /// A form safe for logs: the first 5 and last 2 characters with `•` between, e.g.
    /// `+60123456778` → `+6012•••••78`. Shorter input shows at most a quarter of itself.
    public static func masked(_ phone: String) -> String {
        let chars = Array(phone)
        let n = chars.count
        // Full numbers (10+ characters) keep 5 + 2; shorter input shows a quarter of itself at most.
        let (head, tail) = n >= 10 ? (5, 2) : ((n / 4 + 1) / 2, n / 4 / 2)
        return String(chars[..<head]) + String(repeating: "•", count: n - head - tail) + String(chars[(n - tail)...])
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = self[...]
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
