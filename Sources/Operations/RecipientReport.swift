import BroadcastModel
import Foundation

/// One row per recipient of a campaign or sequence, with summaries per device and per step:
/// what `broadcast report` prints. Built from the projection store.
public struct RecipientReport: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        public var messageId: String
        /// Masked unless the report was asked for full phones.
        public var phone: String
        public var deviceId: String
        public var sequenceStepId: String?
        public var status: MessageStatus
        public var reason: String?
        public var attempt: Int
        public var firstAt: Date
        public var at: Date
        public var sentAt: Date?
        public var providerMessageId: String?
        public var errorCode: String?
        public var errorMessage: String?
    }

    public struct Summary: Sendable, Equatable, Codable {
        public var key: String
        public var counts: StatusCounts
    }

    public enum Kind: String, Sendable, Codable { case campaign, sequence }

    public var kind: Kind
    public var id: String
    public var totals: StatusCounts
    public var rows: [Row]
    public var byDevice: [Summary]
    public var byStep: [Summary]

    public init(kind: Kind, id: String, messages: [ProjectedMessage], fullPhone: Bool = false) {
        self.kind = kind
        self.id = id
        rows = messages.map { message in
            Row(
                messageId: message.messageId,
                phone: fullPhone ? message.recipientPhone : PhoneNumber.masked(message.recipientPhone),
                deviceId: message.deviceId, sequenceStepId: message.sequenceStepId, status: message.status,
                reason: message.reason, attempt: message.attempt, firstAt: message.firstAt, at: message.at,
                sentAt: message.sentAt, providerMessageId: message.providerMessageId,
                errorCode: message.errorCode, errorMessage: message.errorMessage)
        }
        var totals = StatusCounts()
        var devices: [String: StatusCounts] = [:]
        var steps: [String: StatusCounts] = [:]
        for message in messages {
            totals[message.status] += 1
            devices[message.deviceId, default: StatusCounts()][message.status] += 1
            steps[message.sequenceStepId ?? "-", default: StatusCounts()][message.status] += 1
        }
        self.totals = totals
        byDevice = devices.sorted { $0.key < $1.key }.map { Summary(key: $0.key, counts: $0.value) }
        byStep = steps.sorted { $0.key < $1.key }.map { Summary(key: $0.key, counts: $0.value) }
    }

    /// Which tables the CSV output holds.
    public enum Section: String, Sendable, CaseIterable {
        case recipients, devices, steps, all
    }

    static let recipientColumns = [
        "message_id", "phone", "device_id", "step", "status", "reason", "attempt", "first_at", "at", "sent_at",
        "provider_message_id", "error_code", "error_message",
    ]
    static let summaryColumns = ["scope", "key", "total"] + MessageStatus.allCases.map(\.rawValue) + ["delivered_rate", "read_rate"]

    /// RFC 4180 CSV. `all` prints the recipients table, then a blank line and the summary table
    /// (`scope` is `device`, `step` or `total`); pick one section for a single clean table.
    public func csv(section: Section = .recipients) -> String {
        var out: [String] = []
        if section == .recipients || section == .all {
            out.append(CSV.line(Self.recipientColumns))
            for row in rows {
                out.append(CSV.line([
                    row.messageId, row.phone, row.deviceId, row.sequenceStepId ?? "", row.status.rawValue, row.reason ?? "",
                    String(row.attempt), Timestamp.format(row.firstAt), Timestamp.format(row.at),
                    row.sentAt.map(Timestamp.format) ?? "", row.providerMessageId ?? "", row.errorCode ?? "", row.errorMessage ?? "",
                ]))
            }
        }
        if section == .all { out.append("") }
        if section != .recipients {
            out.append(CSV.line(Self.summaryColumns))
            func summaryLine(_ scope: String, _ key: String, _ counts: StatusCounts) -> String {
                // Rates over the messages the provider accepted; a read one counts as delivered.
                CSV.line([scope, key, String(counts.total)] + MessageStatus.allCases.map { String(counts[$0]) }
                    + [String(format: "%.3f", counts.deliveredRate), String(format: "%.3f", counts.readRate)])
            }
            if section == .devices || section == .all { out += byDevice.map { summaryLine("device", $0.key, $0.counts) } }
            if section == .steps || section == .all { out += byStep.map { summaryLine("step", $0.key, $0.counts) } }
            if section == .all { out.append(summaryLine("total", id, totals)) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    public func jsonData() throws -> Data {
        try JSONEncoder.sortedWithTimestamps(pretty: true).encode(self)
    }
}

/// RFC 4180 fields: quoted when they hold a comma, quote or line break. Fields starting with `=`
/// or `@` (error messages come from providers) get a leading `'` so spreadsheets do not run them
/// as formulas; `+` is left alone because every phone starts with it.
enum CSV {
    static func field(_ value: String) -> String {
        var value = value
        if let first = value.first, "=@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") }
}
