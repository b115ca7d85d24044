import Dispatch
import Foundation
import Kafka
import Synchronization

/// Writing devices' state records to `broadcast.devices`.
///
/// Sends do not write a record each. A device that sent joins `WorkerState.unsavedDevices`, and
/// every commit first takes a checkpoint: it writes one record for each of those devices, built
/// after their sends, and commits only once Kafka has acknowledged them all. So the state never lags
/// behind a committed offset (nor behind the finished offsets the commit metadata lists), and a
/// device that sends many times between two commits writes one record, not one per send.
/// Changes that must not wait for a commit (a pause, a parking, a count ahead of a capped send)
/// are written at once.
extension WorkerCore {
    /// Writes the device's state now (after a pause that holds its message), not tied to an offset.
    func writeDeviceState(_ device: String) {
        writeState(of: device) { _ in }
    }

    /// Writes the device's state record; `settle` runs once a record built after this call is
    /// acknowledged. While one record of the device is in flight, later calls wait for the next,
    /// which is built when that one is acknowledged and covers all of them: a device's records
    /// reach the topic in the order they were built, so compaction keeps the newest.
    func writeState(of device: String, settle: @escaping @Sendable (Bool) -> Void) {
        writeStates(of: [device], settle: settle)
    }

    /// ``writeState(of:settle:)`` for many devices at once; `settle` runs once per device.
    func writeStates(of devices: some Collection<String>, settle: @escaping @Sendable (Bool) -> Void) {
        let free = stateWrites.withLock { writes in
            devices.filter { device in
                if writes[device] != nil {
                    writes[device]?.append(settle)
                    return false
                }
                writes[device] = []
                return true
            }
        }
        publishStates(free.map { ($0, [settle]) })
    }

    /// Builds every record first, then produces them back to back, so that librdkafka packs each
    /// partition's share of a checkpoint into one batch: one request, and one fetch for each
    /// worker that follows the topic (the embedded brokers return one batch per fetch).
    private func publishStates(_ writes: [(device: String, waiting: [@Sendable (Bool) -> Void])]) {
        let built = writes.map { write in (write, deviceState?.record(for: write.device)) }
        for ((device, waiting), record) in built {
            guard let record else {
                stateWritten(device, waiting, acknowledged: true)
                continue
            }
            publishReliably(record, what: "device state") { [self] acknowledged in
                stateWritten(device, waiting, acknowledged: acknowledged)
            }
        }
    }

    /// A state record is settled: its waiters are told, and the calls that came meanwhile get the next one.
    private func stateWritten(_ device: String, _ waiting: [@Sendable (Bool) -> Void], acknowledged: Bool) {
        for settle in waiting { settle(acknowledged) }
        let next = stateWrites.withLock { writes -> [@Sendable (Bool) -> Void]? in
            guard let queued = writes[device], !queued.isEmpty else {
                writes[device] = nil
                return nil
            }
            writes[device] = []
            return queued
        }
        if let next { publishStates([(device, next)]) }
    }

    /// Blocking, under `commitGate`: writes the state of `devices` (taken from `unsavedDevices` in
    /// the same lock step as the commit points it guards) and waits until Kafka acknowledged every
    /// record, or `limit` passes. Returns whether all were acknowledged; when not, the devices are
    /// unsaved again and the caller must not commit.
    func saveDeviceStates(_ devices: Set<String>, within limit: Duration) -> Bool {
        guard !devices.isEmpty else { return true }
        let allAcknowledged = Atomic(false)
        let done = DispatchSemaphore(value: 0)
        let join = AcknowledgementJoin(expecting: devices.count) { acknowledged in
            allAcknowledged.store(acknowledged, ordering: .releasing)
            done.signal()
        }
        writeStates(of: devices, settle: join.settle)
        let answered = done.wait(timeout: .now() + limit.seconds) == .success
        guard answered, allAcknowledged.load(ordering: .acquiring) else {
            state.withLock { $0.unsavedDevices.formUnion(devices) }
            logger.warning("device state not acknowledged; the commit waits for it", metadata: [
                "devices": "\(devices.count)", "answered": "\(answered)",
            ])
            return false
        }
        return true
    }
}
