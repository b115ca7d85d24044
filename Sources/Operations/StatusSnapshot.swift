import BroadcastModel
import Foundation

/// One view of the board: what `broadcast status --json` prints.
public struct StatusSnapshot: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        /// `campaign`, `sequence`, `direct`, `step`, `device` or `total`.
        public var kind: String
        public var id: String
        /// The sequence step, for `step` rows.
        public var step: String?
        public var counts: StatusCounts
        /// Messages that reached a final status per second, over the board's rate window.
        public var finishedPerSecond: Double
        /// Seconds until the pending messages are done at that rate; nil when nothing moves.
        public var etaSeconds: Double?
    }

    public var generatedAt: Date
    public var messages: Int
    public var total: Row
    public var scopes: [Row]
    public var steps: [Row]
    public var devices: [Row]

    static func eta(pending: Int, perSecond: Double) -> Double? {
        if pending == 0 { return 0 }
        return perSecond > 0 ? Double(pending) / perSecond : nil
    }

    /// Pretty, stable JSON with RFC 3339 times.
    public func jsonData() throws -> Data {
        try JSONEncoder.sortedWithTimestamps(pretty: true).encode(self)
    }

    public static func decode(json: Data) throws -> StatusSnapshot {
        try JSONDecoder.withTimestamps().decode(StatusSnapshot.self, from: json)
    }
}
