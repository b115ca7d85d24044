import BroadcastModel
import Foundation
import HTTPTypes
import Hummingbird
import Kafka
import Logging
import NIOCore
import Operations

/// An answer that is not a success, with the status and a message a person can act on.
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String
    var field: String?

    static func unauthorized() -> APIError {
        APIError(status: .unauthorized, message: "a bearer token is required: send `Authorization: Bearer <token>`")
    }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, message: message) }
    static func badRequest(_ message: String, field: String? = nil) -> APIError { APIError(status: .badRequest, message: message, field: field) }
}

/// Every route of the console. Data routes (`/api/v1/…` and the `/ui/…` fragments the pages load)
/// need a bearer token; page shells, scripts, styles and the OpenAPI document hold no data and are
/// served to anyone. Every state change is a POST with a bearer token: no cookies are ever set or
/// read, so another site cannot make a browser act on the console's behalf.
struct ConsoleHandlers: Sendable {
    let store: StatusProjectionStore
    let follower: ProjectionFollower
    let producer: KafkaProducer
    let tokens: ConsoleTokens
    let client: KafkaClientOptions
    let topics: TopicNames
    let cache: ViewCache
    let refreshMilliseconds: Int
    let logger: Logger

    static let maxMessagesBody = 8 * 1024 * 1024
    static let maxCampaignBody = 64 * 1024 * 1024

    func register(on router: Router<BasicRequestContext>) {
        // Public: no data.
        router.get("/healthz") { _, _ in
            Self.json(["status": "ok", "caughtUp": follower.isCaughtUp ? "true" : "false"])
        }
        router.get("/api/v1/openapi.yaml") { _, _ in
            Self.text(OpenAPIDocument.yaml, contentType: "application/yaml; charset=utf-8")
        }
        router.get("/assets/console.js") { _, _ in Self.text(ConsoleAssets.script, contentType: "text/javascript; charset=utf-8") }
        router.get("/assets/console.css") { _, _ in Self.text(ConsoleAssets.styles, contentType: "text/css; charset=utf-8") }
        router.get("/") { _, _ in page(.campaigns) }
        router.get("/campaigns/:id") { _, context in page(.campaign(try context.parameters.require("id"))) }
        router.get("/sequences/:id") { _, context in page(.sequence(try context.parameters.require("id"))) }
        router.get("/devices") { _, _ in page(.devices) }
        router.get("/dead-letters") { _, _ in page(.deadLetters) }

        // Reads.
        route(router, .get, "/api/v1/me", .viewer) { _, _, who in
            Self.json(["name": who.name, "role": who.role.rawValue, "userId": who.userId ?? ""])
        }
        route(router, .get, "/api/v1/campaigns", .viewer) { _, _, who in
            try await cachedJSON("campaigns", who) { try await ["campaigns": store.scopeSummaries(kind: .campaign, userId: who.userId)] }
        }
        route(router, .get, "/api/v1/sequences", .viewer) { _, _, who in
            try await cachedJSON("sequences", who) { try await ["sequences": store.scopeSummaries(kind: .sequence, userId: who.userId)] }
        }
        for kind in ScopeSummary.Kind.allCases {
            route(router, .get, "/api/v1/\(kind.rawValue)s/:id", .viewer) { _, context, who in
                let id = try context.parameters.require("id")
                return try await cachedJSON("\(kind.rawValue)/\(id)", who) { try await detail(kind, id, who) }
            }
            route(router, .get, "/api/v1/\(kind.rawValue)s/:id/report.csv", .viewer) { request, context, who in
                try await report(kind, try context.parameters.require("id"), request, who)
            }
        }
        route(router, .get, "/api/v1/devices", .viewer) { _, _, who in
            try await cachedJSON("devices", who) { try await ["devices": store.deviceSummaries(userId: who.userId)] }
        }
        route(router, .get, "/api/v1/dead-letters", .viewer) { request, _, who in
            let reason = request.uri.queryParameters.get("reason")
            return try await cachedJSON("dlq/\(reason ?? "")", who) { try await deadLetters(who, reason: reason) }
        }

        // Fragments of server-rendered HTML the pages poll.
        route(router, .get, "/ui/campaigns", .viewer) { _, _, who in
            try await cachedHTML("ui/campaigns", who) {
                ConsolePages.campaignList(
                    try await store.scopeSummaries(kind: .campaign, userId: who.userId),
                    sequences: try await store.scopeSummaries(kind: .sequence, userId: who.userId), principal: who)
            }
        }
        for kind in ScopeSummary.Kind.allCases {
            route(router, .get, "/ui/\(kind.rawValue)s/:id", .viewer) { _, context, who in
                let id = try context.parameters.require("id")
                return try await cachedHTML("ui/\(kind.rawValue)/\(id)", who) {
                    ConsolePages.scope(try await detail(kind, id, who), principal: who)
                }
            }
        }
        route(router, .get, "/ui/devices", .viewer) { _, _, who in
            try await cachedHTML("ui/devices", who) { ConsolePages.devices(try await store.deviceSummaries(userId: who.userId)) }
        }
        route(router, .get, "/ui/dead-letters", .viewer) { _, _, who in
            try await cachedHTML("ui/dlq", who) { ConsolePages.deadLetters(try await deadLetters(who, reason: nil), principal: who) }
        }

        // Actions: POST with a bearer token, operator role.
        for action in CampaignAction.allCases {
            route(router, .post, "/api/v1/campaigns/:id/\(action.rawValue)", .operator) { _, context, who in
                try await control(action, campaignId: try context.parameters.require("id"), who)
            }
        }
        route(router, .post, "/api/v1/dead-letters/:partition/:offset/replay", .operator) { _, context, who in
            guard let partition = context.parameters.get("partition", as: Int32.self),
                  let offset = context.parameters.get("offset", as: Int64.self)
            else { throw APIError.badRequest("partition and offset must be numbers") }
            return try await replay(partition: partition, offset: offset, who)
        }
        route(router, .post, "/api/v1/dead-letters/replay", .operator) { request, _, who in
            try await replayAll(request, who)
        }
        route(router, .post, "/api/v1/messages", .operator) { request, _, who in
            var request = request
            let body = try await Self.body(&request, limit: Self.maxMessagesBody)
            let records: [Data]
            do { records = try MessageIntake.records(in: body) } catch let error as IntakeBodyError { throw APIError.badRequest(error.message) }
            let answer = await MessageIntake(producer: producer, topics: topics).submit(records, principal: who)
            logger.info("messages enqueued", metadata: [
                "token": "\(who.name)", "accepted": "\(answer.accepted)", "refused": "\(answer.refused)", "failed": "\(answer.failed)",
            ])
            let status: HTTPResponse.Status = answer.accepted == 0 && answer.refused > 0 ? .unprocessableContent
                : answer.failed > 0 ? .badGateway : .ok
            return Self.json(answer, status: status)
        }
        route(router, .post, "/api/v1/campaigns", .operator) { request, _, who in
            var request = request
            let body = try await Self.body(&request, limit: Self.maxCampaignBody)
            let upload: CampaignUploadRequest
            do {
                upload = try JSONDecoder().decode(CampaignUploadRequest.self, from: Data(body))
            } catch {
                throw APIError.badRequest("expected JSON {\"campaign\": \"<campaign file text>\", \"recipients\": \"<CSV text>\"}: \(error)")
            }
            let (status, answer) = await CampaignUpload(producer: producer, topics: topics, logger: logger).handle(upload, principal: who)
            logger.info("campaign upload", metadata: ["token": "\(who.name)", "campaign": "\(answer.campaignId ?? "-")", "outcome": "\(answer.outcome)"])
            return Self.json(answer, status: HTTPResponse.Status(code: status))
        }
    }

    // MARK: auth and plumbing

    /// Registers a handler behind the token check: 401 without a valid token, 403 below `role`.
    private func route(
        _ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: String, _ role: ConsoleRole,
        _ handler: @escaping @Sendable (Request, BasicRequestContext, ConsolePrincipal) async throws -> Response
    ) {
        let tokens = tokens
        let logger = logger
        router.on(RouterPath(path), method: method) { request, context -> Response in
            do {
                guard let who = tokens.principal(authorization: request.headers[.authorization]) else { throw APIError.unauthorized() }
                guard who.role >= role else {
                    throw APIError.forbidden("the \(who.role.rawValue) role cannot do this; it needs \(role.rawValue)")
                }
                return try await handler(request, context, who)
            } catch let error as APIError {
                return Self.error(error)
            } catch let error as OperationsError {
                logger.error("console request failed", metadata: ["path": "\(path)", "error": "\(error)"])
                return Self.error(APIError(status: .serviceUnavailable, message: error.description))
            } catch let error as HTTPError {
                return Self.error(APIError(status: error.status, message: error.body ?? "\(error.status)"))
            } catch {
                logger.error("console request failed", metadata: ["path": "\(path)", "error": "\(error)"])
                return Self.error(APIError(status: .internalServerError, message: "\(error)"))
            }
        }
    }

    private func cacheKey(_ view: String, _ who: ConsolePrincipal) -> String {
        "\(view)|\(who.userId ?? "*")|\(who.showsFullPhones)"
    }

    private func cachedJSON<T: Encodable & Sendable>(_ view: String, _ who: ConsolePrincipal, _ compute: @escaping @Sendable () async throws -> T)
        async throws -> Response
    {
        let bytes = try await cache.bytes(cacheKey(view, who)) { try Self.encode(try await compute()) }
        return Self.response(bytes, contentType: "application/json")
    }

    private func cachedHTML(_ view: String, _ who: ConsolePrincipal, _ compute: @escaping @Sendable () async throws -> String) async throws -> Response {
        let bytes = try await cache.bytes(cacheKey(view, who)) { Array(try await compute().utf8) }
        return Self.response(bytes, contentType: "text/html; charset=utf-8")
    }

    private func page(_ page: ConsolePages.Page) -> Response {
        Self.response(Array(ConsolePages.shell(page, refreshMilliseconds: refreshMilliseconds).utf8), contentType: "text/html; charset=utf-8")
    }

    // MARK: views

    private func detail(_ kind: ScopeSummary.Kind, _ id: String, _ who: ConsolePrincipal) async throws -> ScopeDetail {
        // A scoped token asking for another user's campaign gets the same answer as for a missing
        // one: it learns nothing about what others run.
        guard let detail = try await store.scopeDetail(kind: kind, id: id, userId: who.userId) else {
            throw APIError.notFound("no \(kind.rawValue) \(id) in the projection")
        }
        return detail
    }

    private func report(_ kind: ScopeSummary.Kind, _ id: String, _ request: Request, _ who: ConsolePrincipal) async throws -> Response {
        let sectionName = request.uri.queryParameters.get("section") ?? "recipients"
        guard let section = RecipientReport.Section(rawValue: sectionName) else {
            throw APIError.badRequest("section must be one of \(RecipientReport.Section.allCases.map(\.rawValue).joined(separator: ", "))", field: "section")
        }
        var messages = try await kind == .campaign ? store.messages(campaignId: id) : store.messages(sequenceId: id)
        if let userId = who.userId { messages.removeAll { $0.userId != userId } }
        guard !messages.isEmpty else { throw APIError.notFound("no \(kind.rawValue) \(id) in the projection") }
        let report = RecipientReport(kind: kind == .campaign ? .campaign : .sequence, id: id, messages: messages, fullPhone: who.showsFullPhones)
        var response = Self.response(Array(report.csv(section: section).utf8), contentType: "text/csv; charset=utf-8")
        response.headers[.contentDisposition] = "attachment; filename=\"\(Self.safeFileName(id))-\(section.rawValue).csv\""
        return response
    }

    struct DeadLetterView: Codable, Sendable {
        var deadLetters: [ProjectedDeadLetter]
        var byReason: [String: Int]
    }

    private func deadLetters(_ who: ConsolePrincipal, reason: String?) async throws -> DeadLetterView {
        var letters = try await store.deadLetters(userId: who.userId, reason: reason)
        if !who.showsFullPhones {
            for index in letters.indices { letters[index].recipientPhone = letters[index].recipientPhone.map(PhoneNumber.masked) }
        }
        return DeadLetterView(deadLetters: letters, byReason: Dictionary(letters.map { ($0.reason, 1) }, uniquingKeysWith: +))
    }

    // MARK: actions

    struct ControlAnswer: Codable, Sendable {
        var campaignId: String
        var action: CampaignAction
        var at: Date
        var by: String
        var partition: Int32
        var offset: Int64
    }

    private func control(_ action: CampaignAction, campaignId: String, _ who: ConsolePrincipal) async throws -> Response {
        if let userId = who.userId {
            // Scoped tokens act only on campaigns the projection shows as theirs.
            guard try await store.owners(kind: .campaign, id: campaignId) == [userId] else {
                throw APIError.notFound("no campaign \(campaignId) in the projection")
            }
        }
        let record = CampaignControlRecord(campaignId: campaignId, action: action, at: Date(), by: "console:\(who.name)")
        try await CampaignControlPublisher.ensureTopic(client: client, topics: topics, logger: logger)
        let report = try await CampaignControlPublisher.publish(record, producer: producer, topics: topics)
        logger.notice("campaign control", metadata: ["campaign": "\(campaignId)", "action": "\(action.rawValue)", "token": "\(who.name)"])
        return Self.json(ControlAnswer(
            campaignId: campaignId, action: action, at: record.at, by: record.by, partition: report.partition, offset: report.offset))
    }

    struct ReplayAnswer: Codable, Sendable {
        var partition: Int32
        var offset: Int64
        var replayedTo: String
        var messagePartition: Int32
        var messageOffset: Int64
    }

    private func replay(partition: Int32, offset: Int64, _ who: ConsolePrincipal) async throws -> Response {
        guard let stored = try await store.deadLetter(partition: partition, offset: offset), who.owns(stored.letter.userId) else {
            throw APIError.notFound("no dead letter at \(topics.deadLetters)[\(partition)]@\(offset)")
        }
        let (letter, value) = stored
        guard letter.isReplayable, let value else {
            throw APIError(status: .conflict, message: "this dead letter has no readable dlq headers or value; it cannot be replayed")
        }
        guard try await store.markReplayed(partition: partition, offset: offset, by: "console:\(who.name)", at: Date()) else {
            throw APIError(status: .conflict, message: "this dead letter was replayed already")
        }
        let record = ProducerRecord(
            topic: topics.messages, key: letter.key.map { Array($0.utf8) }, value: value,
            headers: [
                KafkaHeader(RecordSchema.messageHeader),
                KafkaHeader(name: DeadLetterTools.replayedFromHeader, string: "\(topics.deadLetters)/\(partition)/\(offset)"),
            ])
        do {
            let report = try await producer.send(record)
            logger.notice("dead letter replayed", metadata: ["partition": "\(partition)", "offset": "\(offset)", "token": "\(who.name)"])
            return Self.json(ReplayAnswer(
                partition: partition, offset: offset, replayedTo: report.topic, messagePartition: report.partition, messageOffset: report.offset))
        } catch {
            try? await store.unmarkReplayed(partition: partition, offset: offset)
            throw APIError(status: .badGateway, message: "Kafka did not take the replayed record: \(error)")
        }
    }

    /// Every dead letter (optionally of one reason) through `broadcast dlq replay`'s own group, so
    /// the CLI and the console never replay the same letter twice between them. Not for scoped
    /// tokens: the letters of other users would go too.
    private func replayAll(_ request: Request, _ who: ConsolePrincipal) async throws -> Response {
        guard who.userId == nil else {
            throw APIError.forbidden("a token bound to a user replays dead letters one by one (POST /api/v1/dead-letters/{partition}/{offset}/replay)")
        }
        var request = request
        let body = try await Self.body(&request, limit: 64 * 1024)
        var reason: String?
        if !body.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw APIError.badRequest("expected a JSON object such as {\"reason\": \"invalid\"} or an empty body")
            }
            reason = object["reason"] as? String
        }
        do {
            let summary = try await DeadLetterTools.replay(
                client: client, topics: topics, producer: producer, reason: reason, timeout: .seconds(60), logger: logger)
            logger.notice("dead letters replayed", metadata: ["count": "\(summary.replayed)", "token": "\(who.name)"])
            return Self.json(summary)
        } catch let error as OperationsError {
            if case .invalidArgument(let message) = error { throw APIError.badRequest(message, field: "reason") }
            throw error
        }
    }

    // MARK: encoding

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try JSONEncoder.sortedWithTimestamps().encode(value))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        do {
            return response(try encode(value), contentType: "application/json", status: status)
        } catch {
            return self.error(APIError(status: .internalServerError, message: "could not encode the answer: \(error)"))
        }
    }

    static func error(_ error: APIError) -> Response {
        var object: [String: String] = ["message": error.message]
        if let field = error.field { object["field"] = field }
        let bytes = (try? encode(["error": object])) ?? Array("{}".utf8)
        var response = response(bytes, contentType: "application/json", status: error.status)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"broadcast-console\"" }
        return response
    }

    static func text(_ text: String, contentType: String) -> Response {
        response(Array(text.utf8), contentType: contentType)
    }

    static func response(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        for (name, value) in [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")] {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func body(_ request: inout Request, limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError(status: .contentTooLarge, message: "the body is larger than \(limit / 1024 / 1024) MiB or could not be read")
        }
    }

    static func safeFileName(_ id: String) -> String {
        String(id.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) ? Character($0) : "_" })
    }
}
