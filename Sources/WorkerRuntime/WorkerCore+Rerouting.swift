import BroadcastModel
import DeviceWorker
import Foundation
import Kafka

/// Rerouting: a message whose campaign allows it (``BroadcastMessage/Reroute``) does not wait for a
/// device that stays paused: it is published again, same id, to the healthiest other device of the
/// campaign's pool, and its record here is finished with a `rerouted` event. One message at a time,
/// as each comes to the head of the paused device's lane, so the device's order is kept for the
/// messages that stay.
extension WorkerCore {
    private static let messageHeaders = [KafkaHeader(RecordSchema.messageHeader)]

    /// Moves the head of `dispatch`'s lane when its device is paused until `until` for at least the
    /// message's `afterSeconds` and a fit device is known. False: the message waits as before.
    func reroute(_ dispatch: Dispatch<LaneItem>, pausedUntil until: Date, reason: String) -> Bool {
        let message = dispatch.payload.message
        let now = Date()
        guard reason == StatusEvent.Reason.devicePaused, let reroute = message.reroute, let journal = deviceState,
              until.timeIntervalSince(now) >= reroute.afterSeconds,
              let target = journal.healthiestDevice(of: reroute.devices, excluding: message.deviceId, at: now)
        else { return false }
        var moved = message
        moved.deviceId = target
        let record = ProducerRecord(
            topic: configuration.topics.messages, key: Array(target.utf8), value: moved.encoded(), headers: Self.messageHeaders)
        logger.info("message rerouted from a paused device", metadata: [
            "from": "\(message.deviceId)", "to": "\(target)", "pausedUntil": "\(Timestamp.format(until))",
            "partition": "\(dispatch.partition)", "offset": "\(dispatch.offset)",
        ])
        // The head stays in flight (its lane waits) until the moved copy is acknowledged; only then
        // is this record finished, so a crash in between sends it on again (at least once), never loses it.
        Task {
            guard await publishAcknowledged(record, what: "rerouted message") else {
                putBack(dispatch, outcome: .hold(until: clock.instant(of: until), reason: reason))
                return
            }
            counters.rerouted.bump()
            var event = event(dispatch, .rerouted, at: Date(), reason: reason)
            event.deviceId = target
            event.fromDeviceId = message.deviceId
            finish(dispatch, outcome: .skipped, event: event)
        }
        return true
    }
}
