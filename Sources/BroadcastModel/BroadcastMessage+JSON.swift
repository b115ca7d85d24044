import Foundation

// The wire codec: hand-written in both directions because it runs for every record a worker
// consumes. Unknown members are skipped (newer publishers may add fields); for a member that
// appears twice, the last one wins, as in JavaScript's JSON.parse.
extension BroadcastMessage {
    /// Decodes a record; does not validate (see ``decodeValidated(from:)-(UnsafeRawBufferPointer)``).
    public static func decode(from bytes: UnsafeRawBufferPointer) throws(RecordError) -> BroadcastMessage {
        try RecordDecoding.decode(bytes, schema: schemaID, read)
    }

    public static func decode(from bytes: [UInt8]) throws(RecordError) -> BroadcastMessage {
        try RecordDecoding.decode(bytes, schema: schemaID, read)
    }

    public static func decode(from data: Data) throws(RecordError) -> BroadcastMessage {
        try RecordDecoding.decode(data, schema: schemaID, read)
    }

    /// Decodes and validates: what a worker runs on each consumed record.
    public static func decodeValidated(from bytes: UnsafeRawBufferPointer) throws(RecordError) -> BroadcastMessage {
        try checked(decode(from: bytes))
    }

    public static func decodeValidated(from bytes: [UInt8]) throws(RecordError) -> BroadcastMessage {
        try checked(decode(from: bytes))
    }

    public static func decodeValidated(from data: Data) throws(RecordError) -> BroadcastMessage {
        try checked(decode(from: data))
    }

    private static func checked(_ message: BroadcastMessage) throws(RecordError) -> BroadcastMessage {
        do throws(ValidationError) {
            try message.validate()
        } catch {
            throw .invalid(error)
        }
        return message
    }

    /// The record as compact JSON, `schema` first, timestamps in UTC with milliseconds.
    public func encoded() -> [UInt8] {
        // Member order is part of the bytes: ``MessageBatchEncoder`` writes the same members in the
        // same order from the same helpers, and a test holds the two to equal output.
        var w = JSONWriter(capacity: 512 + (content.text?.utf8.count ?? 0) + (content.template == nil ? 0 : 512))
        w.field("schema", Self.schemaID)
        w.field("id", id)
        writeOwner(&w)
        w.field("deviceId", deviceId)
        writeOrigin(&w)
        w.object("recipient") { w in
            w.field("phone", recipient.phone)
            w.field("name", recipient.name)
        }
        writeBody(&w)
        w.field("attributes", attributes)
        return w.finish()
    }

    func writeOwner(_ w: inout JSONWriter) {
        w.field("userId", userId)
    }

    func writeOrigin(_ w: inout JSONWriter) {
        w.field("source", source.rawValue)
        w.field("campaignId", campaignId)
        w.field("sequenceId", sequenceId)
        w.field("sequenceStepId", sequenceStepId)
    }

    /// Content, delay and timestamps: everything after the recipient but the attributes.
    func writeBody(_ w: inout JSONWriter) {
        w.object("content") { w in
            w.field("type", content.type.rawValue)
            w.field("text", content.text)
            w.field("mediaUrl", content.mediaUrl)
            w.field("fileName", content.fileName)
            // Defaults are left out to keep records small.
            if content.greeting { w.field("greeting", true) }
            if content.variation { w.field("variation", true) }
            if let template = content.template { w.object("template") { template.write(&$0) } }
        }
        w.object("delay") { w in
            w.field("minSeconds", delay.minSeconds)
            w.field("maxSeconds", delay.maxSeconds)
        }
        w.field("scheduledAt", scheduledAt)
        w.field("expiresAt", expiresAt)
        w.field("createdAt", createdAt)
        if let reroute {
            w.object("reroute") { w in
                w.field("afterSeconds", reroute.afterSeconds)
                w.strings("devices", reroute.devices)
            }
        }
    }

    static func read(_ s: inout JSONScanner) throws(RecordError) -> BroadcastMessage {
        var schema, id, userId, deviceId, campaignId, sequenceId, sequenceStepId: String?
        var source: MessageSource?
        var recipient: Recipient?
        var content: Content?
        var delay: Delay?
        var scheduledAt, expiresAt, createdAt: Date?
        var attributes: [String: String]?
        var reroute: Reroute?

        try s.beginObject("")
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "schema": schema = try s.optionalString(key)
            case "id": id = try s.optionalString(key)
            case "userId": userId = try s.optionalString(key)
            case "deviceId": deviceId = try s.optionalString(key)
            case "source": source = try s.optionalEnum(key, MessageSource.self)
            case "campaignId": campaignId = try s.optionalString(key)
            case "sequenceId": sequenceId = try s.optionalString(key)
            case "sequenceStepId": sequenceStepId = try s.optionalString(key)
            case "recipient": recipient = try s.optionalObject(key, Recipient.read)
            case "content": content = try s.optionalObject(key, Content.read)
            case "delay": delay = try s.optionalObject(key, Delay.read)
            case "scheduledAt": scheduledAt = try s.optionalDate(key)
            case "expiresAt": expiresAt = try s.optionalDate(key)
            case "createdAt": createdAt = try s.optionalDate(key)
            case "attributes": attributes = try s.optionalStringMap(key)
            case "reroute": reroute = try s.optionalObject(key, Reroute.read)
            default: try s.skipValue()
            }
        }
        guard schema == schemaID else { throw .unsupportedSchema(found: schema, expected: schemaID) }
        return try BroadcastMessage(
            id: RecordDecoding.required(id, "id"),
            userId: RecordDecoding.required(userId, "userId"),
            deviceId: RecordDecoding.required(deviceId, "deviceId"),
            source: RecordDecoding.required(source, "source"),
            campaignId: campaignId, sequenceId: sequenceId, sequenceStepId: sequenceStepId,
            recipient: RecordDecoding.required(recipient, "recipient"),
            content: RecordDecoding.required(content, "content"),
            delay: RecordDecoding.required(delay, "delay"),
            scheduledAt: RecordDecoding.required(scheduledAt, "scheduledAt"),
            expiresAt: expiresAt,
            createdAt: RecordDecoding.required(createdAt, "createdAt"),
            attributes: attributes, reroute: reroute
        )
    }
}

extension BroadcastMessage.Reroute {
    static func read(_ s: inout JSONScanner) throws(RecordError) -> Self {
        var afterSeconds: Double?
        var devices: [String]?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "afterSeconds": afterSeconds = try s.optionalDouble("reroute.afterSeconds")
            case "devices":
                if try s.skipNull() { continue }
                try s.beginArray("reroute.devices")
                var list: [String] = []
                var firstDevice = true
                while try s.nextElement(&firstDevice) {
                    guard list.count < Self.maxDevices else {
                        throw .invalidValue(field: "reroute.devices", reason: "names more than \(Self.maxDevices) devices")
                    }
                    list.append(try s.string("reroute.devices[\(list.count)]"))
                }
                devices = list
            default: try s.skipValue()
            }
        }
        return try Self(
            afterSeconds: RecordDecoding.required(afterSeconds, "reroute.afterSeconds"),
            devices: RecordDecoding.required(devices, "reroute.devices"))
    }
}

extension BroadcastMessage.Recipient {
    static func read(_ s: inout JSONScanner) throws(RecordError) -> Self {
        var phone, name: String?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "phone": phone = try s.optionalString("recipient.phone")
            case "name": name = try s.optionalString("recipient.name")
            default: try s.skipValue()
            }
        }
        return try Self(phone: RecordDecoding.required(phone, "recipient.phone"), name: name)
    }
}

extension BroadcastMessage.Content {
    static func read(_ s: inout JSONScanner) throws(RecordError) -> Self {
        var type: Kind?
        var text, mediaUrl, fileName: String?
        var greeting, variation: Bool?
        var template: MessageTemplate?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "type": type = try s.optionalEnum("content.type", Kind.self)
            case "text": text = try s.optionalString("content.text")
            case "mediaUrl": mediaUrl = try s.optionalString("content.mediaUrl")
            case "fileName": fileName = try s.optionalString("content.fileName")
            case "greeting": greeting = try s.optionalBool("content.greeting")
            case "variation": variation = try s.optionalBool("content.variation")
            case "template":
                template = try s.optionalObject("content.template") { (s: inout JSONScanner) throws(RecordError) in
                    try MessageTemplate.read(&s, path: "content.template")
                }
            default: try s.skipValue()
            }
        }
        return try Self(
            type: RecordDecoding.required(type, "content.type"), text: text, mediaUrl: mediaUrl,
            fileName: fileName, greeting: greeting ?? false, variation: variation ?? false, template: template)
    }
}

extension BroadcastMessage.Delay {
    static func read(_ s: inout JSONScanner) throws(RecordError) -> Self {
        var minSeconds, maxSeconds: Double?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "minSeconds": minSeconds = try s.optionalDouble("delay.minSeconds")
            case "maxSeconds": maxSeconds = try s.optionalDouble("delay.maxSeconds")
            default: try s.skipValue()
            }
        }
        return try Self(
            minSeconds: RecordDecoding.required(minSeconds, "delay.minSeconds"),
            maxSeconds: RecordDecoding.required(maxSeconds, "delay.maxSeconds"))
    }
}
