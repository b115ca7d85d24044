import BroadcastModel
import Foundation
import Kafka
import Logging

/// The `broadcast.devices` topic as ops tools see it: every device's latest safety state, and an
/// operator's pause, resume or retire of one device.
public enum DeviceStates {
    /// What was read: each device's merged state, and the keys whose records could not be read.
    public struct Snapshot: Sendable {
        public var devices: [String: DeviceStateRecord] = [:]
        public var unreadable: [String: String] = [:]
        /// Each business's recipient claims replayed as workers replay them, with its latest limit.
        public var budgets: [String: (ledger: RecipientBudgetLedger, limit: Int)] = [:]
    }

    /// Reads the topic to its end; records are merged per device as workers merge them.
    public static func read(
        client: KafkaClientOptions, topics: TopicNames, timeout: Duration = .seconds(60),
        logger: Logger = Logger(label: "broadcast.devices")
    ) async throws(OperationsError) -> Snapshot {
        let stream = try await TopicStream(client: client, topic: topics.devices, logger: logger)
        var snapshot = Snapshot()
        do {
            try await stream.readToEnd(timeout: timeout) { batch in
                for message in batch {
                    guard let key = message.keyString, let value = message.valueBytes else { continue }
                    if RecipientClaim.isClaimKey(key) {
                        // Unreadable claims count for no worker's budget either.
                        guard let claim = try? RecipientClaim.decodeValidated(key: key, value: value) else { continue }
                        var budget = snapshot.budgets[claim.businessId] ?? (RecipientBudgetLedger(), claim.limit)
                        _ = budget.ledger.apply(claim)
                        budget.limit = claim.limit
                        snapshot.budgets[claim.businessId] = budget
                        continue
                    }
                    do {
                        let record = try DeviceStateRecord.decodeValidated(key: key, value: value)
                        snapshot.unreadable[key] = nil
                        snapshot.devices[key] = snapshot.devices[key].map { $0.merged(with: record) } ?? record
                    } catch {
                        snapshot.unreadable[key] = "\(error)"
                    }
                }
            }
        } catch let error as OperationsError {
            await stream.close()
            throw error
        } catch {
            await stream.close()
            throw .invalidArgument("\(error)")
        }
        await stream.close()
        return snapshot
    }

    /// Records an operator's decision for one device: the device's whole current state with the
    /// decision, so compaction (which keeps only this record) loses none of its history. Workers
    /// follow it within a poll or two.
    @discardableResult
    public static func decide(
        _ status: DeviceStateRecord.OperatorStatus, device deviceId: String, by: String,
        client: KafkaClientOptions, producer: KafkaProducer, topics: TopicNames, now: Date = Date(),
        logger: Logger = Logger(label: "broadcast.devices")
    ) async throws(OperationsError) -> DeviceStateRecord {
        guard !deviceId.isEmpty else { throw .invalidArgument("a device id is required") }
        let current = try await read(client: client, topics: topics, logger: logger).devices[deviceId]
        var record = current ?? DeviceStateRecord(deviceId: deviceId, updatedAt: now, writer: by)
        record.updatedAt = max(now, record.updatedAt)
        record.writer = by
        // The latest decision wins on every worker: it must be later than the one it replaces.
        let at = max(now, (record.operatorDecision?.at ?? .distantPast).addingTimeInterval(0.001))
        record.operatorDecision = .init(status: status, at: at, by: by)
        do throws(ValidationError) { try record.validate() } catch { throw .invalidArgument("device state refused: \(error)") }
        do {
            _ = try await producer.send(ProducerRecord(
                topic: topics.devices, key: Array(deviceId.utf8), value: record.encoded(),
                headers: [KafkaHeader(name: RecordSchema.headerName, value: Array(RecordSchema.device.utf8))]))
        } catch {
            throw .kafka(error)
        }
        return record
    }
}
