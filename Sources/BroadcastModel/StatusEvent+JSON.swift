import Foundation

// Hand-written codec, same conventions as BroadcastMessage's: unknown members skipped,
// the last of duplicate members wins, absent and `null` read the same.
extension StatusEvent {
    public static func decode(from bytes: UnsafeRawBufferPointer) throws(RecordError) -> StatusEvent {
        try RecordDecoding.decode(bytes, schema: schemaID, read)
    }

    public static func decode(from bytes: [UInt8]) throws(RecordError) -> StatusEvent {
        try RecordDecoding.decode(bytes, schema: schemaID, read)
    }

    public static func decode(from data: Data) throws(RecordError) -> StatusEvent {
        try RecordDecoding.decode(data, schema: schemaID, read)
    }

    /// Decodes and validates.
    public static func decodeValidated(from bytes: UnsafeRawBufferPointer) throws(RecordError) -> StatusEvent {
        try checked(decode(from: bytes))
    }

    public static func decodeValidated(from bytes: [UInt8]) throws(RecordError) -> StatusEvent {
        try checked(decode(from: bytes))
    }

    public static func decodeValidated(from data: Data) throws(RecordError) -> StatusEvent {
        try checked(decode(from: data))
    }

    private static func checked(_ event: StatusEvent) throws(RecordError) -> StatusEvent {
        do throws(ValidationError) {
            try event.validate()
        } catch {
            throw .invalid(error)
        }
        return event
    }

    /// The record as compact JSON, `schema` first.
    public func encoded() -> [UInt8] {
        // ``StatusBatchEncoder`` writes the same members in the same order from the same helpers.
        var w = JSONWriter(capacity: 384)
        w.field("schema", Self.schemaID)
        w.field("messageId", messageId)
        writeOwner(&w)
        w.field("deviceId", deviceId)
        writeOrigin(&w)
        w.field("recipientPhone", recipientPhone)
        writeOutcome(&w)
        return w.finish()
    }

    func writeOwner(_ w: inout JSONWriter) {
        w.field("userId", userId)
    }

    func writeOrigin(_ w: inout JSONWriter) {
        w.field("campaignId", campaignId)
        w.field("sequenceId", sequenceId)
        w.field("sequenceStepId", sequenceStepId)
    }

    /// Status, attempt, time, provider id, error, worker and source position.
    func writeOutcome(_ w: inout JSONWriter) {
        w.field("status", status.rawValue)
        w.field("reason", reason)
        w.field("attempt", attempt)
        w.field("at", at)
        w.field("providerMessageId", providerMessageId)
        if let error {
            w.object("error") { w in
                w.field("code", error.code)
                w.field("message", error.message)
                w.field("retryable", error.retryable)
            }
        }
        w.field("worker", worker)
        if let partition { w.field("partition", partition) }
        if let offset { w.field("offset", offset) }
        w.field("fromDeviceId", fromDeviceId)
    }

    static func read(_ s: inout JSONScanner) throws(RecordError) -> StatusEvent {
        var schema, messageId, userId, deviceId, campaignId, sequenceId, sequenceStepId: String?
        var recipientPhone, reason, providerMessageId, worker, fromDeviceId: String?
        var status: MessageStatus?
        var attempt, offset: Int64?
        var partition: Int32?
        var at: Date?
        var error: ErrorInfo?

        try s.beginObject("")
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "schema": schema = try s.optionalString(key)
            case "messageId": messageId = try s.optionalString(key)
            case "userId": userId = try s.optionalString(key)
            case "deviceId": deviceId = try s.optionalString(key)
            case "campaignId": campaignId = try s.optionalString(key)
            case "sequenceId": sequenceId = try s.optionalString(key)
            case "sequenceStepId": sequenceStepId = try s.optionalString(key)
            case "recipientPhone": recipientPhone = try s.optionalString(key)
            case "status": status = try s.optionalEnum(key, MessageStatus.self)
            case "reason": reason = try s.optionalString(key)
            case "attempt": attempt = try s.optionalInt64(key)
            case "at": at = try s.optionalDate(key)
            case "providerMessageId": providerMessageId = try s.optionalString(key)
            case "error": error = try s.optionalObject(key, ErrorInfo.read)
            case "worker": worker = try s.optionalString(key)
            case "partition": partition = try s.optionalInt32(key)
            case "offset": offset = try s.optionalInt64(key)
            case "fromDeviceId": fromDeviceId = try s.optionalString(key)
            default: try s.skipValue()
            }
        }
        guard schema == schemaID else { throw .unsupportedSchema(found: schema, expected: schemaID) }
        let attemptValue = try RecordDecoding.required(attempt, "attempt")
        guard let attemptInt = Int(exactly: attemptValue) else {
            throw .invalidValue(field: "attempt", reason: "\(attemptValue) is out of range")
        }
        return try StatusEvent(
            messageId: RecordDecoding.required(messageId, "messageId"),
            userId: RecordDecoding.required(userId, "userId"),
            deviceId: RecordDecoding.required(deviceId, "deviceId"),
            campaignId: campaignId, sequenceId: sequenceId, sequenceStepId: sequenceStepId,
            recipientPhone: RecordDecoding.required(recipientPhone, "recipientPhone"),
            status: RecordDecoding.required(status, "status"),
            reason: reason, attempt: attemptInt,
            at: RecordDecoding.required(at, "at"),
            providerMessageId: providerMessageId, error: error, worker: worker,
            partition: partition, offset: offset, fromDeviceId: fromDeviceId)
    }
}

extension StatusEvent.ErrorInfo {
    static func read(_ s: inout JSONScanner) throws(RecordError) -> Self {
        var code, message: String?
        var retryable: Bool?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "code": code = try s.optionalString("error.code")
            case "message": message = try s.optionalString("error.message")
            case "retryable": retryable = try s.optionalBool("error.retryable")
            default: try s.skipValue()
            }
        }
        return try Self(
            code: RecordDecoding.required(code, "error.code"),
            message: RecordDecoding.required(message, "error.message"),
            retryable: RecordDecoding.required(retryable, "error.retryable"))
    }
}
