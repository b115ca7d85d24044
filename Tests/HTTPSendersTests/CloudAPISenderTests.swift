import BroadcastTesting
import BroadcastModel
import Foundation
import NIOCore
import HTTPSenders
import Senders
import Testing

@Suite("CloudAPISender against a local HTTP server", .timeLimit(.minutes(1)))
struct CloudAPISenderTests {
    static let token = "EAAG-test-token-0123456789abcdef"
    static let success = #"{"messaging_product":"whatsapp","contacts":[{"input":"60123456778","wa_id":"60123456778"}],"messages":[{"id":"wamid.HBgLNjAxMjM0NTY3NzgVAgARGBI"}]}"#

    static func errorBody(code: Int, message: String, details: String, subcode: Int? = nil) -> String {
        let sub = subcode.map { #","error_subcode":\#($0)"# } ?? ""
        return #"{"error":{"message":"\#(message)","type":"OAuthException","code":\#(code),"error_data":{"messaging_product":"whatsapp","details":"\#(details)"}\#(sub),"fbtrace_id":"AbC123"}}"#
    }

    static func text(_ body: String = "Selamat pagi Aisyah!") -> OutgoingMessage {
        OutgoingMessage(messageId: "m-1", deviceId: "dev-001", recipientPhone: "+60123456778", kind: .text, text: body)
    }

    static func withSender<T>(
        timeouts: HTTPTransport.Configuration = HTTPTransport.Configuration(),
        _ responder: @escaping StubHTTPServer.Responder,
        _ body: (CloudAPISender, StubHTTPServer) async throws -> T
    ) async throws -> T {
        try await StubHTTPServer.with(responder) { server in
            let transport = HTTPTransport(configuration: timeouts)
            let sender = CloudAPISender(
                configuration: .init(phoneNumberId: "109876543210", accessToken: token, baseURL: server.baseURL + "/"),
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

    static func failure(_ work: () async throws(SendFailure) -> SendReceipt) async -> SendFailure? {
        do {
            _ = try await work()
            return nil
        } catch {
            return error
        }
    }

    @Test("text: path, bearer token, JSON body and provider id")
    func textSuccess() async throws {
        try await Self.withSender({ _, _ in .json(200, Self.success) }) { sender, server in
            let receipt = try await sender.send(Self.text("Hi, see https://example.com/promo"))
            #expect(receipt.providerMessageId == "wamid.HBgLNjAxMjM0NTY3NzgVAgARGBI")

            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/v23.0/109876543210/messages")
            #expect(request.header("Authorization") == "Bearer \(Self.token)")
            #expect(request.header("Content-Type") == "application/json")
            let json = try request.json()
            #expect(json["messaging_product"] as? String == "whatsapp")
            #expect(json["recipient_type"] as? String == "individual")
            #expect(json["to"] as? String == "60123456778")
            #expect(json["type"] as? String == "text")
            let text = try #require(json["text"] as? [String: Any])
            #expect(text["body"] as? String == "Hi, see https://example.com/promo")
            #expect(text["preview_url"] as? Bool == true)
            #expect(json["image"] == nil)
        }
    }

    @Test("a text without a link asks for no preview")
    func textWithoutLink() async throws {
        try await Self.withSender({ _, _ in .json(200, Self.success) }) { sender, server in
            _ = try await sender.send(Self.text())
            let text = try #require(try server.requests.first?.json()["text"] as? [String: Any])
            #expect(text["preview_url"] as? Bool == false)
        }
    }

    @Test("429 with 130429 and Retry-After: 7 is retryable after 7 s; the retry succeeds")
    func throughputLimitThenSuccess() async throws {
        let responder: StubHTTPServer.Responder = { _, index in
            index == 0
                ? .json(429, Self.errorBody(code: 130429, message: "(#130429) Rate limit hit", details: "Cloud API message throughput has been reached."), headers: [("Retry-After", "7")])
                : .json(200, Self.success)
        }
        try await Self.withSender(responder) { sender, server in
            let failure = await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) }
            #expect(failure == .retryable(
                code: "130429",
                message: "(#130429) Rate limit hit: Cloud API message throughput has been reached. [fbtrace AbC123]",
                retryAfterSeconds: 7
            ))
            let receipt = try await sender.send(Self.text())
            #expect(receipt.providerMessageId.hasPrefix("wamid."))
            #expect(server.requests.count == 2)
        }
    }

    @Test("pair rate limit 131056 without Retry-After suggests 6 s")
    func pairRateLimit() async throws {
        try await Self.withSender({ _, _ in .json(400, Self.errorBody(code: 131056, message: "(#131056) pair rate limit hit", details: "too many messages")) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
            guard case .retryable("131056", _, 6) = failure else {
                Issue.record("expected retryable 131056 after 6 s, got \(failure)")
                return
            }
        }
    }

    @Test("400 with 131047 (re-engagement) is permanent and does not pause; secrets are scrubbed")
    func reEngagement() async throws {
        // A provider message echoing the token and the recipient must not reach the status topic.
        let body = Self.errorBody(
            code: 131047, message: "(#131047) Re-engagement message",
            details: "More than 24 hours have passed since 60123456778 last replied (token \(Self.token))", subcode: 2494010
        )
        try await Self.withSender({ _, _ in .json(400, body) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
            #expect(failure.code == "131047")
            #expect(!failure.isRetryable)
            #expect(!failure.pausesDevice)
            #expect(!failure.message.contains(Self.token))
            #expect(!failure.message.contains("60123456778"))
            #expect(failure.message.contains("6012•••••78"))
            #expect(failure.message.contains("subcode 2494010"))
        }
    }

    @Test("131048 (spam rate limit) is permanent and pauses the device")
    func spamRateLimit() async throws {
        try await Self.withSender({ _, _ in .json(400, Self.errorBody(code: 131048, message: "(#131048) Spam rate limit hit", details: "flagged as spam")) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
            #expect(failure.code == "131048")
            #expect(!failure.isRetryable)
            #expect(failure.pausesDevice)
        }
    }

    @Test("ban-like and token codes pause the device", arguments: [368, 131031, 190, 0, 10, 200])
    func pausingCodes(code: Int) async throws {
        try await Self.withSender({ _, _ in .json(400, Self.errorBody(code: code, message: "(#\(code)) blocked", details: "policy")) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
            #expect(failure.pausesDevice, "code \(code)")
        }
    }

    @Test("HTTP 500 without an envelope is retryable")
    func serverError() async throws {
        try await Self.withSender({ _, _ in StubHTTPServer.Response(status: 500, body: "upstream exploded") }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
            #expect(failure.code == "http_500")
            #expect(failure.isRetryable)
        }
    }

    @Test("an unknown code on a 503 stays retryable and keeps Meta's code; Retry-After as an HTTP date")
    func unknownCodeFallsBackToStatus() async throws {
        let date = Date().addingTimeInterval(120)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let header = formatter.string(from: date)
        try await Self.withSender({ _, _ in .json(503, Self.errorBody(code: 999_999, message: "new", details: "x"), headers: [("Retry-After", header)]) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
            guard case .retryable("999999", _, let after?) = failure else {
                Issue.record("expected retryable 999999 with a delay, got \(failure)")
                return
            }
            #expect((100...121).contains(after))
        }
    }

    @Test("an answer slower than the request timeout is retried with its outcome unknown")
    func slowAnswer() async throws {
        let timeouts = HTTPTransport.Configuration(connectTimeout: .seconds(2), requestTimeout: .milliseconds(300))
        try await Self.withSender(timeouts: timeouts, { _, _ in .json(200, Self.success, delay: .seconds(3)) }) { sender, _ in
            let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
            #expect(failure.code == "timeout")
            #expect(failure.isRetryable)
            #expect(failure.outcomeUnknown, "the request was written: the provider may have the message")
            // The server would have answered 200 after 3 s: a timeout code proves the client gave up first.
        }
    }

    @Test("a refused connection is retryable")
    func connectionRefused() async throws {
        let server = try await StubHTTPServer.start { _, _ in .json(200, Self.success) }
        let url = server.baseURL
        await server.stop()
        let transport = HTTPTransport(configuration: .init(connectTimeout: .milliseconds(500), requestTimeout: .seconds(5)))
        let sender = CloudAPISender(configuration: .init(phoneNumberId: "1", accessToken: Self.token, baseURL: url), transport: transport)
        let failure = try #require(await Self.failure { () async throws(SendFailure) in try await sender.send(Self.text()) })
        await transport.shutdown()
        #expect(failure.isRetryable)
        #expect(failure.code == "connection")
        #expect(!failure.outcomeUnknown, "nothing reached the provider")
        #expect(!failure.message.contains(Self.token))
    }

    @Test("image and video: link and caption under their type")
    func imageBody() async throws {
        try await Self.withSender({ _, _ in .json(200, Self.success) }) { sender, server in
            for kind in [BroadcastKind.image, .video] {
                _ = try await sender.send(OutgoingMessage(
                    messageId: "m-2", deviceId: "dev-001", recipientPhone: "+60123456778", kind: kind,
                    text: "New menu", mediaUrl: "https://cdn.example.com/menu.jpg"
                ))
            }
            for (request, key) in zip(server.requests, ["image", "video"]) {
                let json = try request.json()
                #expect(json["type"] as? String == key)
                let media = try #require(json[key] as? [String: Any])
                #expect(media["link"] as? String == "https://cdn.example.com/menu.jpg")
                #expect(media["caption"] as? String == "New menu")
                #expect(media["filename"] == nil)
                #expect(json["text"] == nil)
            }
        }
    }

    @Test("document carries filename; audio carries no caption")
    func documentAndAudioBodies() async throws {
        try await Self.withSender({ _, _ in .json(200, Self.success) }) { sender, server in
            _ = try await sender.send(OutgoingMessage(
                messageId: "m-3", deviceId: "dev-001", recipientPhone: "+60123456778", kind: .document,
                text: "Your invoice", mediaUrl: "https://cdn.example.com/inv.pdf", fileName: "invoice-42.pdf"
            ))
            _ = try await sender.send(OutgoingMessage(
                messageId: "m-4", deviceId: "dev-001", recipientPhone: "+60123456778", kind: .audio,
                text: "ignored", mediaUrl: "https://cdn.example.com/hello.ogg"
            ))
            let document = try #require(try server.requests[0].json()["document"] as? [String: Any])
            #expect(document["link"] as? String == "https://cdn.example.com/inv.pdf")
            #expect(document["caption"] as? String == "Your invoice")
            #expect(document["filename"] as? String == "invoice-42.pdf")
            let audio = try #require(try server.requests[1].json()["audio"] as? [String: Any])
            #expect(audio["link"] as? String == "https://cdn.example.com/hello.ogg")
            #expect(audio["caption"] == nil)
        }
    }

    @Test("a media message without a URL fails permanently before any request")
    func mediaWithoutURL() async throws {
        try await Self.withSender({ _, _ in .json(200, Self.success) }) { sender, server in
            let failure = await Self.failure { () async throws(SendFailure) in
                try await sender.send(OutgoingMessage(messageId: "m-5", deviceId: "dev-001", recipientPhone: "+60123456778", kind: .image, text: nil))
            }
            #expect(failure?.code == "invalid_message")
            #expect(failure?.pausesDevice == false)
            #expect(server.requests.isEmpty)
        }
    }

    @Test("configuration descriptions hide the token")
    func descriptionHidesToken() {
        let configuration = CloudAPISender.Configuration(phoneNumberId: "1", accessToken: Self.token)
        #expect(!"\(configuration)".contains(Self.token))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains(Self.token))
    }
}

typealias BroadcastKind = BroadcastMessage.Content.Kind
