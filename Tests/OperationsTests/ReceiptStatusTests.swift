import BroadcastModel
import Foundation
@testable import Operations
import Testing

/// Receipts from `broadcast webhooks` (no owner or campaign, Meta's whole-second clock) folded by the
/// board and the SQLite projection.
@Suite struct ReceiptStatusTests {
    static let base = Date(timeIntervalSince1970: 1_764_669_600.750)

    static func sent(_ id: String, at offset: Double = 0) -> StatusEvent {
        StatusEvent(
            messageId: id, userId: "user-1", deviceId: "dev-1", campaignId: "cmp-1", recipientPhone: "+60123456778",
            status: .sent, attempt: 1, at: base.addingTimeInterval(offset), providerMessageId: "wamid.\(id)", worker: "w1")
    }

    /// As the receiver writes them: no owner or origin, device from the phone number id, seconds only.
    static func receipt(_ id: String, _ status: MessageStatus, at offset: Double = 0) -> StatusEvent {
        StatusEvent(
            messageId: id, userId: "", deviceId: "whatsapp-cloud:1098765", recipientPhone: "+60123456778", status: status,
            reason: status == .failed ? StatusEvent.Reason.afterSent : nil,
            at: Date(timeIntervalSince1970: (base.timeIntervalSince1970 + offset).rounded(.down)), providerMessageId: "wamid.\(id)",
            error: status == .failed ? .init(code: "131047", message: "Re-engagement message", retryable: false) : nil, worker: "webhooks")
    }

    static var stream: [StatusEvent] {
        [
            sent("a"), receipt("a", .delivered), receipt("a", .read, at: 5),   // read
            sent("b"), receipt("b", .read),                                     // read without delivered
            sent("c"), receipt("c", .delivered), receipt("c", .failed, at: 9),  // failed after sent
            sent("d"), receipt("d", .delivered),                                // delivered (same second, Meta's clock earlier)
            sent("e"),                                                          // only sent
        ]
    }

    @Test func theBoardCountsDeliveredAndReadRatesInAnyOrder() {
        for events in [Self.stream, Self.stream.reversed()] {
            var board = StatusBoard()
            for event in events { board.apply(event) }
            let snapshot = board.snapshot(now: Self.base.addingTimeInterval(60))
            let counts = snapshot.total.counts
            #expect(counts.read == 2 && counts.delivered == 1 && counts.sent == 1 && counts.failed == 1, "\(counts)")
            #expect(counts.accepted == 4 && counts.reachedPhone == 3)
            #expect(counts.deliveredRate == 0.75 && counts.readRate == 0.5)
            // Receipts stay with their campaign and device.
            #expect(snapshot.scopes.map(\.id) == ["cmp-1"])
            #expect(snapshot.devices.map(\.id) == ["dev-1"])
            #expect(board.latestEntry(for: "c")?.status == .failed)
        }
    }

    @Test func theProjectionKeepsOwnerAndOriginAcrossReceipts() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("receipts-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try StatusProjectionStore(path: path)
        // Receipt first (it can overtake the worker's sent on another producer), then the rest.
        let events = [Self.receipt("b", .read)] + Self.stream.filter { !($0.messageId == "b" && $0.status == .read) }
        let records = events.enumerated().map { StatusRecord(partition: 0, offset: Int64($0.offset), event: $0.element) }
        _ = try await store.apply(records, topic: "t")
        let messages = Dictionary(uniqueKeysWithValues: try await store.messages().map { ($0.messageId, $0) })
        #expect(messages["a"]?.status == .read && messages["b"]?.status == .read && messages["c"]?.status == .failed)
        #expect(messages["d"]?.status == .delivered && messages["e"]?.status == .sent)
        for id in ["a", "b", "c", "d"] {
            #expect(messages[id]?.userId == "user-1" && messages[id]?.campaignId == "cmp-1", "\(id): \(String(describing: messages[id]))")
        }
        #expect(messages["a"]?.deviceId == "dev-1" && messages["b"]?.deviceId == "dev-1")
        #expect(messages["c"]?.errorCode == "131047" && messages["c"]?.reason == "after_sent")
        let campaign = try await store.messages(campaignId: "cmp-1")
        #expect(campaign.count == 5)
        // The report shows the receipts and the rates over what the provider accepted.
        let report = RecipientReport(kind: .campaign, id: "cmp-1", messages: campaign)
        #expect(report.totals.read == 2 && report.totals.delivered == 1 && report.totals.deliveredRate == 0.75)
        let csv = report.csv(section: .steps)
        #expect(csv.hasPrefix("scope,key,total,queued,processing,sent,retrying,failed,skipped,expired,dead_lettered,rerouted,delivered,read,delivered_rate,read_rate\n"))
        #expect(csv.contains(",1,2,0.750,0.500"), "\(csv)")
        try store.close()
    }
}
