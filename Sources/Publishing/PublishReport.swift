import Foundation

/// Recipients assigned to one device.
public struct DeviceCount: Sendable, Equatable, Codable {
    public var device: String
    public var recipients: Int

    public init(device: String, recipients: Int) {
        self.device = device
        self.recipients = recipients
    }
}

/// The outcome of publishing a campaign, printed at the end (and as JSON with `--json`).
public struct PublishReport: Sendable, Equatable, Codable {
    public var campaignId: String
    public var counts: RecipientCounts
    /// Message records Kafka acknowledged.
    public var published = 0
    /// `queued` status records Kafka acknowledged.
    public var statusPublished = 0
    /// Records (messages and status events) that were not acknowledged.
    public var failed = 0
    /// Up to ``maxFailureSamples`` failures: message id and Kafka's error.
    public var failureSamples: [String] = []
    public var perDevice: [DeviceCount]
    public var elapsedSeconds = 0.0
    public var warnings: [String] = []

    public static let maxFailureSamples = 20

    /// Every recipient's message and status were acknowledged.
    public var succeeded: Bool {
        failed == 0 && published == counts.recipients && statusPublished == counts.recipients && warnings.isEmpty
    }

    public init(campaignId: String, counts: RecipientCounts, perDevice: [DeviceCount]) {
        self.campaignId = campaignId
        self.counts = counts
        self.perDevice = perDevice
    }

    /// A few lines for people: counts first, then what went wrong.
    public var summary: String {
        var lines = [
            "campaign \(campaignId): \(counts.rows) rows, \(counts.valid) valid, \(counts.invalid) invalid, "
                + "\(counts.duplicates) duplicates, \(counts.optedOut) opted out",
            "published \(published) of \(counts.recipients) messages (\(statusPublished) queued statuses), \(failed) records failed"
                + String(format: ", %.1f s", elapsedSeconds),
        ]
        lines += failureSamples.map { "  failed: \($0)" }
        lines += warnings.map { "  warning: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// Where publishing is, handed to a progress callback after each chunk Kafka has answered for.
public struct PublishProgress: Sendable, Equatable {
    /// Recipients the plan will publish.
    public var total: Int
    /// Recipients whose message and status records Kafka has answered for.
    public var settled: Int
    public var failedRecords: Int
    public var elapsedSeconds: Double
}
