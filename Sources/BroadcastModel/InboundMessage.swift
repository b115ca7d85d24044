import Foundation

/// A message a contact wrote to one of our devices: the `broadcast.inbound.v1` record on
/// `broadcast.inbound`, keyed by ``deviceId``. Written by `broadcast webhooks`; followed by the
/// sequence scheduler (a reply ends the contact's enrolments) and the opt-out keyword follower.
public struct InboundMessage: Equatable, Sendable {
    public static let schemaID = RecordSchema.inbound
    public var schema: String { Self.schemaID }

    /// Deterministic identity: `provider:providerMessageId`, so a redelivered webhook names the same record.
    public var id: String
    /// Our device that received the message.
    public var deviceId: String
    /// The contact, E.164.
    public var phone: String
    /// WhatsApp's message type: text, image, button, interactive, reaction, … (free string: new types need no schema change).
    public var type: String
    /// The text body, caption, or button / list reply title.
    public var text: String?
    /// Which provider reported it: `whatsapp-cloud` or `gateway`.
    public var provider: String
    /// The provider's id for the incoming message (the Cloud API's `wamid`).
    public var providerMessageId: String
    /// The provider id of our message the contact replied to or pressed a button on, if any.
    public var contextMessageId: String?
    /// When the contact sent it (provider clock).
    public var at: Date
    /// When the receiver took it in.
    public var receivedAt: Date

    public init(
        id: String, deviceId: String, phone: String, type: String, text: String? = nil, provider: String,
        providerMessageId: String, contextMessageId: String? = nil, at: Date, receivedAt: Date
    ) {
        self.id = id
        self.deviceId = deviceId
        self.phone = phone
        self.type = type
        self.text = text
        self.provider = provider
        self.providerMessageId = providerMessageId
        self.contextMessageId = contextMessageId
        self.at = at
        self.receivedAt = receivedAt
    }

    /// Incoming WhatsApp texts may be long; the record holds up to this many characters.
    public static let maxTextLength = 65_536

    public func validate() throws(ValidationError) {
        var c = IssueCollector()
        c.id(id, "id")
        c.id(deviceId, "deviceId")
        c.check(PhoneNumber.isE164(phone), "phone",
                "\"\(PhoneNumber.masked(phone))\" is not E.164: '+' then 7 to 15 digits, the first not 0")
        c.check(!type.isEmpty && type.utf8.count <= 32, "type", "must be 1 to 32 characters")
        c.maxLength(text, Self.maxTextLength, "text")
        c.id(provider, "provider")
        c.check(!providerMessageId.isEmpty, "providerMessageId", "must not be empty")
        c.maxLength(providerMessageId, 256, "providerMessageId")
        try c.finish()
    }

    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 256 + (text?.utf8.count ?? 0))
        w.field("schema", Self.schemaID)
        w.field("id", id)
        w.field("deviceId", deviceId)
        w.field("phone", phone)
        w.field("type", type)
        w.field("text", text)
        w.field("provider", provider)
        w.field("providerMessageId", providerMessageId)
        w.field("contextMessageId", contextMessageId)
        w.field("at", at)
        w.field("receivedAt", receivedAt)
        return w.finish()
    }

    public static func decode(from bytes: [UInt8]) throws(RecordError) -> InboundMessage {
        try RecordDecoding.decode(bytes, schema: schemaID, read)
    }

    public static func decode(from bytes: UnsafeRawBufferPointer) throws(RecordError) -> InboundMessage {
        try RecordDecoding.decode(bytes, schema: schemaID, read)
    }

    public static func decodeValidated(from bytes: [UInt8]) throws(RecordError) -> InboundMessage {
        let message = try decode(from: bytes)
        do throws(ValidationError) { try message.validate() } catch { throw .invalid(error) }
        return message
    }

    static func read(_ s: inout JSONScanner) throws(RecordError) -> InboundMessage {
        var schema, id, deviceId, phone, type, text, provider, providerMessageId, contextMessageId: String?
        var at, receivedAt: Date?
        try s.beginObject("")
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "schema": schema = try s.optionalString(key)
            case "id": id = try s.optionalString(key)
            case "deviceId": deviceId = try s.optionalString(key)
            case "phone": phone = try s.optionalString(key)
            case "type": type = try s.optionalString(key)
            case "text": text = try s.optionalString(key)
            case "provider": provider = try s.optionalString(key)
            case "providerMessageId": providerMessageId = try s.optionalString(key)
            case "contextMessageId": contextMessageId = try s.optionalString(key)
            case "at": at = try s.optionalDate(key)
            case "receivedAt": receivedAt = try s.optionalDate(key)
            default: try s.skipValue()
            }
        }
        guard schema == schemaID else { throw .unsupportedSchema(found: schema, expected: schemaID) }
        return try InboundMessage(
            id: RecordDecoding.required(id, "id"),
            deviceId: RecordDecoding.required(deviceId, "deviceId"),
            phone: RecordDecoding.required(phone, "phone"),
            type: RecordDecoding.required(type, "type"),
            text: text,
            provider: RecordDecoding.required(provider, "provider"),
            providerMessageId: RecordDecoding.required(providerMessageId, "providerMessageId"),
            contextMessageId: contextMessageId,
            at: RecordDecoding.required(at, "at"),
            receivedAt: RecordDecoding.required(receivedAt, "receivedAt"))
    }
}
