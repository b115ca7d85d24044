import Testing
@testable import BroadcastModel

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+60 12-345 6778", "60", "+60123456778"),
        ("012-345 6778", "60", "+60123456778"),
        ("012.345.6778", "+60", "+60123456778"),
        ("(012) 345-6778", "60", "+60123456778"),
        ("0060123456778", nil, "+60123456778"),
        ("60123456778", "60", "+60123456778"),
        ("123456778", "60", "+60123456778"),
        ("60123456778", nil, "+60123456778"),
        ("+1 (415) 555-0123", "60", "+14155550123"),
        (" +44 7700 900123 ", nil, "+447700900123"),
    ] as [(String, String?, String)])
    func normalizes(raw: String, country: String?, expected: String) {
        #expect(PhoneNumber.normalize(raw, defaultCountryCode: country) == expected)
    }

    @Test(arguments: [
        ("0123456778", nil),  // local number, no country to resolve it
        ("+0123456778", "60"),  // country code cannot start with 0
        ("+60 12 abc", "60"),
        ("12+3456778", "60"),
        ("+123456", nil),  // 6 digits: too short
        ("+1234567890123456", nil),  // 16 digits: too long
        ("", "60"),
        ("012345", "6x"),
    ] as [(String, String?)])
    func refuses(raw: String, country: String?) {
        #expect(PhoneNumber.normalize(raw, defaultCountryCode: country) == nil)
    }

    @Test func e164() {
        #expect(PhoneNumber.isE164("+1234567"))
        #expect(PhoneNumber.isE164("+123456789012345"))
        #expect(!PhoneNumber.isE164("+123456"))
        #expect(!PhoneNumber.isE164("+1234567890123456"))
        #expect(!PhoneNumber.isE164("60123456778"))
        #expect(!PhoneNumber.isE164("+6012345677８"))  // full-width digit
    }

    @Test func masks() {
        #expect(PhoneNumber.masked("+60123456778") == "+6012•••••78")
        #expect(PhoneNumber.masked("+1234567890") == "+1234••••90")
        #expect(PhoneNumber.masked("+1234567") == "+••••••7")
        #expect(PhoneNumber.masked("123") == "•••")
        #expect(PhoneNumber.masked("") == "")
        // Never the full number, whatever the length.
        for length in 1...20 {
            let phone = String(repeating: "9", count: length)
            let masked = PhoneNumber.masked(phone)
            #expect(masked != phone)
            #expect(masked.count == length)
            #expect(masked.filter { $0 == "•" }.count >= min(3, length))
        }
    }
}
