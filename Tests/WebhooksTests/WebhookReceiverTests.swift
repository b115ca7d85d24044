import AsyncHTTPClient
import BroadcastModel
import BroadcastTesting
import Crypto
import Foundation
import Kafka
import NIOCore
import Testing
@testable import Webhooks

/// The receiver on 127.0.0.1, called over real HTTP with bodies signed the way Meta signs them,
/// publishing to the embedded cluster.
@Suite(.serialized) struct WebhookReceiverTests {
    static let appSecret = "test-app-secret-6f1c"
    static let verifyToken = "verify-me-please"
    static let gatewayToken = "gateway-token-42"

    /// HMAC-SHA256 of the raw body with the app secret, computed here independently of the receiver.
    static func metaSignature(_ body: [UInt8], secret: String = appSecret) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    static func statusBody(_ statuses: [(wamid: String, status: String, ourId: String?)], phoneNumberId: String = "1098765") -> [UInt8] {
        let items = statuses.map { s -> String in
            let callback = s.ourId.map { ",\"biz_opaque_callback_data\":\"\($0)\"" } ?? ""
            let errors = s.status == "failed" ? ",\"errors\":[{\"code\":131047,\"title\":\"Re-engagement message\",\"error_data\":{\"details\":\"More than 24 hours\"}}]" : ""
            return "{\"id\":\"\(s.wamid)\",\"status\":\"\(s.status)\",\"timestamp\":\"1764669600\",\"recipient_id\":\"60123456778\"\(callback)\(errors)}"
        }
        let json = """
        {"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"60300000000","phone_number_id":"\(phoneNumberId)"},"statuses":[\(items.joined(separator: ","))]}}]}]}
        """
        return Array(json.utf8)
    }

    static func inboundBody(from: String = "60123456778", text: String, wamid: String) -> [UInt8] {
        Array("""
        {"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1098765"},"contacts":[{"profile":{"name":"Aisyah"},"wa_id":"\(from)"}],"messages":[{"from":"\(from)","id":"\(wamid)","timestamp":"1764669700","type":"text","text":{"body":"\(text)"},"context":{"id":"wamid.ours"}}]}}]}]}
        """.utf8)
    }

    struct Running {
        let harness: ClusterHarness
        let producer: KafkaProducer
        let receiver: WebhookReceiver
        let server: WebhookServer
        let client: HTTPClient

        var base: String { "http://127.0.0.1:\(server.port)" }

        func post(_ path: String, _ body: [UInt8], headers: [(String, String)]) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(30))
            let text = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: text))
        }

        func signedPost(_ body: [UInt8]) async throws -> (Int, String) {
            try await post(WebhookReceiver.cloudPath, body, headers: [("X-Hub-Signature-256", WebhookReceiverTests.metaSignature(body))])
        }

        func get(_ pathAndQuery: String) async throws -> (Int, String) {
            let response = try await client.execute(HTTPClientRequest(url: base + pathAndQuery), timeout: .seconds(10))
            let text = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: text))
        }

        func stop() async {
            try? await client.shutdown()
            await server.stop()
            await producer.close(flushTimeout: .seconds(2))
        }
    }

    static func start(deliveryTimeoutMilliseconds: Int = 30_000) async throws -> Running {
        let harness = try ClusterHarness(partitions: 3)
        var configuration = ProducerConfiguration(bootstrapServers: harness.bootstrap)
        configuration.deliveryTimeoutMilliseconds = deliveryTimeoutMilliseconds
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        let producer = try KafkaProducer(configuration: configuration)
        let receiver = WebhookReceiver(
            configuration: .init(
                appSecret: appSecret, verifyToken: verifyToken, gatewayToken: gatewayToken,
                devices: WebhookDevices(cloudPhoneNumberIds: ["1098765": "device-7"], gatewayInstances: ["shop-1": "device-9"]),
                topics: harness.topics, recentEventCapacity: 1_000),
            publisher: KafkaWebhookPublisher(producer: producer),
            lookup: FixedLookup(ids: ["3EB0GATEWAY1": "cmp-1:+60123456778"]))
        let server = try await WebhookServer.start(host: "127.0.0.1", port: 0, receiver: receiver)
        return Running(harness: harness, producer: producer, receiver: receiver, server: server, client: HTTPClient(eventLoopGroupProvider: .singleton))
    }

    struct FixedLookup: ProviderMessageLookup {
        var ids: [String: String]
        func messageId(forProviderMessageId id: String) -> String? { ids[id] }
    }

    @Test func verificationEchoesTheChallengeOnlyForTheRightToken() async throws {
        let run = try await Self.start()
        let good = try await run.get("\(WebhookReceiver.cloudPath)?hub.mode=subscribe&hub.verify_token=\(Self.verifyToken)&hub.challenge=1158201444")
        #expect(good.0 == 200 && good.1 == "1158201444")
        let wrong = try await run.get("\(WebhookReceiver.cloudPath)?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444")
        #expect(wrong.0 == 403 && !wrong.1.contains("1158201444"))
        await run.stop()
    }

    @Test func signedReceiptsArePublishedMatchedByCallbackDataAndDuplicatesDropped() async throws {
        let run = try await Self.start()
        let follower = try run.harness.follow(run.harness.topics.status)
        let body = Self.statusBody([
            ("wamid.A", "delivered", "cmp-1:+60123456778"),
            ("wamid.A", "read", "cmp-1:+60123456778"),
            ("wamid.B", "failed", "cmp-1:+60199999999"),
            ("wamid.C", "delivered", nil),          // not ours: no callback data
            ("wamid.D", "sent", "cmp-1:+60188888888"), // repeats what the worker wrote
        ])
        let first = try await run.signedPost(body)
        #expect(first.0 == 200)
        // Meta retries the same body: nothing new may appear.
        let again = try await run.signedPost(body)
        #expect(again.0 == 200)
        try await follower.wait(timeout: .seconds(30)) { $0.count >= 3 }
        // Give a wrongly published duplicate time to show up before counting.
        let marker = try await run.signedPost(Self.statusBody([("wamid.Z", "delivered", "marker")]))
        #expect(marker.0 == 200)
        // Both awaited: they are on different partitions, and after the outage the follower may read
        // the marker's partition again before the receipt's.
        try await follower.wait(timeout: .seconds(30)) { records in
            records.contains { $0.key == "marker" } && records.contains { $0.key == "cmp-outage:+60123456778" }
        }
        let events = follower.statusEvents.filter { $0.messageId != "marker" }
        #expect(events.count == 3, "got \(events.map { "\($0.messageId) \($0.status)" })")
        let delivered = events.first { $0.status == .delivered }
        #expect(delivered?.messageId == "cmp-1:+60123456778")
        #expect(delivered?.deviceId == "device-7")
        #expect(delivered?.providerMessageId == "wamid.A")
        #expect(delivered?.recipientPhone == "+60123456778")
        #expect(delivered?.at == Date(timeIntervalSince1970: 1_764_669_600))
        #expect(events.contains { $0.status == .read && $0.messageId == "cmp-1:+60123456778" })
        let failed = try #require(events.first { $0.status == .failed })
        #expect(failed.messageId == "cmp-1:+60199999999" && failed.reason == StatusEvent.Reason.afterSent)
        #expect(failed.error?.code == "131047" && failed.error?.message.contains("Re-engagement") == true)
        let record = try #require(follower.records.value.first { $0.key == "cmp-1:+60123456778" })
        #expect(record.headers.contains { $0.name == RecordSchema.headerName && $0.value == Array(RecordSchema.status.utf8) })
        let counters = run.receiver.counters
        #expect(counters.duplicates == 3 && counters.unmatched == 2 && counters.ignored == 2, "\(counters)")
        await follower.close()
        await run.stop()
    }

    @Test func badSignatureMissingSignatureAndMalformedBodiesPublishNothing() async throws {
        let run = try await Self.start()
        let follower = try run.harness.follow(run.harness.topics.status)
        let body = Self.statusBody([("wamid.X", "delivered", "cmp-bad:+60123456778")])
        let forged = try await run.post(WebhookReceiver.cloudPath, body, headers: [("X-Hub-Signature-256", Self.metaSignature(body, secret: "not-the-secret"))])
        #expect(forged.0 == 401)
        let missing = try await run.post(WebhookReceiver.cloudPath, body, headers: [])
        #expect(missing.0 == 401)
        var tampered = body
        tampered[tampered.count - 5] = UInt8(ascii: " ")
        let altered = try await run.post(WebhookReceiver.cloudPath, tampered, headers: [("X-Hub-Signature-256", Self.metaSignature(body))])
        #expect(altered.0 == 401)
        let junk = Array("{\"entry\": [".utf8)
        let malformed = try await run.signedPost(junk)
        #expect(malformed.0 == 400)
        let wrongShape = Array("{\"entry\": [{\"changes\": [{\"value\": {\"statuses\": [{\"status\": 5}]}}]}]}".utf8)
        #expect(try await run.signedPost(wrongShape).0 == 400)
        // A valid one afterwards proves the follower would have seen the others.
        #expect(try await run.signedPost(Self.statusBody([("wamid.OK", "delivered", "marker")])).0 == 200)
        try await follower.wait(timeout: .seconds(30)) { !$0.isEmpty }
        #expect(follower.records.value.map(\.key) == ["marker"])
        #expect(run.receiver.counters.badSignature == 3 && run.receiver.counters.malformed == 2)
        await follower.close()
        await run.stop()
    }

    @Test func incomingMessagesGoToTheInboundTopicKeyedByDevice() async throws {
        let run = try await Self.start()
        let follower = try run.harness.follow(run.harness.topics.inbound)
        let optOuts = try run.harness.follow(run.harness.topics.optOuts)
        let body = Self.inboundBody(text: "Stop!", wamid: "wamid.IN1")
        #expect(try await run.signedPost(body).0 == 200)
        #expect(try await run.signedPost(body).0 == 200)
        #expect(try await run.signedPost(Self.inboundBody(text: "hello", wamid: "wamid.IN2")).0 == 200)
        try await follower.wait(timeout: .seconds(30)) { $0.count >= 2 }
        let records = follower.records.value
        #expect(records.count == 2)
        let messages = try records.map { try InboundMessage.decodeValidated(from: $0.value) }
        #expect(records.allSatisfy { $0.key == "device-7" })
        let stop = try #require(messages.first { $0.providerMessageId == "wamid.IN1" })
        #expect(stop.text == "Stop!" && stop.phone == "+60123456778" && stop.deviceId == "device-7")
        // The keyword put the phone on the opt-out topic, once, and "hello" did not.
        try await optOuts.wait(timeout: .seconds(30)) { !$0.isEmpty }
        #expect(optOuts.records.value.map(\.key) == ["+60123456778"])
        #expect(run.receiver.counters.optOuts == 1)
        await optOuts.close()
        #expect(stop.type == "text" && stop.contextMessageId == "wamid.ours" && stop.provider == "whatsapp-cloud")
        #expect(stop.at == Date(timeIntervalSince1970: 1_764_669_700))
        await follower.close()
        await run.stop()
    }

    @Test func evolutionGatewayReceiptsAndMessagesTakeTheSamePath() async throws {
        let run = try await Self.start()
        let status = try run.harness.follow(run.harness.topics.status)
        let inbound = try run.harness.follow(run.harness.topics.inbound)
        let update = Array("""
        {"event":"messages.update","instance":"shop-1","data":{"keyId":"3EB0GATEWAY1","remoteJid":"60123456778@s.whatsapp.net","fromMe":true,"status":"READ"}}
        """.utf8)
        let upsert = Array("""
        {"event":"messages.upsert","instance":"shop-1","data":{"key":{"remoteJid":"60123456778@s.whatsapp.net","fromMe":false,"id":"3EB0REPLY"},"pushName":"Aisyah","message":{"conversation":"berhenti"},"messageType":"conversation","messageTimestamp":1764669800}}
        """.utf8)
        #expect(try await run.post(WebhookReceiver.gatewayPath, update, headers: [("X-Webhook-Token", "wrong")]).0 == 401)
        #expect(try await run.post(WebhookReceiver.gatewayPath, update, headers: [("X-Webhook-Token", Self.gatewayToken)]).0 == 200)
        #expect(try await run.post(WebhookReceiver.gatewayPath + "?token=\(Self.gatewayToken)", upsert, headers: []).0 == 200)
        try await status.wait(timeout: .seconds(30)) { !$0.isEmpty }
        try await inbound.wait(timeout: .seconds(30)) { !$0.isEmpty }
        let read = try #require(status.statusEvents.first)
        #expect(read.status == .read && read.messageId == "cmp-1:+60123456778" && read.deviceId == "device-9")
        let reply = try InboundMessage.decodeValidated(from: try #require(inbound.records.value.first).value)
        #expect(reply.text == "berhenti" && reply.deviceId == "device-9" && reply.provider == "gateway" && reply.phone == "+60123456778")
        await status.close()
        await inbound.close()
        await run.stop()
    }

    @Test func aKafkaOutageFailsThePostAndTheRetryLandsOnce() async throws {
        let run = try await Self.start(deliveryTimeoutMilliseconds: 3_000)
        let follower = try run.harness.follow(run.harness.topics.status)
        // Warm up: metadata known, connections open.
        #expect(try await run.signedPost(Self.statusBody([("wamid.W", "delivered", "warmup")])).0 == 200)
        try await follower.wait(timeout: .seconds(30)) { !$0.isEmpty }
        for broker in Int32(1)...3 { try run.harness.cluster.setBrokerDown(broker) }
        let body = Self.statusBody([("wamid.O", "delivered", "cmp-outage:+60123456778")])
        let during = try await run.signedPost(body)
        #expect(during.0 == 503, "answered \(during.0) while Kafka was down")
        #expect(run.receiver.counters.publishFailures == 1)
        for broker in Int32(1)...3 { try run.harness.cluster.setBrokerUp(broker) }
        // Meta retries until it gets a 200.
        var answer = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while answer != 200, ContinuousClock.now < deadline {
            answer = try await run.signedPost(body).0
            if answer != 200 { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(answer == 200)
        #expect(try await run.signedPost(body).0 == 200)  // one more redelivery after success
        #expect(try await run.signedPost(Self.statusBody([("wamid.M", "delivered", "marker")])).0 == 200)
        // Both awaited: they are on different partitions, and after the outage the follower may read
        // the marker's partition again before the receipt's.
        try await follower.wait(timeout: .seconds(30)) { records in
            records.contains { $0.key == "marker" } && records.contains { $0.key == "cmp-outage:+60123456778" }
        }
        let landed = follower.statusEvents.filter { $0.messageId == "cmp-outage:+60123456778" }
        #expect(landed.count == 1, "the receipt landed \(landed.count) times")
        await follower.close()
        await run.stop()
    }
}

@Suite struct WebhookPartsTests {
    @Test func signatureParsingAndCheck() {
        let signature = WebhookSignature(appSecret: "s3cret")
        let body = Array("{\"a\":1}".utf8)
        let header = signature.header(for: body)
        #expect(header == WebhookReceiverTests.metaSignature(body, secret: "s3cret"))
        #expect(signature.isValid(header: header, body: body))
        #expect(signature.isValid(header: header.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), body: body))
        #expect(!signature.isValid(header: nil, body: body))
        #expect(!signature.isValid(header: "sha256=abc", body: body))
        #expect(!signature.isValid(header: "sha1=" + header.dropFirst(7), body: body))
        #expect(!signature.isValid(header: header, body: body + [0x20]))
    }

    @Test func recentIDsForgetTheOldestBeyondTheBound() {
        var recent = RecentIDs(capacity: 3)
        let first = [recent.insert("a"), recent.insert("b"), recent.insert("c")]
        #expect(first == [true, true, true])
        let again = recent.insert("a")
        #expect(!again)
        let fourth = recent.insert("d")  // evicts a
        #expect(fourth)
        #expect(!recent.contains("a") && recent.contains("b") && recent.contains("d") && recent.count == 3)
    }

    @Test func sentIndexKeepsTheNewestSends() {
        let index = SentMessageIndex(capacity: 2)
        index.record(providerMessageId: "w1", messageId: "m1")
        index.record(providerMessageId: "w2", messageId: "m2")
        index.record(providerMessageId: "w2", messageId: "m2")  // a replayed sent event changes nothing
        index.record(providerMessageId: "w3", messageId: "m3")  // forgets w1
        #expect(index.messageId(forProviderMessageId: "w1") == nil)
        #expect(index.messageId(forProviderMessageId: "w2") == "m2" && index.messageId(forProviderMessageId: "w3") == "m3")
        #expect(index.count == 2)
    }

    @Test func optOutKeywordsMatchWholeMessagesOnly() {
        let keywords = OptOutKeywords()
        for text in ["STOP", "stop", " Stop! ", "Berhenti.", "batal", "PARAR", "stop  all", "unsubscribe"] {
            #expect(keywords.matches(text), "\(text)")
        }
        for text in ["don't stop", "stopping", "hello", "", "STOP " + String(repeating: "x", count: 50)] {
            #expect(!keywords.matches(text), "\(text)")
        }
        #expect(OptOutKeywords(["KELUAR"]).matches("keluar") && !OptOutKeywords(["KELUAR"]).matches("stop"))
    }

    @Test func eventIdentityIgnoresEverythingButMessageAndStatus() {
        let a = WebhookEvent.status(StatusEvent(messageId: "m", userId: "", deviceId: "d", recipientPhone: "+60123456778", status: .read, at: Date(timeIntervalSince1970: 1)))
        let b = WebhookEvent.status(StatusEvent(messageId: "m", userId: "", deviceId: "x", recipientPhone: "", status: .read, at: Date(timeIntervalSince1970: 2)))
        let c = WebhookEvent.status(StatusEvent(messageId: "m", userId: "", deviceId: "d", recipientPhone: "", status: .delivered, at: Date(timeIntervalSince1970: 1)))
        #expect(a.identity == b.identity && a.identity != c.identity)
    }
}
