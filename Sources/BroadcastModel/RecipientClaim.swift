import Foundation

/// One send's claim on its business's 24-hour budget of unique recipients (Meta's messaging limit
/// tiers, shared by every number of one WhatsApp Business Account): the `broadcast.recipient-claim.v1`
/// record on `broadcast.devices`, keyed ``key(businessId:recipient:)``.
///
/// Every claim of one business goes to one partition, so the log orders them, and every reader
/// decides each claim the same way by replaying that order (``RecipientBudgetLedger``): no worker
/// has to be asked, and two workers can never both take the last slot. The recipient is a hash of
/// the phone, never the number itself.
public struct RecipientClaim: Equatable, Sendable {
    public static let schemaID = RecordSchema.recipientClaim
    public var schema: String { Self.schemaID }

    /// Keys of claims start with this; no device id may (claims and device states share the topic).
    public static let keyPrefix = "recipient-claim/"

    public var businessId: String
    /// 32 lower-case hex digits: a hash of the business and the recipient's E.164 number.
    public var recipient: String
    /// Unique per claim: the writer waits for its own claim's verdict by this id.
    public var claimId: String
    /// The writer's clock when it claimed; the ledger's only notion of time.
    public var claimedAt: Date
    /// The business's budget as the writer was configured: readers apply the claim's own limit,
    /// so they agree even while workers roll out a new tier.
    public var limit: Int
    public var deviceId: String
    public var writer: String

    public init(
        businessId: String, recipient: String, claimId: String, claimedAt: Date, limit: Int, deviceId: String, writer: String
    ) {
        self.businessId = businessId
        self.recipient = recipient
        self.claimId = claimId
        self.claimedAt = claimedAt
        self.limit = limit
        self.deviceId = deviceId
        self.writer = writer
    }

    /// One key per business and recipient: compaction keeps a recipient's latest claim only, which
    /// is the one its window counts from.
    public static func key(businessId: String, recipient: String) -> String {
        keyPrefix + businessId + "/" + recipient
    }

    public var key: String { Self.key(businessId: businessId, recipient: recipient) }

    public static func isClaimKey(_ key: String) -> Bool { key.hasPrefix(keyPrefix) }

    // MARK: Validation and codec

    public func validate() throws(ValidationError) {
        var c = IssueCollector()
        c.id(businessId, "businessId")
        c.check(!businessId.contains("/"), "businessId", "must not contain '/'")
        c.check(recipient.utf8.count == 32 && recipient.utf8.allSatisfy(Self.isLowerHex), "recipient",
                "must be 32 lower-case hex digits (a hash, never the phone number)")
        c.id(claimId, "claimId")
        c.check(limit >= 1, "limit", "must be at least 1 (a business without a budget writes no claims)")
        c.id(deviceId, "deviceId")
        c.maxLength(writer, 256, "writer")
        try c.finish()
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.field("schema", Self.schemaID)
        w.field("businessId", businessId)
        w.field("recipient", recipient)
        w.field("claimId", claimId)
        w.field("claimedAt", claimedAt)
        w.field("limit", limit)
        w.field("deviceId", deviceId)
        w.field("writer", writer)
        return w.finish()
    }

    public static func decodeValidated(from bytes: [UInt8]) throws(RecordError) -> RecipientClaim {
        let claim = try RecordDecoding.decode(bytes, schema: schemaID, read)
        do throws(ValidationError) { try claim.validate() } catch { throw .invalid(error) }
        return claim
    }

    /// A claim as read from `broadcast.devices`: valid, and under the key it names.
    public static func decodeValidated(key: String, value: [UInt8]) throws(RecordError) -> RecipientClaim {
        let claim = try decodeValidated(from: value)
        guard claim.key == key else {
            throw .invalidValue(field: "recipient", reason: "the claim's business and recipient are not its key \"\(key)\"")
        }
        return claim
    }

    static func read(_ s: inout JSONScanner) throws(RecordError) -> RecipientClaim {
        var schema, businessId, recipient, claimId, deviceId, writer: String?
        var claimedAt: Date?
        var limit: Int64?
        try s.beginObject("")
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "schema": schema = try s.optionalString(key)
            case "businessId": businessId = try s.optionalString(key)
            case "recipient": recipient = try s.optionalString(key)
            case "claimId": claimId = try s.optionalString(key)
            case "claimedAt": claimedAt = try s.optionalDate(key)
            case "limit": limit = try s.optionalInt64(key)
            case "deviceId": deviceId = try s.optionalString(key)
            case "writer": writer = try s.optionalString(key)
            default: try s.skipValue()
            }
        }
        guard schema == schemaID else { throw .unsupportedSchema(found: schema, expected: schemaID) }
        guard let small = Int(exactly: try RecordDecoding.required(limit, "limit")) else {
            throw .invalidValue(field: "limit", reason: "out of range")
        }
        return RecipientClaim(
            businessId: try RecordDecoding.required(businessId, "businessId"),
            recipient: try RecordDecoding.required(recipient, "recipient"),
            claimId: try RecordDecoding.required(claimId, "claimId"),
            claimedAt: try RecordDecoding.required(claimedAt, "claimedAt"), limit: small,
            deviceId: try RecordDecoding.required(deviceId, "deviceId"), writer: writer ?? "")
    }
}

/// One business's unique recipients of the last 24 hours, decided claim by claim in log order.
///
/// Deterministic: a verdict depends only on the claims before it in the partition and on the
/// claim itself (its time and limit), so every worker that reads the partition reaches the same
/// verdicts, whichever wrote the claim. A recipient already counted in the window costs nothing
/// and moves its window on (Meta counts them from their latest message).
public struct RecipientBudgetLedger: Sendable, Equatable {
    public static let window: TimeInterval = 24 * 3600

    public enum Verdict: String, Sendable, Equatable {
        /// A recipient new to the window, within the limit: counted, the send may go.
        case granted
        /// Already counted in the window: the send may go and costs nothing.
        case covered
        /// The window is full: the send waits until a recipient drops out of it.
        case denied
    }

    /// Recipient hash → when its window started (its latest granted or covered claim).
    private(set) var counted: [String: Date] = [:]
    /// Window starts in the order claims came; entries a later claim replaced are skipped when
    /// they come up. Claims arrive nearly in time order (each writer's clock); one that is older
    /// than a claim before it just leaves the window a little late.
    private var starts: [(at: Date, recipient: String)] = []
    private var head = 0

    public init() {}

    /// Recipients counted at `instant`.
    public mutating func used(at instant: Date) -> Int {
        expire(before: instant)
        return counted.count
    }

    public mutating func apply(_ claim: RecipientClaim) -> Verdict {
        expire(before: claim.claimedAt)
        let verdict: Verdict
        if counted[claim.recipient] != nil {
            verdict = .covered
        } else if counted.count < claim.limit {
            verdict = .granted
        } else {
            return .denied
        }
        let start = max(claim.claimedAt, counted[claim.recipient] ?? .distantPast)
        counted[claim.recipient] = start
        starts.append((start, claim.recipient))
        return verdict
    }

    /// When the first recipient counted now leaves the window (a denied send may try again then).
    public mutating func nextOpening(after instant: Date) -> Date? {
        expire(before: instant)
        while head < starts.count {
            let entry = starts[head]
            if counted[entry.recipient] == entry.at { return entry.at.addingTimeInterval(Self.window) }
            head += 1
        }
        return nil
    }

    private mutating func expire(before instant: Date) {
        let cut = instant.addingTimeInterval(-Self.window)
        while head < starts.count, starts[head].at <= cut {
            let entry = starts[head]
            if counted[entry.recipient] == entry.at { counted[entry.recipient] = nil }
            head += 1
        }
        // Drop what was consumed once it is most of the array, so memory follows the window.
        if head > 1024, head * 2 > starts.count {
            starts.removeFirst(head)
            head = 0
        }
    }

    public static func == (a: Self, b: Self) -> Bool { a.counted == b.counted }
}
