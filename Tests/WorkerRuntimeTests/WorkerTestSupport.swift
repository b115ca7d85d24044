import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Senders
import Synchronization
import Testing
import WorkerRuntime

func testMessage(
    id: String, device: String, minDelay: Double = 0, maxDelay: Double = 0, text: String? = nil,
    scheduledAt: Date = Date(timeIntervalSinceNow: -1), expiresAt: Date? = nil, phone: String = "+60123456789"
) -> BroadcastMessage {
    BroadcastMessage(
        id: id, userId: "user-1", deviceId: device, source: .campaign, campaignId: "cmp-test",
        recipient: .init(phone: phone, name: "Aisha"),
        content: .init(type: .text, text: text ?? "Hello \(id)"),
        delay: .init(minSeconds: minDelay, maxSeconds: maxDelay),
        scheduledAt: scheduledAt, expiresAt: expiresAt, createdAt: Date()
    )
}

extension Array where Element == StatusEvent {
    /// Latest final event per message id.
    var finals: [String: StatusEvent] {
        var result: [String: StatusEvent] = [:]
        for event in self where event.status.isFinal { result[event.messageId] = event }
        return result
    }

    func sends(of status: MessageStatus = .sent) -> [StatusEvent] { filter { $0.status == status } }

    /// Sends per device in the order they happened. A status event written twice (the embedded
    /// cluster can store a retried idempotent batch twice) is one send: a real second send has
    /// its own provider id.
    var sentByDevice: [String: [StatusEvent]] {
        var seen: Set<String> = []
        let unique = sends().filter { seen.insert("\($0.messageId)|\($0.providerMessageId ?? "")|\($0.at.timeIntervalSince1970)").inserted }
        return Dictionary(grouping: unique, by: \.deviceId).mapValues { $0.sorted { $0.at < $1.at } }
    }
}

/// Checks the invariants every run must keep: each device's messages first sent in offset order,
/// and every gap between two sends of a device (duplicates included: they reached a phone too) at
/// least `minGap`.
func expectOrderAndPacing(_ events: [StatusEvent], minGap: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    for (device, sends) in events.sentByDevice {
        var seen: Set<String> = []
        let firstSends = sends.filter { seen.insert($0.messageId).inserted }
        let offsets = firstSends.compactMap(\.offset)
        #expect(offsets == offsets.sorted(), "device \(device) out of order: \(offsets)", sourceLocation: sourceLocation)
        for (previous, next) in zip(sends, sends.dropFirst()) {
            // `at` travels with millisecond precision.
            let gap = next.at.timeIntervalSince(previous.at)
            #expect(gap >= minGap - 0.002, "device \(device) gap \(gap) < \(minGap)", sourceLocation: sourceLocation)
        }
    }
}

/// Duplicate sends per device (sends beyond the first of each message).
func duplicatesPerDevice(_ events: [StatusEvent]) -> [String: Int] {
    var result: [String: Int] = [:]
    for (device, sends) in events.sentByDevice {
        let extra = sends.count - Set(sends.map(\.messageId)).count
        if extra > 0 { result[device] = extra }
    }
    return result
}
