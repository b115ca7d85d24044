import BroadcastModel

/// How many messages are in each state. Counts messages, never events.
public struct StatusCounts: Sendable, Equatable, Codable {
    public var queued = 0
    public var processing = 0
    public var sent = 0
    public var retrying = 0
    public var failed = 0
    public var skipped = 0
    public var expired = 0
    public var deadLettered = 0
    /// Messages whose latest event moved them to another device (its own events follow).
    public var rerouted = 0
    /// Messages whose latest receipt is `delivered` (a `read` one counts under ``read``).
    public var delivered = 0
    public var read = 0

    public init() {}

    public subscript(status: MessageStatus) -> Int {
        get {
            switch status {
            case .queued: queued
            case .processing: processing
            case .sent: sent
            case .retrying: retrying
            case .failed: failed
            case .skipped: skipped
            case .expired: expired
            case .deadLettered: deadLettered
            case .rerouted: rerouted
            case .delivered: delivered
            case .read: read
            }
        }
        set {
            switch status {
            case .queued: queued = newValue
            case .processing: processing = newValue
            case .sent: sent = newValue
            case .retrying: retrying = newValue
            case .failed: failed = newValue
            case .skipped: skipped = newValue
            case .expired: expired = newValue
            case .deadLettered: deadLettered = newValue
            case .rerouted: rerouted = newValue
            case .delivered: delivered = newValue
            case .read: read = newValue
            }
        }
    }

    public var total: Int { MessageStatus.allCases.reduce(0) { $0 + self[$1] } }
    /// Not final yet: queued, processing, retrying or rerouted.
    public var pending: Int { queued + processing + retrying + rerouted }
    public var finished: Int { total - pending }

    /// Accepted by the provider and not failed since: sent, delivered or read.
    public var accepted: Int { sent + delivered + read }
    /// Reached the phone: delivered or read (a read without a delivered receipt still arrived).
    public var reachedPhone: Int { delivered + read }
    /// Share of accepted messages delivered, 0...1 (0 when none were accepted).
    public var deliveredRate: Double { accepted == 0 ? 0 : Double(reachedPhone) / Double(accepted) }
    /// Share of accepted messages read, 0...1.
    public var readRate: Double { accepted == 0 ? 0 : Double(read) / Double(accepted) }

    /// Share of messages finished, 0...1 (1 when there are none).
    public var progress: Double { total == 0 ? 1 : Double(finished) / Double(total) }

    public static func + (lhs: StatusCounts, rhs: StatusCounts) -> StatusCounts {
        var result = lhs
        for status in MessageStatus.allCases { result[status] += rhs[status] }
        return result
    }

    enum CodingKeys: String, CodingKey {
        case queued, processing, sent, retrying, failed, skipped, expired
        case deadLettered = "dead_lettered"
        case delivered, read, rerouted
        case total, pending, deliveredRate, readRate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        for status in MessageStatus.allCases {
            guard let key = CodingKeys(rawValue: status.rawValue) else { continue }
            self[status] = try container.decodeIfPresent(Int.self, forKey: key) ?? 0
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for status in MessageStatus.allCases {
            guard let key = CodingKeys(rawValue: status.rawValue) else { continue }
            try container.encode(self[status], forKey: key)
        }
        try container.encode(total, forKey: .total)
        try container.encode(pending, forKey: .pending)
        try container.encode(deliveredRate, forKey: .deliveredRate)
        try container.encode(readRate, forKey: .readRate)
    }
}
