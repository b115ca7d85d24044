import BroadcastModel
import Foundation
@testable import Sequences
import Testing

@Suite("CSV and contact import")
struct ContactImportTests {
    @Test func readsQuotedFieldsCRLFAndBOMWithTheSharedReader() throws {
        let text = "\u{FEFF}Mobile,Full Name,note\r\n+60123456789,\"Tan, Ah Kow\",\"said \"\"hi\"\"\"\r\n\r\n+60123456780,Siti,\"two\nlines\"\r\n"
        let result = try ContactImport(defaultDeviceId: "dev-a").parse(text)
        #expect(result.problems.isEmpty)
        #expect(result.contacts.map(\.name) == ["Tan, Ah Kow", "Siti"])
        #expect(result.contacts.map { $0.attributes["note"] } == ["said \"hi\"", "two\nlines"])
    }

    @Test func reportsBrokenQuotingByLine() throws {
        let result = try ContactImport(defaultDeviceId: "dev-a").parse("phone,name\n+60123456789,\"a\"b\n+60123456780,ok\n")
        #expect(result.contacts.map(\.phone) == ["+60123456780"])
        #expect(result.problems.map(\.line) == [2])
        #expect(throws: ContactImportError.self) { try ContactImport(defaultDeviceId: "dev-a").parse("\"phone,name\n") }
    }

    @Test func importsContactsAndReportsBadRowsWithLineNumbers() throws {
        let csv = """
        phone,name,device,city,plan
        +60 12-345 6789,Aisyah,dev-a,Kuala Lumpur,gold
        012-345 6780,Ben,,Penang,
        not-a-phone,Chen,dev-a,Ipoh,silver
        +60123456789,Dup,dev-b,Johor,gold
        +60123456781,Short,dev-a
        +60123456782,Dina,dev-c,"Shah Alam, Selangor",bronze
        """
        let result = try ContactImport(defaultDeviceId: "dev-default", defaultCountryCode: "60").parse(csv)
        #expect(result.contacts == [
            Contact(phone: "+60123456789", name: "Aisyah", deviceId: "dev-a", attributes: ["city": "Kuala Lumpur", "plan": "gold"]),
            Contact(phone: "+60123456780", name: "Ben", deviceId: "dev-default", attributes: ["city": "Penang"]),
            Contact(phone: "+60123456782", name: "Dina", deviceId: "dev-c", attributes: ["city": "Shah Alam, Selangor", "plan": "bronze"]),
        ])
        #expect(result.problems.map(\.line) == [4, 5, 6])
        #expect(result.problems[0].message.contains("not a valid number"))
        #expect(result.problems[1].message.contains("repeats line 2"))
        #expect(result.problems[2].message.contains("has 3 fields but the header has 5"))
        // Problems never echo a full phone number.
        #expect(!result.problems.map(\.description).joined().contains("+60123456789"))
    }

    @Test func requiresADeviceColumnOrDefault() {
        #expect(throws: ContactImportError.self) { try ContactImport().parse("phone,name\n+60123456789,A\n") }
        let noDevice = try? ContactImport().parse("phone,device\n+60123456789,\n")
        #expect(noDevice?.problems.first?.message == "device is empty and no --device was given")
        #expect(throws: ContactImportError.self) { try ContactImport(defaultDeviceId: "d").parse("name\nA\n") }
    }

    @Test func enrolsOnceAndSkipsKnownContacts() async throws {
        let temp = try TempStore()
        _ = try await temp.store.define(try SequenceFile.parse(welcomeYAML()), at: utc("2026-01-01T00:00:00Z"))
        let contacts = try ContactImport(defaultDeviceId: "dev-1").parse("phone,name\n+60123456789,A\n+60123456780,B\n").contacts

        let first = try await temp.store.enroll(contacts, in: "welcome", at: utc("2026-01-05T01:00:00Z"))
        #expect(first == EnrolOutcome(enrolled: 2, alreadyEnrolled: []))
        let again = try await temp.store.enroll(contacts, in: "welcome", at: utc("2026-01-06T01:00:00Z"))
        #expect(again == EnrolOutcome(enrolled: 0, alreadyEnrolled: ["+60123456789", "+60123456780"]))

        let enrolments = try await temp.store.enrolments(sequenceId: "welcome")
        #expect(enrolments.map(\.state) == [.active, .active])
        #expect(enrolments.map(\.currentStep) == [0, 0])
        #expect(enrolments[0].enrolledAt == utc("2026-01-05T01:00:00Z"))

        await #expect(throws: SequenceStoreError.unknownSequence("nope")) {
            try await temp.store.enroll(contacts, in: "nope", at: Date())
        }
    }
}
