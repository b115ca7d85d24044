import Foundation
import Testing
@testable import BroadcastModel

@Suite struct DeadLetterTests {
    @Test func headersRoundTrip() throws {
        let letter = DeadLetter(
            reason: .keyMismatch, error: "key \"d-2\" differs from deviceId \"d-1\"", sourceTopic: "broadcast.messages",
            sourcePartition: 7, sourceOffset: 123_456_789_012, worker: "worker-a", at: Fixtures.date("2026-11-28T10:00:00.042Z"))
        let headers = letter.headers()
        #expect(headers.contains { $0.0 == "dlq.reason" && $0.1 == Array("key_mismatch".utf8) })
        #expect(headers.contains { $0.0 == "dlq.source.offset" && $0.1 == Array("123456789012".utf8) })
        // Other headers, such as the record's own `schema`, are ignored.
        #expect(try DeadLetter(headers: [RecordSchema.messageHeader] + headers) == letter)

        let minimal = DeadLetter(reason: .undecodable, sourceTopic: "t", sourcePartition: 0, sourceOffset: 0,
                                 at: Fixtures.date("2026-11-28T10:00:00Z"))
        #expect(try DeadLetter(headers: minimal.headers()) == minimal)
    }

    @Test func missingOrBadHeadersNameTheHeader() {
        let headers = DeadLetter(reason: .invalid, sourceTopic: "t", sourcePartition: 1, sourceOffset: 2, at: Date()).headers()
        #expect(throws: RecordError.missingField("dlq.source.offset")) {
            try DeadLetter(headers: headers.filter { $0.0 != "dlq.source.offset" })
        }
        let error = #expect(throws: RecordError.self) {
            try DeadLetter(headers: headers + [("dlq.reason", Array("bored".utf8))])
        }
        #expect(error?.fields == ["dlq.reason"])
    }

    @Test func reasonFollowsTheDecodeError() {
        #expect(DeadLetterReason(.malformed(reason: "x", offset: 0)) == .undecodable)
        #expect(DeadLetterReason(.unsupportedSchema(found: nil, expected: "x")) == .unsupportedSchema)
        #expect(DeadLetterReason(.invalid(ValidationError(issues: []))) == .invalid)
        #expect(DeadLetterReason(.missingField("id")) == .invalid)
    }
}
