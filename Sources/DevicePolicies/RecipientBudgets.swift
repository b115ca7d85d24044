import BroadcastModel
import Crypto
import Foundation
import HTTPSenders
import Kafka
import Logging
import Synchronization
import WorkerRuntime

/// Meta's messaging limit per WhatsApp Business Account, shared by all its numbers on every
/// worker: at most N unique recipients in a rolling 24 hours.
///
/// Before a send of a number with a budget, the worker writes a ``RecipientClaim`` for the
/// recipient to the business's one partition of `broadcast.devices` and waits until the
/// device-state follower reads it back: the ledger replayed in log order (``RecipientBudgetLedger``)
/// then says granted (new recipient, within the limit), covered (already counted) or denied. Every
/// worker replays the same partition, so all reach the same verdicts; two workers racing for the
/// last slot get one each way, never both. A denied send waits until the window next opens.
public final class RecipientBudgets: Sendable {
    private enum Slot {
        case expected
        case waiting(CheckedContinuation<RecipientBudgetLedger.Verdict?, Never>)
        case decided(RecipientBudgetLedger.Verdict)
    }

    public let topic: String
    public let writer: String
    /// Device id → its business and that business's limit (only devices with a limit).
    private let budgets: [String: (business: String, limit: Int)]
    private let ledgers = Mutex<[String: RecipientBudgetLedger]>([:])
    private let slots = Mutex<[String: Slot]>([:])
    /// Partitions of `broadcast.devices` (set once the follower is assigned them): a business's
    /// claims go to one of them, the same on every worker.
    private let partitionCount = Atomic<Int32>(0)
    private let logger: Logger
    private static let headers = [KafkaHeader(name: RecordSchema.headerName, value: Array(RecordSchema.recipientClaim.utf8))]

    public init(devicesFile: DevicesFile, topic: String, writer: String, logger: Logger = Logger(label: "broadcast.budgets")) {
        var limits: [String: Int] = [:]
        for account in devicesFile.businesses {
            if let limit = account.uniqueRecipientsPerDay { limits[account.id] = limit }
        }
        var budgets: [String: (business: String, limit: Int)] = [:]
        for device in devicesFile.devices {
            if let business = device.business, let limit = limits[business] { budgets[device.id] = (business, limit) }
        }
        self.budgets = budgets
        self.topic = topic
        self.writer = writer
        self.logger = logger
    }

    /// Whether any device has a budget (a worker without one writes and waits for no claims).
    public var isEmpty: Bool { budgets.isEmpty }

    /// The business's partition: FNV-1a of its id, so every worker picks the same one.
    static func partition(of business: String, count: Int32) -> Int32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in business.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int32(hash % UInt64(count))
    }

    /// 32 hex digits of SHA-256 over the business and the number: claims name no phone.
    static func recipientHash(business: String, phone: String) -> String {
        let digest = SHA256.hash(data: Array("\(business)\n\(phone)".utf8))
        return digest.prefix(16).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    func setPartitionCount(_ count: Int) {
        partitionCount.store(Int32(clamping: count), ordering: .releasing)
    }

    /// Admits `message` under its business's budget: nil goes now; otherwise it waits until then.
    public func admit(
        _ message: BroadcastMessage, now: Date, timeout: Duration = .seconds(10),
        write: @escaping @Sendable (ProducerRecord) async -> Bool
    ) async -> (until: Date, reason: String)? {
        guard let budget = budgets[message.deviceId] else { return nil }
        let retry = (until: now.addingTimeInterval(5), reason: BudgetHoldReason.unknown)
        let partitions = partitionCount.load(ordering: .acquiring)
        guard partitions > 0 else { return retry }
        let claim = RecipientClaim(
            businessId: budget.business, recipient: Self.recipientHash(business: budget.business, phone: message.recipient.phone),
            claimId: UUID().uuidString.lowercased(), claimedAt: now, limit: budget.limit, deviceId: message.deviceId, writer: writer)
        let record = ProducerRecord(
            topic: topic, key: Array(claim.key.utf8), value: claim.encoded(), headers: Self.headers,
            partition: Self.partition(of: budget.business, count: partitions))
        // Expected before it is written: the follower may read it back before `write` returns.
        slots.withLock { $0[claim.claimId] = .expected }
        guard await write(record) else {
            slots.withLock { $0[claim.claimId] = nil }
            return retry
        }
        switch await verdict(of: claim.claimId, timeout: timeout) {
        case .granted?, .covered?:
            return nil
        case .denied?:
            let opening = ledgers.withLock { $0[budget.business]?.nextOpening(after: now) } ?? now.addingTimeInterval(60)
            logger.info("business budget reached; the send waits for the window", metadata: [
                "business": "\(budget.business)", "device": "\(message.deviceId)", "limit": "\(budget.limit)",
                "until": "\(Timestamp.format(opening))",
            ])
            return (max(opening, now.addingTimeInterval(1)), BudgetHoldReason.exhausted)
        case nil:
            logger.warning("no verdict for a recipient claim in time; asking again", metadata: [
                "business": "\(budget.business)", "device": "\(message.deviceId)", "timeout": "\(timeout)",
            ])
            return retry
        }
    }

    private func verdict(of claimId: String, timeout: Duration) async -> RecipientBudgetLedger.Verdict? {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<RecipientBudgetLedger.Verdict?, Never>) in
            let decided = slots.withLock { slots -> RecipientBudgetLedger.Verdict? in
                if case .decided(let verdict) = slots[claimId] {
                    slots[claimId] = nil
                    return verdict
                }
                slots[claimId] = .waiting(continuation)
                return nil
            }
            if let decided {
                continuation.resume(returning: decided)
                return
            }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                let waiting = slots.withLock { slots -> CheckedContinuation<RecipientBudgetLedger.Verdict?, Never>? in
                    guard case .waiting(let continuation) = slots[claimId] else { return nil }
                    slots[claimId] = nil
                    return continuation
                }
                waiting?.resume(returning: nil)
            }
        }
        return result
    }

    /// A claim read from the topic (any worker's, this one's included), in partition order.
    func absorb(_ claim: RecipientClaim) {
        let verdict = ledgers.withLock { ledgers in
            ledgers[claim.businessId, default: RecipientBudgetLedger()].apply(claim)
        }
        let waiting = slots.withLock { slots -> CheckedContinuation<RecipientBudgetLedger.Verdict?, Never>? in
            switch slots[claim.claimId] {
            case .expected?:
                slots[claim.claimId] = .decided(verdict)
                return nil
            case .waiting(let continuation)?:
                slots[claim.claimId] = nil
                return continuation
            case .decided?, nil:
                return nil
            }
        }
        waiting?.resume(returning: verdict)
    }

    /// Unique recipients counted for `business` now, as read so far.
    public func used(by business: String, at instant: Date = Date()) -> Int {
        ledgers.withLock { $0[business]?.used(at: instant) ?? 0 }
    }
}
