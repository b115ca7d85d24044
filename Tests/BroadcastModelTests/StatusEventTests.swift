import Foundation
import Testing
@testable import BroadcastModel

@Suite struct StatusEventTests {
    @Test func roundTripWithEveryField() throws {
        let event = StatusEvent(
            messageId: "m-1", userId: "u-1", deviceId: "d-1", campaignId: "c-1", sequenceId: "s-1",
            sequenceStepId: "st-1", recipientPhone: "+60123456778", status: .deadLettered, reason: "cap",
            attempt: 3, at: Fixtures.date("2026-11-28T10:00:00.5+08:00"), providerMessageId: "wamid.X==",
            error: .init(code: "131056", message: "rate \"limit\" ✋", retryable: true), worker: "w-1",
            partition: Int32.max, offset: Int64.max)
        let bytes = event.encoded()
        #expect(try StatusEvent.decodeValidated(from: bytes) == event)
        #expect(try JSONDecoder().decode(StatusEvent.self, from: Data(bytes)) == event)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""status":"dead_lettered""#))
    }

    @Test func convenienceInitCopiesTheMessage() {
        var message = Fixtures.message()
        message.source = .sequence
        message.sequenceId = "seq"
        message.sequenceStepId = "step"
        let at = Fixtures.date("2026-11-28T10:00:01Z")
        let event = StatusEvent(for: message, status: .skipped, at: at, reason: StatusEvent.Reason.optOut)
        #expect(event.messageId == message.id)
        #expect(event.deviceId == message.deviceId)
        #expect(event.campaignId == "cmp-1")
        #expect(event.sequenceStepId == "step")
        #expect(event.recipientPhone == message.recipient.phone)
        #expect(event.attempt == 0)
        #expect(event.reason == "opt_out")
    }

    @Test func statusRawValuesAndFinality() {
        #expect(MessageStatus.allCases.map(\.rawValue) == [
            "queued", "processing", "sent", "retrying", "failed", "skipped", "expired", "dead_lettered", "rerouted", "delivered", "read",
        ])
        #expect(MessageStatus.allCases.filter(\.isFinal) == [.sent, .failed, .skipped, .expired, .deadLettered, .delivered, .read])
        #expect(MessageStatus.allCases.filter(\.isAcceptedByProvider) == [.sent, .delivered, .read])
    }

    @Test func validationNamesTheFields() {
        var event = StatusEvent(for: Fixtures.message(), status: .sent, at: Date())
        event.messageId = ""
        event.attempt = -1
        event.offset = -5
        #expect(throws: ValidationError.self) { try event.validate() }
        do {
            try event.validate()
        } catch {
            #expect(error.issues.map(\.field) == ["messageId", "attempt", "offset"])
        }
    }

    @Test func integerFieldsRejectFractionsAndOverflow() throws {
        let base = String(decoding: StatusEvent(for: Fixtures.message(), status: .sent, at: Date(), attempt: 2,
                                                partition: 1).encoded(), as: UTF8.self)
        // 2.0 is an integer to JSON Schema too.
        #expect(try StatusEvent.decode(from: Array(base.replacingOccurrences(of: #""attempt":2"#, with: #""attempt":2.0"#).utf8)).attempt == 2)
        #expect(throws: RecordError.wrongType(field: "attempt", expected: "integer")) {
            try StatusEvent.decode(from: Array(base.replacingOccurrences(of: #""attempt":2"#, with: #""attempt":2.5"#).utf8))
        }
        let error = #expect(throws: RecordError.self) {
            try StatusEvent.decode(from: Array(base.replacingOccurrences(of: #""partition":1"#, with: #""partition":4294967296"#).utf8))
        }
        #expect(error?.fields == ["partition"])
    }
}
