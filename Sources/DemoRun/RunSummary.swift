import BroadcastModel
import Foundation

/// What a run did and whether it kept its promises, computed from the status topic alone.
public struct RunSummary: Sendable, Codable, Equatable {
    /// Messages by their latest status.
    public var byStatus: [String: Int]
    public var messages: Int
    /// Messages that never reached a final status.
    public var unfinished: Int
    /// Sends beyond the first of a message.
    public var duplicates: Int
    /// Devices whose messages were first sent out of offset order.
    public var orderViolations: Int
    /// Consecutive sends of a device closer than the later message's minimum delay.
    public var pacingViolations: Int
    public var devices: Int
    public var sentPerSecond: Double
    /// From the `queued` event (publish) to the `sent` event, in seconds.
    public var publishToSentP50: Double?
    public var publishToSentP99: Double?
    public var wallSeconds: Double
    /// Receipts, replies and the STOP scene (absent when the run had no receiver).
    public var receipts: ReceiptSummary? = nil

    public var invariantsHeld: Bool {
        unfinished == 0 && duplicates == 0 && orderViolations == 0 && pacingViolations == 0
    }
}

/// Builds a `RunSummary` from status events.
public enum RunVerifier {
    /// - Parameters:
    ///   - expected: message ids that should have reached a final status.
    ///   - minimumGap: the pacing minimum that applies to a sent message (from its campaign or step).
    public static func summarize(
        _ events: [StatusEvent], expected: Set<String>, wallSeconds: Double,
        minimumGap: (StatusEvent) -> Double
    ) -> RunSummary {
        var latest: [String: StatusEvent] = [:]
        var queuedAt: [String: Date] = [:]
        for event in events {
            if event.status == .queued { queuedAt[event.messageId] = event.at }
            if let current = latest[event.messageId], current.status.isFinal, !event.status.isFinal { continue }
            latest[event.messageId] = event
        }
        var byStatus: [String: Int] = [:]
        for event in latest.values { byStatus[event.status.rawValue, default: 0] += 1 }
        let unfinished = expected.filter { latest[$0]?.status.isFinal != true }.count

        // A status event written twice (a retried batch stored twice) is one send; a real second
        // send has its own provider id.
        var seenEvents: Set<String> = []
        let sent = events.filter {
            $0.status == .sent && seenEvents.insert("\($0.messageId)|\($0.providerMessageId ?? "")|\($0.at.timeIntervalSince1970)").inserted
        }
        let byDevice = Dictionary(grouping: sent, by: \.deviceId).mapValues { $0.sorted { $0.at < $1.at } }
        var duplicates = 0
        var orderViolations = 0
        var pacingViolations = 0
        for sends in byDevice.values {
            var seen: Set<String> = []
            let firsts = sends.filter { seen.insert($0.messageId).inserted }
            duplicates += sends.count - firsts.count
            let offsets = firsts.compactMap(\.offset)
            if offsets != offsets.sorted() { orderViolations += 1 }
            for (previous, next) in zip(sends, sends.dropFirst()) {
                // Status times carry milliseconds.
                if next.at.timeIntervalSince(previous.at) < minimumGap(next) - 0.002 { pacingViolations += 1 }
            }
        }
        let latencies = sent.compactMap { event in queuedAt[event.messageId].map { event.at.timeIntervalSince($0) } }.sorted()
        let span = (sent.map(\.at).max()?.timeIntervalSince(sent.map(\.at).min() ?? Date())) ?? 0
        return RunSummary(
            byStatus: byStatus, messages: latest.count, unfinished: unfinished, duplicates: duplicates,
            orderViolations: orderViolations, pacingViolations: pacingViolations, devices: byDevice.count,
            sentPerSecond: span > 0 ? (Double(sent.count) / span * 10).rounded() / 10 : 0,
            publishToSentP50: percentile(latencies, 0.50), publishToSentP99: percentile(latencies, 0.99),
            wallSeconds: (wallSeconds * 10).rounded() / 10
        )
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))
        return (sorted[index] * 1000).rounded() / 1000
    }
}

extension RunSummary {
    /// The summary as a short report for a terminal.
    public var humanReadable: String {
        let statuses = byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.3f s", $0) } ?? "n/a" }
        return """
            messages        \(messages) (\(statuses))
            devices         \(devices)
            unfinished      \(unfinished)
            duplicates      \(duplicates)
            order breaks    \(orderViolations)
            pacing breaks   \(pacingViolations)
            throughput      \(sentPerSecond) sent/s
            publish → sent  p50 \(seconds(publishToSentP50)), p99 \(seconds(publishToSentP99))
            wall time       \(wallSeconds) s
            invariants      \(invariantsHeld ? "held" : "BROKEN")
            """ + (receipts.map { "\n" + $0.humanReadable } ?? "")
    }
}
