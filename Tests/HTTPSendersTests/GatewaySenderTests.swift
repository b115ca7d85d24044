import BroadcastTesting
import BroadcastModel
import Foundation
import HTTPSenders
import Senders
import Testing

@Suite("GatewaySender against a local HTTP server", .timeLimit(.minutes(1)))
struct GatewaySenderTests {
    static let apiKey = "gw-key-5f3a9c0e11d24b7a"
    static let success = #"{"key":{"remoteJid":"60123456778@s.whatsapp.net","fromMe":true,"id":"3EB0C767D26A1D3F0A2B"},"message":{"conversation":"hi"},"messageTimestamp":"1717000000","status":"PENDING"}"#

    static func withSender<T>(
        typingDelay: Int = 0,
        _ responder: @escaping StubHTTPServer.Responder,
        _ body: (GatewaySender, StubHTTPServer) async throws -> T
    ) async throws -> T {
        try await StubHTTPServer.with(responder) { server in
            let transport = HTTPTransport()
            let sender = GatewaySender(
                configuration: .init(baseURL: server.baseURL, instance: "sales-2", apiKey: apiKey, defaultTypingDelayMilliseconds: typingDelay),
                transport: transport
            )
            do {
                let result = try await body(sender, server)
                await transport.shutdown()
                return result
            } catch {
                await transport.shutdown()
                throw error
            }
        }
    }

    static func message(_ kind: BroadcastMessage.Content.Kind, text: String? = "Hello", mediaUrl: String? = nil, fileName: String? = nil, typing: Int? = nil) -> OutgoingMessage {
        OutgoingMessage(
            messageId: "m-1", deviceId: "dev-002", recipientPhone: "+60123456778", kind: kind, text: text,
            mediaUrl: mediaUrl, fileName: fileName, typingDelayMilliseconds: typing
        )
    }

    static func failure(_ sender: GatewaySender, _ message: OutgoingMessage = message(.text)) async -> SendFailure? {
        do {
            _ = try await sender.send(message)
            return nil
        } catch {
            return error
        }
    }

    @Test("sendText: path, apikey header, {number, text, delay}, key.id")
    func text() async throws {
        try await Self.withSender(typingDelay: 800, { _, _ in .json(201, Self.success) }) { sender, server in
            let receipt = try await sender.send(Self.message(.text, typing: 1500))
            #expect(receipt.providerMessageId == "3EB0C767D26A1D3F0A2B")
            _ = try await sender.send(Self.message(.text))

            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/message/sendText/sales-2")
            #expect(request.header("apikey") == Self.apiKey)
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.header("Authorization") == nil)
            let json = try request.json()
            #expect(json["number"] as? String == "60123456778")
            #expect(json["text"] as? String == "Hello")
            #expect(json["delay"] as? Int == 1500)
            // Without a per-message delay the device's default typing delay applies.
            #expect(try server.requests[1].json()["delay"] as? Int == 800)
        }
    }

    @Test("sendMedia: image with caption, document with fileName")
    func media() async throws {
        try await Self.withSender({ _, _ in .json(201, Self.success) }) { sender, server in
            _ = try await sender.send(Self.message(.image, text: "Menu", mediaUrl: "https://cdn.example.com/menu.jpg"))
            _ = try await sender.send(Self.message(.document, text: "Invoice", mediaUrl: "https://cdn.example.com/i.pdf", fileName: "invoice.pdf"))

            let image = server.requests[0]
            #expect(image.path == "/message/sendMedia/sales-2")
            #expect(image.header("apikey") == Self.apiKey)
            let imageJSON = try image.json()
            #expect(imageJSON["number"] as? String == "60123456778")
            #expect(imageJSON["mediatype"] as? String == "image")
            #expect(imageJSON["media"] as? String == "https://cdn.example.com/menu.jpg")
            #expect(imageJSON["caption"] as? String == "Menu")
            #expect(imageJSON["fileName"] == nil)
            #expect(imageJSON["delay"] as? Int == 0)

            let document = try server.requests[1].json()
            #expect(server.requests[1].path == "/message/sendMedia/sales-2")
            #expect(document["mediatype"] as? String == "document")
            #expect(document["fileName"] as? String == "invoice.pdf")
            #expect(document["caption"] as? String == "Invoice")
        }
    }

    @Test("401 (bad api key) is permanent and pauses the device, without echoing the key")
    func unauthorized() async throws {
        let body = #"{"status":401,"error":"Unauthorized","response":{"message":"Unauthorized: \#(Self.apiKey)"}}"#
        try await Self.withSender({ _, _ in .json(401, body) }) { sender, _ in
            let failure = try #require(await Self.failure(sender))
            #expect(failure.code == "http_401")
            #expect(failure.pausesDevice)
            #expect(!failure.message.contains(Self.apiKey))
        }
    }

    @Test("404 (no such instance) pauses the device")
    func unknownInstance() async throws {
        let body = #"{"status":404,"error":"Not Found","response":{"message":["The \"sales-2\" instance does not exist"]}}"#
        try await Self.withSender({ _, _ in .json(404, body) }) { sender, _ in
            let failure = try #require(await Self.failure(sender))
            #expect(failure.pausesDevice)
            #expect(failure.message.contains("does not exist"))
        }
    }

    @Test("400 (number not on WhatsApp) fails the message only; the number is masked")
    func badRequest() async throws {
        let body = #"{"status":400,"error":"Bad Request","response":{"message":[{"exists":false,"jid":"60123456778@s.whatsapp.net","number":"60123456778"}]}}"#
        try await Self.withSender({ _, _ in .json(400, body) }) { sender, _ in
            let failure = try #require(await Self.failure(sender))
            #expect(failure == .permanent(code: "http_400", message: failure.message, pausesDevice: false))
            #expect(failure.message.contains("exists"))
            #expect(!failure.message.contains("60123456778"))
        }
    }

    @Test("429 with Retry-After and 502 are retryable")
    func retryable() async throws {
        let responder: StubHTTPServer.Responder = { _, index in
            index == 0 ? .json(429, #"{"error":"Too Many Requests"}"#, headers: [("Retry-After", "3")]) : .json(502, "{}")
        }
        try await Self.withSender(responder) { sender, _ in
            #expect(await Self.failure(sender) == .retryable(code: "http_429", message: "gateway answered HTTP 429: Too Many Requests", retryAfterSeconds: 3))
            let second = try #require(await Self.failure(sender))
            #expect(second.code == "http_502")
            #expect(second.isRetryable)
        }
    }
}
