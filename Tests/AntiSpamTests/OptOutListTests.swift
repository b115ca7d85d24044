import Testing
@testable import AntiSpam

@Suite struct OptOutListTests {
    static let file = """
    # opted out via STOP keyword
    +60123456789

      +6281234567890   # trailing comment
    60123456789
    +1 212 555 0100
    +447911123456\r
    """

    @Test func strictParseReportsBadLinesWithNumbers() {
        #expect(throws: OptOutParseError(issues: [
            OptOutLineIssue(line: 5, content: "60123456789"),
            OptOutLineIssue(line: 6, content: "+1 212 555 0100"),
        ])) {
            try OptOutList(parsing: Self.file)
        }
        let message = OptOutParseError(issues: [OptOutLineIssue(line: 5, content: "60123456789")]).description
        #expect(message.contains("line 5") && message.contains("60123456789"))
    }

    @Test func lenientParseKeepsValidLines() {
        let (list, issues) = OptOutList.parse(Self.file)
        #expect(list.count == 3)
        #expect(list.contains("+60123456789"))
        #expect(list.contains("+6281234567890"))
        #expect(list.contains("+447911123456"))
        #expect(issues.map(\.line) == [5, 6])
    }

    @Test func cleanFileParses() throws {
        let list = try OptOutList(parsing: "# none yet\n\n+60123456789\n")
        #expect(list.contains(" +60123456789 "))
        #expect(!list.contains("+60123456780"))
    }

    @Test func insertAndRemove() {
        var list = OptOutList()
        let added = list.insert("+60123456789")
        let rejected = list.insert("0123456789")
        #expect(added && !rejected)
        #expect(list.contains("+60123456789"))
        list.remove("+60123456789")
        #expect(!list.contains("+60123456789"))
        #expect(list.count == 0)
    }

    @Test(arguments: ["+60123456789", "+1234567", "+123456789012345"])
    func validE164(_ phone: String) { #expect(PhoneNumber.isE164(phone)) }

    @Test(arguments: ["60123456789", "+0123456789", "+123456", "+1234567890123456", "+6012 3456789", "+60-123456789", ""])
    func invalidE164(_ phone: String) { #expect(!PhoneNumber.isE164(phone)) }
}
