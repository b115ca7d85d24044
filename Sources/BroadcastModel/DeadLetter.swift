import Foundation

/// Why a record went to `broadcast.dlq`. The dead letter keeps the original key and value
/// bytes unchanged; this travels beside them in Kafka headers.
public struct DeadLetter: Equatable, Sendable {
    /// Header names, all prefixed `dlq.` so they never clash with the record's own headers.
    public enum Header {
        public static let reason = "dlq.reason"
        public static let error = "dlq.error"
        public static let sourceTopic = "dlq.source.topic"
        public static let sourcePartition = "dlq.source.partition"
        public static let sourceOffset = "dlq.source.offset"
        public static let worker = "dlq.worker"
        public static let at = "dlq.at"
    }

    public var reason: DeadLetterReason
    /// A readable explanation, e.g. a ``RecordError``'s description.
    public var error: String?
    public var sourceTopic: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64
    public var worker: String?
    public var at: Date

    public init(
        reason: DeadLetterReason, error: String? = nil, sourceTopic: String,
        sourcePartition: Int32, sourceOffset: Int64, worker: String? = nil, at: Date
    ) {
        self.reason = reason
        self.error = error
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
        self.worker = worker
        self.at = at
    }

    /// The headers to send with the original key and value; numbers and times as UTF-8 text
    /// so any Kafka tool shows them.
    public func headers() -> [(String, [UInt8])] {
        var headers: [(String, [UInt8])] = [
            (Header.reason, Array(reason.rawValue.utf8)),
            (Header.sourceTopic, Array(sourceTopic.utf8)),
            (Header.sourcePartition, Array(String(sourcePartition).utf8)),
            (Header.sourceOffset, Array(String(sourceOffset).utf8)),
            (Header.at, Array(Timestamp.format(at).utf8)),
        ]
        if let error { headers.append((Header.error, Array(error.utf8))) }
        if let worker { headers.append((Header.worker, Array(worker.utf8))) }
        return headers
    }

    /// Reads the `dlq.*` headers back; other headers (such as `schema`) are ignored, and the
    /// last of repeated headers wins.
    public init(headers: [(String, [UInt8])]) throws(RecordError) {
        var values: [String: String] = [:]
        for (name, value) in headers where name.hasPrefix("dlq.") {
            values[name] = String(decoding: value, as: UTF8.self)
        }
        func required(_ name: String) throws(RecordError) -> String {
            guard let value = values[name] else { throw .missingField(name) }
            return value
        }
        let rawReason = try required(Header.reason)
        guard let reason = DeadLetterReason(rawValue: rawReason) else {
            let known = DeadLetterReason.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(field: Header.reason, reason: "\"\(rawReason)\" is not one of \(known)")
        }
        let partition = try required(Header.sourcePartition)
        guard let sourcePartition = Int32(partition) else {
            throw .invalidValue(field: Header.sourcePartition, reason: "\"\(partition)\" is not a partition number")
        }
        let offset = try required(Header.sourceOffset)
        guard let sourceOffset = Int64(offset) else {
            throw .invalidValue(field: Header.sourceOffset, reason: "\"\(offset)\" is not an offset")
        }
        let time = try required(Header.at)
        guard let at = Timestamp.parse(time) else {
            throw .invalidValue(field: Header.at, reason: "\"\(time)\" is not an RFC 3339 timestamp")
        }
        self.init(
            reason: reason, error: values[Header.error], sourceTopic: try required(Header.sourceTopic),
            sourcePartition: sourcePartition, sourceOffset: sourceOffset, worker: values[Header.worker], at: at)
    }
}

/// Why a record could not be processed.
public enum DeadLetterReason: String, Sendable, Equatable, Codable, CaseIterable {
    /// Not JSON, not UTF-8, not an object, or fields of the wrong JSON kind.
    case undecodable
    /// The `schema` header or field names a contract this worker does not read.
    case unsupportedSchema = "unsupported_schema"
    /// Readable JSON that breaks the contract: a missing field, a bad value, a broken rule.
    case invalid
    /// The Kafka key differs from the record's `deviceId`, so lane ordering cannot hold.
    case keyMismatch = "key_mismatch"
    /// The sender kept failing in a way that retrying and `failed` status could not absorb.
    case processingFailed = "processing_failed"

    /// The reason matching a decode failure.
    public init(_ error: RecordError) {
        switch error {
        case .malformed, .wrongType: self = .undecodable
        case .unsupportedSchema: self = .unsupportedSchema
        case .missingField, .invalidValue, .invalid: self = .invalid
        }
    }
}
