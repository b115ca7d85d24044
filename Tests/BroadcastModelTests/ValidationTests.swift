import Foundation
import Testing
@testable import BroadcastModel

@Suite struct ValidationTests {
    private func fields(_ change: (inout BroadcastMessage) -> Void) -> [String] {
        var message = Fixtures.message()
        change(&message)
        do {
            try message.validate()
            return []
        } catch {
            return error.issues.map(\.field)
        }
    }

    @Test func aValidMessagePasses() throws {
        try Fixtures.message().validate()
    }

    @Test func eachRuleNamesItsField() {
        #expect(fields { $0.recipient.phone = "+0123456789" } == ["recipient.phone"])
        #expect(fields { $0.content.text = "" } == ["content.text"])
        #expect(fields { $0.content.text = String(repeating: "é", count: 4096) } == [])
        #expect(fields { $0.content.text = String(repeating: "a", count: 4097) } == ["content.text"])
        #expect(fields { $0.content = .init(type: .video) } == ["content.mediaUrl"])
        #expect(fields { $0.content = .init(type: .audio, mediaUrl: "https://x/a b.ogg") } == ["content.mediaUrl"])
        #expect(fields { $0.content = .init(type: .image, mediaUrl: "https:///nohost") } == ["content.mediaUrl"])
        #expect(fields { $0.content = .init(type: .image, mediaUrl: "HTTPS://upper.case/x") } == ["content.mediaUrl"])
        #expect(fields { $0.content = .init(type: .image, mediaUrl: "http://ok.example/x.png") } == [])
        #expect(fields { $0.delay = .init(minSeconds: -1, maxSeconds: 5) } == ["delay.minSeconds"])
        #expect(fields { $0.delay = .init(minSeconds: 10, maxSeconds: 5) } == ["delay"])
        #expect(fields { $0.delay = .init(minSeconds: 0, maxSeconds: 86_400) } == [])
        #expect(fields { $0.delay = .init(minSeconds: 0, maxSeconds: .nan) } == ["delay.maxSeconds", "delay"])
        #expect(fields { $0.id = String(repeating: "x", count: 129) } == ["id"])
        #expect(fields { $0.userId = "" } == ["userId"])
        #expect(fields { $0.campaignId = nil } == ["campaignId"])
        #expect(fields { $0.source = .sequence } == ["sequenceId", "sequenceStepId"])
        #expect(fields { $0.source = .api; $0.campaignId = nil } == [])
        #expect(fields { $0.expiresAt = $0.scheduledAt } == ["expiresAt"])
    }

    @Test func allIssuesAreReportedReadably() {
        var message = Fixtures.message()
        message.recipient.phone = "12345"
        message.deviceId = ""
        do {
            try message.validate()
            Issue.record("expected a validation error")
        } catch {
            #expect(error.issues.map(\.field) == ["deviceId", "recipient.phone"])
            #expect(error.description.contains("recipient.phone: "))
            #expect(!error.description.contains("12345"), "phone numbers are masked in errors")
        }
    }

    @Test func decodeValidatedWrapsValidationErrors() {
        var message = Fixtures.message()
        message.delay = .init(minSeconds: 30, maxSeconds: 10)
        let error = #expect(throws: RecordError.self) { try BroadcastMessage.decodeValidated(from: message.encoded()) }
        #expect(error?.fields == ["delay"])
    }
}
