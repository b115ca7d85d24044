import Foundation
import Testing
@testable import BroadcastModel

@Suite struct BatchEncoderTests {
    private static let awkward = ["", "Aisyah", "José \"Zé\"", "back\\slash", "tab\tnew\nline", "\u{01}\u{1F}", "👋🏽 你好", "\u{2028}"]

    @Test func messagesEqualTheCodecByteForByte() throws {
        let names = ["zeta", "Alpha", "city", "é", "alpha"]  // not in sorted order
        var shared = Fixtures.message()
        shared.content = .init(type: .image, text: "Hi {name} from {city}", mediaUrl: "https://x.example/a.png", greeting: true)
        shared.expiresAt = Fixtures.date("2026-11-29T10:00:00.5Z")
        let encoder = MessageBatchEncoder(shared: shared, attributeNames: names)
        var random = SystemRandomNumberGenerator()
        var buffer: [UInt8] = []
        for round in 0..<500 {
            var message = shared
            message.id = "cmp-1-\(round)" + Self.awkward[round % Self.awkward.count]
            message.deviceId = "device-\(round % 9)"
            message.recipient = .init(phone: "+6012\(1_000_000 + round)", name: round % 4 == 0 ? nil : Self.awkward.randomElement(using: &random))
            var values: [String?] = names.map { _ in Bool.random(using: &random) ? Self.awkward.randomElement(using: &random) : nil }
            if round % 5 == 0 { values = names.map { _ in nil } }
            var attributes: [String: String] = [:]
            for (index, value) in values.enumerated() { if let value { attributes[names[index]] = value } }
            message.attributes = attributes.isEmpty ? nil : attributes

            let start = buffer.count
            encoder.encode(id: message.id, deviceId: message.deviceId, recipient: message.recipient, into: &buffer) { values[$0] }
            let written = Array(buffer[start...])
            #expect(written == message.encoded(), "round \(round): \(String(decoding: written, as: UTF8.self))")
            #expect(try BroadcastMessage.decode(from: written) == message)
        }
    }

    @Test func sequenceMessagesWithoutAttributesToo() {
        var shared = Fixtures.message()
        shared.source = .sequence
        shared.campaignId = nil
        shared.sequenceId = "seq-1"
        shared.sequenceStepId = "step-2"
        let encoder = MessageBatchEncoder(shared: shared)
        var buffer: [UInt8] = []
        encoder.encode(id: "x", deviceId: "d", recipient: .init(phone: "+60123456789"), into: &buffer)
        var expected = shared
        expected.id = "x"
        expected.deviceId = "d"
        expected.recipient = .init(phone: "+60123456789")
        #expect(buffer == expected.encoded())
    }

    @Test func statusEventsEqualTheCodecByteForByte() throws {
        let message = Fixtures.message()
        var variants = [
            StatusEvent(for: message, status: .queued, at: message.createdAt),
            StatusEvent(
                for: message, status: .failed, at: Fixtures.date("2026-11-28T10:00:01.250Z"), attempt: 5, reason: "gave up",
                error: .init(code: "131047", message: "re-engage \"window\"", retryable: false), worker: "w-1", partition: 3, offset: 99),
        ]
        variants[1].sequenceId = "seq"
        for shared in variants {
            let encoder = StatusBatchEncoder(shared: shared)
            for (round, name) in Self.awkward.enumerated() {
                var event = shared
                event.messageId = "m-\(round)\(name)"
                event.deviceId = "device\(name)"
                event.recipientPhone = "+6012345\(round)"
                var buffer: [UInt8] = Array("prefix".utf8)
                encoder.encode(messageId: event.messageId, deviceId: event.deviceId, recipientPhone: event.recipientPhone, into: &buffer)
                #expect(Array(buffer.dropFirst(6)) == event.encoded())
                #expect(try StatusEvent.decode(from: Array(buffer.dropFirst(6))) == event)
            }
        }
    }
}
