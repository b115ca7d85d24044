import BroadcastModel
import ContactFiles
import Testing

@Suite struct PhoneListFileTests {
    @Test("one number a line, with comments, written as people type them")
    func plainLines() {
        let text = "# opted out via STOP\n+60 12-345 0001\n\n  60123450002   # trailing comment\n0060123450003\n012-345 0004\r\n"
        let parsed = PhoneListFile.parse(text, defaultCountryCode: "60")
        #expect(parsed.issues.isEmpty)
        #expect(parsed.phones == ["+60123450001", "+60123450002", "+60123450003", "+60123450004"])
    }

    @Test("a CSV with a phone column under any alias")
    func csvWithHeader() {
        let parsed = PhoneListFile.parse("name,MSISDN,source\n\"Tan, Ah Kow\",60123450001,form\nSiti,+60 12 345 0002,sms\n", defaultCountryCode: nil)
        #expect(parsed.issues.isEmpty)
        #expect(parsed.phones == ["+60123450001", "+60123450002"])
    }

    @Test("lines that are no phone are reported by line, masked")
    func badLines() {
        let parsed = PhoneListFile.parse("+60123450001\nwho?\n012-345 6789\n", defaultCountryCode: nil)
        #expect(parsed.phones == ["+60123450001"])
        #expect(parsed.issues.map(\.line) == [2, 3])
        #expect(parsed.issues.allSatisfy { !$0.masked.contains("345 6789") })
    }

    @Test("header aliases are one set for every reader")
    func aliases() {
        for header in ["phone", "Phone Number", "mobile", "MSISDN", "phone-number"] {
            #expect(ContactColumn(header: header) == .phone, "\(header)")
        }
        #expect(ContactColumn(header: "device_id") == .device)
        #expect(ContactColumn(header: "Full Name") == .name)
        #expect(ContactColumn(header: "city") == nil)
    }
}
