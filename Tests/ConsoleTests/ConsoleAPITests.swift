import BroadcastModel
import BroadcastTesting
@testable import Console
import Foundation
import Kafka
import Operations
import Testing

@Suite(.serialized) struct ConsoleAPITests {
    @Test func noTokenGets401AndRolesAndUsersAreEnforced() async throws {
        let harness = try await ConsoleHarness()
        let events = life("a-1", user: "user-a", campaign: "cmp-a", device: "dev-1", final: .sent, at: 0)
            + life("b-1", user: "user-b", campaign: "cmp-b", device: "dev-2", final: .sent, at: 1)
        try await harness.publish(events)
        let seen = try await eventually {
            let list = try await harness.get("/api/v1/campaigns", token: TestTokens.viewer)
            return (try list.json()["campaigns"] as? [Any])?.count == 2
        }
        #expect(seen, "the console never showed both campaigns")

        // No token, a wrong token, a malformed header: 401 on data and actions alike.
        for path in ["/api/v1/campaigns", "/api/v1/campaigns/cmp-a", "/ui/campaigns", "/ui/campaigns/cmp-a", "/api/v1/devices", "/api/v1/dead-letters"] {
            let none = try await harness.get(path, token: nil)
            #expect(none.status == 401, "\(path)")
            #expect(none.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try await harness.get(path, token: "not-a-configured-token-at-all").status == 401, "\(path)")
            #expect(try await harness.get(path, token: String(TestTokens.viewer.dropLast())).status == 401, "prefix of a token, \(path)")
        }
        #expect(try await harness.post("/api/v1/campaigns/cmp-a/pause", token: nil).status == 401)
        #expect(try await harness.post("/api/v1/messages", token: nil, raw: Array("[]".utf8)).status == 401)
        // The page shell and assets hold no data and need no token.
        let shell = try await harness.get("/campaigns/cmp-a", token: nil)
        #expect(shell.status == 200)
        #expect(shell.text.contains("/ui/campaigns/cmp-a"))
        #expect(!shell.text.contains("user-a"))
        #expect(shell.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        #expect(shell.header("Set-Cookie") == nil)

        // A viewer reads but cannot pause; nothing reaches the control topic.
        let control = try harness.cluster.follow(harness.cluster.topics.control)
        let refused = try await harness.post("/api/v1/campaigns/cmp-a/pause", token: TestTokens.viewer)
        #expect(refused.status == 403)
        #expect(refused.text.contains("operator"))
        #expect(try await harness.post("/api/v1/messages", token: TestTokens.viewer, raw: Array("{}".utf8)).status == 403)

        // A token bound to user-a sees only user-a's campaign and cannot touch user-b's.
        let scopedList = try await harness.get("/api/v1/campaigns", token: TestTokens.userAOperator)
        let ids = (try scopedList.json()["campaigns"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids == ["cmp-a"])
        #expect(try await harness.get("/api/v1/campaigns/cmp-b", token: TestTokens.userAOperator).status == 404)
        #expect(try await harness.get("/ui/campaigns/cmp-b", token: TestTokens.userAOperator).status == 404)
        #expect(try await harness.get("/api/v1/campaigns/cmp-b/report.csv", token: TestTokens.userAOperator).status == 404)
        #expect(try await harness.post("/api/v1/campaigns/cmp-b/pause", token: TestTokens.userAOperator).status == 404)
        let devices = try await harness.get("/api/v1/devices", token: TestTokens.userAOperator)
        #expect((try devices.json()["devices"] as? [[String: Any]] ?? []).compactMap { $0["deviceId"] as? String } == ["dev-1"])
        let bList = try await harness.get("/api/v1/campaigns", token: TestTokens.userBViewer)
        #expect((try bList.json()["campaigns"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == ["cmp-b"])

        // The owner's operator token pauses its own campaign: the record is on the topic and the API shows it.
        let paused = try await harness.post("/api/v1/campaigns/cmp-a/pause", token: TestTokens.userAOperator)
        #expect(paused.status == 200, "\(paused.text)")
        try await control.wait(timeout: .seconds(20)) { $0.count >= 1 }
        let records = control.records.value
        #expect(records.count == 1, "only the allowed pause reached the control topic")
        let record = try CampaignControlRecord.decode(try #require(records.first).value)
        #expect(record.campaignId == "cmp-a")
        #expect(record.action == .pause)
        #expect(record.by == "console:a-ops")
        let shown = try await eventually {
            let detail = try await harness.get("/api/v1/campaigns/cmp-a", token: TestTokens.viewer)
            return ((try detail.json()["summary"] as? [String: Any])?["control"] as? [String: Any])?["action"] as? String == "pause"
        }
        #expect(shown, "the projection never showed the pause")
        let fragment = try await harness.get("/ui/campaigns/cmp-a", token: TestTokens.viewer)
        #expect(fragment.text.contains("data-state=\"paused\""))
        #expect(!fragment.text.contains("data-action=\"pause\""), "a viewer gets no control buttons")

        await control.close()
        await harness.close()
    }

    @Test func viewsMatchTheStatusTopic() async throws {
        let harness = try await ConsoleHarness()
        var events: [StatusEvent] = []
        let finals: [MessageStatus?] = [.sent, .sent, .failed, .skipped, nil, .expired, .deadLettered, .processing]
        for index in 0..<120 {
            events += life(
                "m-\(index)", user: index % 3 == 0 ? "user-b" : "user-a", campaign: index % 4 == 3 ? nil : "cmp-\(index % 3)",
                device: "dev-\(index % 5)", final: finals[index % finals.count], at: Double(index),
                sequence: index % 4 == 3 ? ("seq-1", "step-\(index % 2)") : nil)
        }
        // Duplicates and out-of-order delivery change nothing: the latest status per message counts.
        events += events.filter { $0.status == .sent }
        events.reverse()
        try await harness.publish(events)

        var reference = StatusBoard()
        for event in events { reference.apply(event) }
        let snapshot = reference.snapshot(now: Date())
        let expected = Dictionary(snapshot.scopes.filter { $0.kind == "campaign" }.map { ($0.id, $0.counts) }, uniquingKeysWith: { $1 })
        #expect(expected.count == 3)

        func apiCounts() async throws -> [String: [String: Int]] {
            let list = try await harness.get("/api/v1/campaigns", token: TestTokens.viewer)
            var result: [String: [String: Int]] = [:]
            for campaign in try list.json()["campaigns"] as? [[String: Any]] ?? [] {
                if let id = campaign["id"] as? String { result[id] = counts(campaign["counts"]) }
            }
            return result
        }
        func encoded(_ counts: StatusCounts) throws -> [String: Int] {
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(counts)) as? [String: Int] ?? [:]
        }
        let expectedJSON = try expected.mapValues(encoded)
        let matched = try await eventually { try await apiCounts() == expectedJSON }
        let shown = try await apiCounts()
        #expect(matched, "API counts \(shown) never matched the board's \(expectedJSON)")

        // One campaign in detail: per-device counts equal the board filtered to that campaign.
        var campaignBoard = StatusBoard(filter: .init(campaignId: "cmp-1"))
        for event in events { campaignBoard.apply(event) }
        let detail = try await harness.get("/api/v1/campaigns/cmp-1", token: TestTokens.viewer).json()
        let devices = Dictionary(
            (detail["devices"] as? [[String: Any]] ?? []).map { ($0["key"] as? String ?? "", counts($0["counts"])) }, uniquingKeysWith: { $1 })
        let expectedDevices = try Dictionary(campaignBoard.snapshot(now: Date()).devices.map { ($0.id, try encoded($0.counts)) }, uniquingKeysWith: { $1 })
        #expect(devices == expectedDevices)
        let sends = detail["sends"] as? [String: Any]
        let sentInChart = (sends?["points"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["sent"] as? Int ?? 0) }
        #expect(sentInChart == campaignBoard.snapshot(now: Date()).total.counts.sent)

        // The sequence view by step, and the page fragment shows the same numbers as the JSON.
        let sequence = try await harness.get("/api/v1/sequences/seq-1", token: TestTokens.viewer).json()
        let steps = (sequence["steps"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        #expect(steps == ["step-1"])  // index % 4 == 3 is always odd
        let html = try await harness.get("/ui/campaigns/cmp-1", token: TestTokens.viewer).text
        for (status, count) in expectedJSON["cmp-1"] ?? [:] where status != "pending" && !status.hasSuffix("Rate") {
            #expect(html.contains("data-count=\"\(status)\">\(count)<"), "\(status) \(count)")
        }

        // The per-recipient report: one row per message, phones masked for an operator, whole for an admin.
        let csv = try await harness.get("/api/v1/campaigns/cmp-1/report.csv", token: TestTokens.operator)
        #expect(csv.status == 200)
        #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        let lines = csv.text.split(separator: "\n")
        #expect(lines.count == 1 + (expected["cmp-1"]?.total ?? -1))
        #expect(!csv.text.contains("+60123456"), "phones are masked below admin")
        let full = try await harness.get("/api/v1/campaigns/cmp-1/report.csv", token: TestTokens.admin)
        #expect(full.text.contains("+60123456"))
        await harness.close()
    }

    @Test func enqueuePublishesValidRecordsKeyedByDeviceAndRefusesInvalidOnesFieldByField() async throws {
        let harness = try await ConsoleHarness()
        let messages = try harness.cluster.follow(harness.cluster.topics.messages)
        let now = Timestamp.format(Date())
        func record(_ id: String, user: String = "user-a", device: String = "dev-7", phone: String = "+60123456789", min: Int = 1, max: Int = 3) -> [String: Any] {
            [
                "schema": "broadcast.message.v1", "id": id, "userId": user, "deviceId": device, "source": "api",
                "recipient": ["phone": phone, "name": "Aisyah"], "content": ["type": "text", "text": "Hello {name}"],
                "delay": ["minSeconds": min, "maxSeconds": max], "scheduledAt": now, "createdAt": now,
            ]
        }
        var missingContent = record("api-3")
        missingContent["content"] = nil
        let batch: [Any] = [
            record("api-1"),
            record("api-2", phone: "0123", min: 9, max: 2),
            missingContent,
            record("api-4", user: "user-b"),
            "not an object",
        ]
        let answer = try await harness.post("/api/v1/messages", token: TestTokens.userAOperator, json: batch)
        #expect(answer.status == 200, "\(answer.text)")
        let body = try answer.json()
        #expect(body["accepted"] as? Int == 1)
        #expect(body["refused"] as? Int == 4)
        let results = body["results"] as? [[String: Any]] ?? []
        #expect(results.count == 5)
        func fields(_ index: Int) -> [String] {
            (results[index]["issues"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        }
        #expect(results[0]["outcome"] as? String == "accepted")
        #expect(results[0]["partition"] is Int)
        #expect(results[1]["outcome"] as? String == "refused")
        #expect(Set(fields(1)) == ["recipient.phone", "delay"])
        #expect(fields(2) == ["content"])
        #expect(fields(3) == ["userId"], "a token bound to user-a cannot enqueue for user-b")
        #expect(results[4]["outcome"] as? String == "refused")
        let phoneReason = (results[1]["issues"] as? [[String: Any]] ?? []).first { $0["field"] as? String == "recipient.phone" }?["reason"] as? String
        #expect(phoneReason?.contains("E.164") == true)

        // Exactly the valid record reached the messages topic, keyed by its device, with the schema header.
        try await messages.wait(timeout: .seconds(20)) { !$0.isEmpty }
        let published = messages.records.value
        #expect(published.count == 1)
        let first = try #require(published.first)
        #expect(first.key == "dev-7")
        #expect(first.headers.contains { $0.name == RecordSchema.headerName && $0.value == Array(RecordSchema.message.utf8) })
        let decoded = try BroadcastMessage.decodeValidated(from: first.value)
        #expect(decoded.id == "api-1")
        #expect(decoded.recipient.phone == "+60123456789")
        // ...and its queued status shows in the console.
        let queued = try await eventually {
            let devices = try await harness.get("/api/v1/devices", token: TestTokens.userAOperator)
            return (try devices.json()["devices"] as? [[String: Any]] ?? []).contains { $0["deviceId"] as? String == "dev-7" }
        }
        #expect(queued)

        // All refused: 422. Not JSON: 400.
        let allBad = try await harness.post("/api/v1/messages", token: TestTokens.operator, json: record("x", phone: "nope"))
        #expect(allBad.status == 422)
        #expect(try await harness.post("/api/v1/messages", token: TestTokens.operator, raw: Array("{oops".utf8)).status == 400)
        await messages.close()
        await harness.close()
    }

    @Test func campaignUploadPublishesOrListsRowErrors() async throws {
        let harness = try await ConsoleHarness()
        let campaign = """
            id: upload-1
            userId: user-a
            name: Upload test
            message: { type: text, text: "Hi {name}" }
            recipients: list.csv
            devices: [dev-a, dev-b]
            delay: { min: 1, max: 2 }
            scheduledAt: 2026-12-01T09:00:00Z
            """
        let bad = try await harness.post("/api/v1/campaigns", token: TestTokens.operator, json: [
            "campaign": campaign, "recipients": "phone,name\n+60123456789,Ali\nnot-a-phone,Bo\n+60123456790,Chen,extra\n",
        ])
        #expect(bad.status == 422, "\(bad.text)")
        let rows = try bad.json()["rowIssues"] as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["line"] as? Int } == [3, 4])

        let path = try await harness.post("/api/v1/campaigns", token: TestTokens.operator, json: [
            "campaign": campaign.replacingOccurrences(of: "list.csv", with: "../../etc/hosts"), "recipients": "phone\n+60123456789\n",
        ])
        #expect(path.status == 422)
        #expect((try path.json()["fieldIssues"] as? [[String: Any]])?.first?["field"] as? String == "recipients")

        let fieldErrors = try await harness.post("/api/v1/campaigns", token: TestTokens.operator, json: [
            "campaign": campaign.replacingOccurrences(of: "max: 2", with: "max: 0"), "recipients": "phone\n+60123456789\n",
        ])
        #expect(fieldErrors.status == 422)
        #expect((try fieldErrors.json()["fieldIssues"] as? [[String: Any]])?.compactMap { $0["field"] as? String } == ["delay.max"])

        #expect(try await harness.post("/api/v1/campaigns", token: TestTokens.userBViewer, json: ["campaign": campaign, "recipients": ""]).status == 403)
        let otherUser = try await harness.post("/api/v1/campaigns", token: TestTokens.userAOperator, json: [
            "campaign": campaign.replacingOccurrences(of: "userId: user-a", with: "userId: user-b"), "recipients": "phone\n+60123456789\n",
        ])
        #expect(otherUser.status == 403)

        let good = try await harness.post("/api/v1/campaigns", token: TestTokens.userAOperator, json: [
            "campaign": campaign, "recipients": "phone,name\n+60123456789,Ali\n+60123456790,Bo\n+60123456791,Chen\n",
        ])
        #expect(good.status == 200, "\(good.text)")
        #expect(try good.json()["outcome"] as? String == "published")
        let listed = try await eventually {
            let detail = try await harness.get("/api/v1/campaigns/upload-1", token: TestTokens.userAOperator)
            guard detail.status == 200 else { return false }
            return counts(try detail.json()["summary"].flatMap { $0 as? [String: Any] }?["counts"])["queued"] == 3
        }
        #expect(listed, "the uploaded campaign's queued statuses never showed")
        await harness.close()
    }

    @Test func deadLettersAreListedWithReasonsAndReplayedOnce() async throws {
        let harness = try await ConsoleHarness()
        let topics = harness.cluster.topics
        let message = BroadcastMessage(
            id: "dlq-1", userId: "user-a", deviceId: "dev-9", source: .api, recipient: .init(phone: "+60123456789"),
            content: .init(type: .text, text: "hi"), delay: .init(minSeconds: 0, maxSeconds: 1), scheduledAt: Date(), createdAt: Date())
        let letter = DeadLetter(reason: .keyMismatch, error: "key 'x' is not the deviceId", sourceTopic: topics.messages, sourcePartition: 0, sourceOffset: 5, worker: "w1", at: Date())
        _ = try await harness.cluster.producer.send(ProducerRecord(
            topic: topics.deadLetters, key: Array("x".utf8), value: message.encoded(),
            headers: letter.headers().map(KafkaHeader.init) + [KafkaHeader(RecordSchema.messageHeader)]))
        _ = try await harness.cluster.producer.send(ProducerRecord(topic: topics.deadLetters, key: Array("y".utf8), value: Array("junk".utf8)))

        var listed: [[String: Any]] = []
        let arrived = try await eventually {
            listed = try await harness.get("/api/v1/dead-letters", token: TestTokens.operator).json()["deadLetters"] as? [[String: Any]] ?? []
            return listed.count == 2
        }
        #expect(arrived, "dead letters never listed: \(listed)")
        let readable = try #require(listed.first { $0["reason"] as? String == "key_mismatch" })
        #expect(readable["userId"] as? String == "user-a")
        #expect(readable["recipientPhone"] as? String != "+60123456789", "masked for an operator")
        #expect(listed.contains { $0["reason"] as? String == DeadLetterEntry.unreadable })
        // user-b's viewer sees neither (one is user-a's, the other has no owner).
        let scoped = try await harness.get("/api/v1/dead-letters", token: TestTokens.userBViewer).json()["deadLetters"] as? [Any]
        #expect(scoped?.isEmpty == true)

        let messages = try harness.cluster.follow(topics.messages)
        let partition = try #require(readable["partition"] as? Int), offset = try #require(readable["offset"] as? Int)
        let replayPath = "/api/v1/dead-letters/\(partition)/\(offset)/replay"
        #expect(try await harness.post(replayPath, token: TestTokens.viewer).status == 403)
        let replayed = try await harness.post(replayPath, token: TestTokens.userAOperator)
        #expect(replayed.status == 200, "\(replayed.text)")
        #expect(try await harness.post(replayPath, token: TestTokens.operator).status == 409, "replayed once only")
        try await messages.wait(timeout: .seconds(20)) { !$0.isEmpty }
        let record = try #require(messages.records.value.first)
        #expect(record.value == message.encoded())
        #expect(record.headers.contains { $0.name == DeadLetterTools.replayedFromHeader })
        let page = try await harness.get("/ui/dead-letters", token: TestTokens.operator).text
        #expect(page.contains("key_mismatch"))
        #expect(page.contains("replayed"))
        await messages.close()
        await harness.close()
    }

    @Test func devicesShowTheirSafetyStateFromTheDevicesTopic() async throws {
        let harness = try await ConsoleHarness()
        try await harness.publish(
            life("m-1", user: "user-a", campaign: "cmp-a", device: "dev-held", final: .sent, at: 0)
                + life("m-2", user: "user-a", campaign: "cmp-a", device: "dev-retired", final: nil, at: 1)
                + life("m-3", user: "user-a", campaign: "cmp-a", device: "dev-bad", final: nil, at: 2))
        let now = Date()
        let minute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        var held = DeviceStateRecord(
            deviceId: "dev-held", updatedAt: now, writer: "w", sendMinutes: [.init(minute: minute - 1, count: 3)], lastSendAt: now)
        held.operatorDecision = .init(status: .paused, at: now, by: "alice")
        var retired = DeviceStateRecord(deviceId: "dev-retired", updatedAt: now, writer: "ops")
        retired.operatorDecision = .init(status: .retired, at: now, by: "bob")
        let header = [KafkaHeader(name: RecordSchema.headerName, value: Array(RecordSchema.device.utf8))]
        let records = [
            ProducerRecord(topic: harness.cluster.topics.devices, key: Array("dev-held".utf8), value: held.encoded(), headers: header),
            ProducerRecord(topic: harness.cluster.topics.devices, key: Array("dev-retired".utf8), value: retired.encoded(), headers: header),
            ProducerRecord(topic: harness.cluster.topics.devices, key: Array("dev-bad".utf8), value: Array("{not json".utf8)),
        ]
        // A contact wrote to dev-held, and the webhook came twice (same id): one inbound message.
        let reply = InboundMessage(
            id: "whatsapp-cloud:wamid.reply-1", deviceId: "dev-held", phone: "+60123456001", type: "text", text: "thanks",
            provider: "whatsapp-cloud", providerMessageId: "wamid.reply-1", at: now, receivedAt: now)
        let inbound = ProducerRecord(topic: harness.cluster.topics.inbound, key: Array("dev-held".utf8), value: reply.encoded(), headers: [KafkaHeader(RecordSchema.inboundHeader)])
        for result in try await harness.cluster.producer.send(records + [inbound, inbound]) { _ = try result.get() }

        var byDevice: [String: [String: Any]] = [:]
        let shown = try await eventually {
            let answer = try await harness.get("/api/v1/devices", token: TestTokens.viewer)
            let devices = try answer.json()["devices"] as? [[String: Any]] ?? []
            byDevice = Dictionary(devices.compactMap { d in (d["deviceId"] as? String).map { ($0, d) } }, uniquingKeysWith: { $1 })
            return byDevice["dev-held"]?["operatorStatus"] != nil && byDevice["dev-retired"]?["operatorStatus"] != nil
                && byDevice["dev-bad"]?["stateUnreadable"] != nil && byDevice["dev-held"]?["inboundMessages"] as? Int == 1
        }
        #expect(shown, "devices as shown: \(byDevice)")
        #expect(byDevice["dev-held"]?["state"] as? String == "paused")
        #expect(byDevice["dev-held"]?["operatorStatus"] as? String == "paused")
        #expect(byDevice["dev-held"]?["sendsInLastHour"] as? Int == 3)
        #expect((byDevice["dev-held"]?["stateReason"] as? String)?.contains("alice") == true)
        #expect(byDevice["dev-retired"]?["state"] as? String == "retired")
        #expect(byDevice["dev-bad"]?["operatorStatus"] == nil)
        #expect(byDevice["dev-retired"]?["inboundMessages"] as? Int == 0)
        let page = try await harness.get("/ui/devices", token: TestTokens.viewer)
        #expect(page.status == 200)
        #expect(page.text.contains("retired: 1"))
        #expect(page.text.contains("state unreadable"))
        await harness.close()
    }

    @Test func openAPIDocumentServedIsTheOneInTheRepository() async throws {
        let harness = try await ConsoleHarness()
        let served = try await harness.get("/api/v1/openapi.yaml", token: nil)
        #expect(served.status == 200)
        let file = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        #expect(served.text == file, "docs/openapi.yaml and OpenAPIDocument.swift differ: copy one to the other")
        // Every route the console answers under /api/v1 is in the document.
        for path in [
            "/api/v1/campaigns:", "/api/v1/campaigns/{id}:", "/api/v1/campaigns/{id}/pause:", "/api/v1/campaigns/{id}/report.csv:",
            "/api/v1/messages:", "/api/v1/devices:", "/api/v1/dead-letters:", "/api/v1/dead-letters/{partition}/{offset}/replay:",
        ] {
            #expect(file.contains("  \(path)"), "\(path)")
        }
        await harness.close()
    }
}

@Suite struct ConsoleTokenTests {
    @Test func tokensAreComparedWholeAndParsedWithClearErrors() throws {
        let tokens = try TestTokens.all()
        #expect(tokens.principal(authorization: "Bearer \(TestTokens.viewer)")?.role == .viewer)
        #expect(tokens.principal(authorization: "bearer \(TestTokens.userAOperator)")?.userId == "user-a")
        #expect(tokens.principal(authorization: "Bearer \(TestTokens.viewer)x") == nil)
        #expect(tokens.principal(authorization: "Basic \(TestTokens.viewer)") == nil)
        #expect(tokens.principal(authorization: "Bearer ") == nil)
        #expect(tokens.principal(authorization: nil) == nil)
        #expect(ConsoleTokens.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConsoleTokens.constantTimeEquals(Array("abc".utf8), Array("abcabc".utf8)))

        let file = """
            tokens:
              - { name: ops, role: operator, token: "0123456789abcdefXYZ" }
              - { role: viewer, userId: user-42, token: "fedcba9876543210XYZ" }
            """
        let parsed = try ConsoleTokens(ConsoleTokens.parse(file: file, path: "tokens.yaml"))
        #expect(parsed.tokens.map(\.principal) == [
            ConsolePrincipal(name: "ops", role: .operator), ConsolePrincipal(name: "viewer-2", role: .viewer, userId: "user-42"),
        ])
        let env = try ConsoleTokens.parse(environment: "operator:0123456789abcdefXYZ, viewer@user-1:fedcba9876543210XYZ")
        #expect(env.map(\.principal.userId) == [nil, "user-1"])
        #expect(throws: ConsoleTokenError.self) { try ConsoleTokens([ConsoleToken(name: "short", role: .viewer, token: "abc")]) }
        #expect(throws: ConsoleTokenError.self) { try ConsoleTokens.parse(environment: "boss:0123456789abcdefXYZ") }
        do {
            _ = try ConsoleTokens.parse(file: "tokens:\n  - { role: viewer, token: \"0123456789abcdefXYZ\", colour: red }\n", path: "t.yaml")
            Issue.record("an unknown field was accepted")
        } catch {
            #expect(error.description.contains("colour"))
            #expect(!error.description.contains("0123456789abcdefXYZ"), "errors never echo a token")
        }
    }
}
