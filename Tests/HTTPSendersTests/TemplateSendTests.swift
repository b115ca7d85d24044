import BroadcastModel
import BroadcastTesting
import Foundation
import HTTPSenders
import Senders
import Testing

@Suite("Template messages and Cloud API send rules against a local HTTP server", .timeLimit(.minutes(1)))
struct TemplateSendTests {
    static let template = MessageTemplate(name: "renewal_reminder", language: "ms", components: [
        .init(type: .header, parameters: [.init(type: .image, mediaUrl: "https://cdn.example.com/renewal.jpg")]),
        .init(type: .body, parameters: [.text("{name}"), .text("{plan}")]),
        .init(type: .button, subType: .url, index: 0, parameters: [.text("{order_id}")]),
        .init(type: .button, subType: .quickReply, index: 1, parameters: [.init(type: .payload, payload: "stop-promotions")]),
    ])

    static func templateMessage() -> OutgoingMessage {
        let filled = template.filled(name: "Aisyah", attributes: ["Plan": "Gold", "order_id": "A-1001"])
        #expect(filled.unfilled.isEmpty)
        return OutgoingMessage(
            messageId: "cmp-1:+60123456778", deviceId: "dev-001", recipientPhone: "+60123456778", kind: .template,
            text: nil, template: filled.template)
    }

    static func failure(_ work: () async throws(SendFailure) -> SendReceipt) async -> SendFailure? {
        do {
            _ = try await work()
            return nil
        } catch {
            return error
        }
    }

    @Test("a template goes out in Meta's shape, parameters filled, with our id as callback data")
    func templateBodyIsExact() async throws {
        try await CloudAPISenderTests.withSender({ _, _ in .json(200, CloudAPISenderTests.success) }) { sender, server in
            let receipt = try await sender.send(Self.templateMessage())
            #expect(receipt.providerMessageId == "wamid.HBgLNjAxMjM0NTY3NzgVAgARGBI")
            let request = try #require(server.requests.first)
            #expect(request.path == "/\(CloudAPISender.Configuration.defaultAPIVersion)/109876543210/messages")
            let expected = #"{"biz_opaque_callback_data":"cmp-1:+60123456778","messaging_product":"whatsapp","recipient_type":"individual","template":{"components":[{"parameters":[{"image":{"link":"https://cdn.example.com/renewal.jpg"},"type":"image"}],"type":"header"},{"parameters":[{"text":"Aisyah","type":"text"},{"text":"Gold","type":"text"}],"type":"body"},{"index":"0","parameters":[{"text":"A-1001","type":"text"}],"sub_type":"url","type":"button"},{"index":"1","parameters":[{"payload":"stop-promotions","type":"payload"}],"sub_type":"quick_reply","type":"button"}],"language":{"code":"ms"},"name":"renewal_reminder"},"to":"60123456778","type":"template"}"#
            #expect(String(decoding: request.body, as: UTF8.self) == expected)
        }
    }

    @Test("every send carries our message id as biz_opaque_callback_data; the default API version is current")
    func callbackDataOnText() async throws {
        #expect(CloudAPISender.Configuration.defaultAPIVersion == "v23.0")
        try await CloudAPISenderTests.withSender({ _, _ in .json(200, CloudAPISenderTests.success) }) { sender, server in
            _ = try await sender.send(CloudAPISenderTests.text())
            let json = try #require(server.requests.first).json()
            #expect(json["biz_opaque_callback_data"] as? String == "m-1")
        }
    }

    @Test("captions are held to 1,024 characters, text bodies to 4,096")
    func captionLimit() async throws {
        try await CloudAPISenderTests.withSender({ _, _ in .json(200, CloudAPISenderTests.success) }) { sender, server in
            let long = String(repeating: "é", count: 1025)
            let image = OutgoingMessage(
                messageId: "m-2", deviceId: "dev-001", recipientPhone: "+60123456778", kind: .image, text: long,
                mediaUrl: "https://cdn.example.com/a.jpg")
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(image) })
            #expect(failure.code == "caption_too_long" && !failure.isRetryable && !failure.pausesDevice)
            #expect(server.requests.isEmpty)
            var fits = image
            fits.text = String(repeating: "é", count: 1024)
            _ = try await sender.send(fits)
            _ = try await sender.send(CloudAPISenderTests.text(String(repeating: "a", count: 4096)))
            #expect(server.requests.count == 2)
        }
    }

    @Test("132xxx template errors are permanent and named; 131050 is named for the opt-out")
    func templateAndOptOutErrors() async throws {
        let cases: [(Int, String)] = [(132001, "template_does_not_exist"), (132000, "template_param_count_mismatch"), (132015, "template_paused"), (131050, "user_stopped_marketing")]
        for (code, name) in cases {
            try await CloudAPISenderTests.withSender({ _, _ in .json(400, CloudAPISenderTests.errorBody(code: code, message: "(#\(code)) problem", details: "d")) }) { sender, _ in
                let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.templateMessage()) })
                #expect(failure.code == String(code) && !failure.isRetryable && !failure.pausesDevice && !failure.holdsMessage, "\(code)")
                #expect(failure.message.hasPrefix(name), "\(code): \(failure.message)")
            }
        }
    }

    @Test("configuration and token errors park the device and hold the message", arguments: [190, 0, 10, 200, 299])
    func configurationErrorsHold(code: Int) async throws {
        try await CloudAPISenderTests.withSender({ _, _ in .json(400, CloudAPISenderTests.errorBody(code: code, message: "(#\(code)) token", details: "expired")) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(CloudAPISenderTests.text()) })
            #expect(failure.holdsMessage && failure.pausesDevice && !failure.isRetryable, "code \(code): \(failure)")
        }
    }

    @Test("100 with subcode 33 and HTTP 401/403 park the device too; 368 (policy block) fails the message")
    func otherParkingCases() async throws {
        try await CloudAPISenderTests.withSender({ _, _ in .json(400, CloudAPISenderTests.errorBody(code: 100, message: "no such object", details: "x", subcode: 33)) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(CloudAPISenderTests.text()) })
            #expect(failure.holdsMessage)
        }
        try await CloudAPISenderTests.withSender({ _, _ in StubHTTPServer.Response(status: 401, body: "nope") }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(CloudAPISenderTests.text()) })
            #expect(failure.holdsMessage && failure.code == "http_401")
        }
        try await CloudAPISenderTests.withSender({ _, _ in .json(400, CloudAPISenderTests.errorBody(code: 368, message: "blocked", details: "policy")) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(CloudAPISenderTests.text()) })
            #expect(failure.pausesDevice && !failure.holdsMessage)
        }
    }

    @Test("a gateway refuses a template with template_unsupported, permanently, without a request")
    func gatewayRefusesTemplates() async throws {
        try await GatewaySenderTests.withSender({ _, _ in .json(200, GatewaySenderTests.success) }) { sender, server in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.templateMessage()) })
            #expect(failure.code == "template_unsupported" && !failure.isRetryable && !failure.pausesDevice && !failure.holdsMessage)
            #expect(server.requests.isEmpty)
        }
    }
}
