import Foundation
import Testing
@testable import BroadcastModel

@Suite struct TemplateMessageTests {
    static let template = MessageTemplate(name: "order_update", language: "pt_BR", components: [
        .init(type: .header, parameters: [.init(type: .document, mediaUrl: "https://cdn.example.com/{order_id}.pdf", fileName: "Pedido \"{order_id}\".pdf")]),
        .init(type: .body, parameters: [.text("{name}"), .text("{ order }"), .text("fixed {unknown_col}")]),
        .init(type: .button, subType: .quickReply, index: 0, parameters: [.init(type: .payload, payload: "stop")]),
    ])

    static func message() -> BroadcastMessage {
        var message = Fixtures.message()
        message.content = .template(template)
        return message
    }

    @Test func codecRoundTripsAndMatchesCodable() throws {
        let message = Self.message()
        try message.validate()
        let bytes = message.encoded()
        #expect(try BroadcastMessage.decodeValidated(from: bytes) == message)
        let viaCodable = try JSONDecoder().decode(BroadcastMessage.self, from: Data(bytes))
        #expect(viaCodable == message)
        let reencoded = try JSONEncoder().encode(message)
        #expect(try BroadcastMessage.decodeValidated(from: [UInt8](reencoded)) == message)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""template":{"name":"order_update","language":"pt_BR","components":[{"type":"header","parameters":[{"type":"document""#))
    }

    @Test func batchEncoderStaysByteEqualWithTemplates() throws {
        let shared = Self.message()
        let encoder = MessageBatchEncoder(shared: shared, attributeNames: ["order_id"])
        var buffer: [UInt8] = []
        for round in 0..<20 {
            var message = shared
            message.id = "cmp-t-\(round)"
            message.recipient = .init(phone: "+6012\(1_000_000 + round)", name: round.isMultiple(of: 3) ? nil : "Ana \(round)")
            message.attributes = ["order_id": "A-\(round)"]
            let start = buffer.count
            encoder.encode(id: message.id, deviceId: message.deviceId, recipient: message.recipient, into: &buffer) { _ in "A-\(round)" }
            #expect(Array(buffer[start...]) == message.encoded())
        }
    }

    @Test func fillingUsesNameAndAttributesCaseInsensitivelyAndReportsTheRest() {
        let (filled, unfilled) = Self.template.filled(name: "Ana", attributes: ["ORDER_ID": "77"])
        #expect(filled.components[0].parameters[0].mediaUrl == "https://cdn.example.com/77.pdf")
        #expect(filled.components[0].parameters[0].fileName == "Pedido \"77\".pdf")
        #expect(filled.components[1].parameters.map(\.text) == ["Ana", "{ order }", "fixed {unknown_col}"])
        #expect(unfilled == ["unknown_col"])
        #expect(Self.template.placeholders == ["order_id", "name", "unknown_col"])
        #expect(filled.components[2].parameters[0].payload == "stop")
    }

    @Test func validationNamesTheField() {
        func fields(_ change: (inout BroadcastMessage) -> Void) -> [String] {
            var message = Self.message()
            change(&message)
            do {
                try message.validate()
                return []
            } catch {
                return error.issues.map(\.field)
            }
        }
        #expect(fields { $0.content.template?.name = "Order Update" } == ["content.template.name"])
        #expect(fields { $0.content.template?.language = "portuguese" } == ["content.template.language"])
        #expect(fields { $0.content.greeting = true } == ["content.greeting"])
        #expect(fields { $0.content.variation = true } == ["content.variation"])
        #expect(fields { $0.content.text = "hello" } == ["content.text"])
        #expect(fields { $0.content.template = nil } == ["content.template"])
        #expect(fields { $0.content.type = .text; $0.content.text = "hi" } == ["content.template"])
        #expect(fields { $0.content.template?.components[1].parameters[0] = .init(type: .text, text: "") } == ["content.template.components[1].parameters[0].text"])
        #expect(fields { $0.content.template?.components[1].parameters[0] = .init(type: .image, mediaUrl: "https://x.example/a.png") } == ["content.template.components[1].parameters[0].type"])
        let noSubType = fields { $0.content.template?.components[2].subType = nil }
        #expect(noSubType.contains("content.template.components[2].subType"))
        #expect(fields { $0.content.template?.components[2].index = 12 } == ["content.template.components[2].index"])
        #expect(fields { $0.content.template?.components.append(.init(type: .body, parameters: [.text("x")])) } == ["content.template.components[3].type"])
        #expect(fields { $0.content.template?.components[0].parameters[0].mediaUrl = nil } == ["content.template.components[0].parameters[0].mediaUrl"])
    }

    @Test func decodingErrorsNameTheArrayPath() {
        let bytes = Array(String(decoding: Self.message().encoded(), as: UTF8.self)
            .replacingOccurrences(of: #"{"type":"payload","payload":"stop"}"#, with: #"{"type":"sticker"}"#).utf8)
        #expect(throws: RecordError.invalidValue(field: "content.template.components[2].parameters[0].type", reason: "\"sticker\" is not one of text, image, video, document, payload")) {
            try BroadcastMessage.decode(from: bytes)
        }
    }
}
