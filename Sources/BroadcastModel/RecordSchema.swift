/// Names of the record contracts and the Kafka header that carries them.
///
/// Workers read the `schema` header before touching the value, so a record of an
/// unknown version can be dead-lettered without being parsed.
public enum RecordSchema {
    /// Kafka header name carrying the schema id; the same on every topic.
    public static let headerName = "schema"
    /// Schema id of ``BroadcastMessage`` records (topic `broadcast.messages`).
    public static let message = "broadcast.message.v1"
    /// Schema id of ``StatusEvent`` records (topic `broadcast.status`).
    public static let status = "broadcast.status.v1"

    /// Schema id of ``InboundMessage`` records (topic `broadcast.inbound`).
    public static let inbound = "broadcast.inbound.v1"

    /// Schema id of ``DeviceStateRecord`` records (compacted topic `broadcast.devices`).
    public static let device = "broadcast.device.v1"

    /// Schema id of ``RecipientClaim`` records (also on `broadcast.devices`, keys `recipient-claim/…`).
    public static let recipientClaim = "broadcast.recipient-claim.v1"

    /// The `schema` header for an inbound record, ready for a producer.
    public static let inboundHeader: (String, [UInt8]) = (headerName, Array(inbound.utf8))
    /// The `schema` header for a message record, ready for a producer.
    public static let messageHeader: (String, [UInt8]) = (headerName, Array(message.utf8))
    /// The `schema` header for a status record, ready for a producer.
    public static let statusHeader: (String, [UInt8]) = (headerName, Array(status.utf8))
}
