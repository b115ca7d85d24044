import BroadcastModel
import DeviceWorker
import Foundation
import Kafka
import Logging
import Senders

extension WorkerCore {
    /// Dispatcher thread: takes every lane whose turn has come. Returns them with the next wake-up.
    func takeDue() -> (dispatches: [Dispatch<LaneItem>], wakeUp: Double?) {
        state.withLock { state in
            // No new sends while stopping, or while a rebalance that refused our commit is under way:
            // whatever finishes now could not be committed before the hand-over.
            guard !state.stopping, !state.commitsSuspended else { return ([], nil) }
            // At the bound on sends in flight, wait for a completion (it signals) rather than a timer.
            let room = configuration.maxSendsInFlight - state.scheduler.inFlightCount
            guard room > 0 else { return ([], nil) }
            let due = state.scheduler.takeDue(now: clock.now, limit: room)
            for dispatch in due {
                state.partitions[dispatch.partition]?.inProgress += 1
            }
            counters.sendsInFlight.store(state.scheduler.inFlightCount)
            return (due, due.count == room ? nil : state.scheduler.nextWakeUp)
        }
    }

    /// A send task: one attempt for the head of one lane.
    func perform(_ dispatch: Dispatch<LaneItem>) async {
        let message = dispatch.payload.message
        let now = Date()
        if let expiresAt = message.expiresAt, expiresAt <= now {
            counters.expired.bump()
            finish(dispatch, outcome: .skipped, event: event(dispatch, .expired, at: now))
            return
        }
        // A device of a partition taken over before the device state was read may be parked: its
        // parked records go first, so nothing is sent until parked devices are known.
        if adoptionOutstanding.load(ordering: .acquiring) {
            putBack(dispatch, outcome: .hold(until: clock.now + 1, reason: DeviceStateHoldReason.loading))
            return
        }
        switch policy.decide(message, attempt: dispatch.attempt, now: now) {
        case .skip(let reason):
            counters.skipped.bump()
            finish(dispatch, outcome: .skipped, event: event(dispatch, .skipped, at: now, reason: reason))
        case .hold(let until, let reason):
            hold(dispatch, until: until, reason: reason)
        case .send(let outgoing):
            // A budget shared with other numbers (a business's unique recipients) is claimed first.
            if let journal = deviceState,
               let wait = await journal.admit(message, now: now, write: { [self] in await publishAcknowledged($0, what: "recipient claim") }) {
                // An exhausted budget is visible where operators look, once per hold: the message
                // waits (for hours, perhaps) and is not dropped.
                let announce = wait.reason == BudgetHoldReason.exhausted
                if announce { publishStatus(event(dispatch, .retrying, at: now, reason: wait.reason)) }
                hold(dispatch, until: wait.until, reason: wait.reason, announced: announce)
                return
            }
            // A capped device's send is counted on the topic before it is made: a worker killed
            // mid-send then hands over a count that includes it.
            if let ahead = deviceState?.recordBeforeSending(message, at: now) {
                guard await publishAcknowledged(ahead, what: "device state before a send") else {
                    // Only when stopping: the message stays unfinished for the next owner.
                    putBack(dispatch, outcome: .hold(until: clock.now + 1, reason: DeviceStateHoldReason.write))
                    return
                }
            }
            if configuration.emitProcessingEvents {
                publishStatus(event(dispatch, .processing, at: now))
            }
            do {
                let receipt = try await senders.sender(for: message.deviceId).send(outgoing)
                let sentAt = Date()
                policy.didSend(message, at: sentAt)
                counters.sent.bump()
                finish(dispatch, outcome: .sent, event: event(dispatch, .sent, at: sentAt, providerMessageId: receipt.providerMessageId))
            } catch {
                failed(dispatch, error)
            }
        }
    }

    private func failed(_ dispatch: Dispatch<LaneItem>, _ failure: SendFailure) {
        let message = dispatch.payload.message
        let now = Date()
        let pausedUntil = policy.didFail(message, failure: failure, at: now)
        if let pausedUntil {
            logger.warning("device paused after a ban-like error", metadata: [
                "device": "\(message.deviceId)", "until": "\(Timestamp.format(pausedUntil))", "error": "\(failure.code)",
            ])
        }
        // A timed-out attempt may have reached the recipient: the event says so, and its retry is
        // paced like any other send (the outcome below).
        let detail = failure.outcomeUnknown
            ? "attempt \(dispatch.attempt) outcome unknown (it may have been delivered): \(failure.message)" : failure.message
        let info = StatusEvent.ErrorInfo(code: failure.code, message: detail, retryable: failure.isRetryable)
        if failure.holdsMessage, let pausedUntil {
            writeDeviceState(message.deviceId)
            // Configuration or token error: the message is not at fault; it waits for the device.
            publishStatus(event(dispatch, .retrying, at: now, reason: StatusEvent.Reason.devicePaused, error: info))
            hold(dispatch, until: pausedUntil, reason: StatusEvent.Reason.devicePaused, announced: true)
            return
        }
        var random = SystemRandomNumberGenerator()
        if failure.isRetryable,
           let delay = configuration.retryPolicy.nextDelay(afterAttempt: dispatch.attempt, retryAfter: retryAfter(failure), using: &random) {
            counters.retried.bump()
            publishStatus(event(dispatch, .retrying, at: now, error: info))
            putBack(dispatch, outcome: failure.outcomeUnknown ? .retryAfterUnknownOutcome(after: delay) : .retry(after: delay))
            return
        }
        counters.failed.bump()
        // The attempt reached the provider, so it counts for pacing like a send.
        finish(dispatch, outcome: .sent, event: event(dispatch, .failed, at: now, error: info))
    }

    private func retryAfter(_ failure: SendFailure) -> Double? {
        if case .retryable(_, _, let after) = failure { return after }
        return nil
    }

    /// The head goes back to its lane (retry or hold): it is no longer in progress. `then` runs in
    /// the same lock step, with the lane as it is now (see `hold`).
    func putBack(_ dispatch: Dispatch<LaneItem>, outcome: LaneOutcome, then: (inout WorkerState) -> Void = { _ in }) {
        state.withLock { state in
            _ = try? state.scheduler.complete(device: dispatch.device, outcome: outcome, now: clock.now)
            state.settle(partition: dispatch.partition, offset: dispatch.offset, epoch: dispatch.payload.epoch, done: false)
            then(&state)
        }
        settled.signal()
        wakeDispatcher.signal()
    }

    /// The head is finished: the lane moves on, and the record is done once its final event is
    /// acknowledged. A send also leaves its device's state to save: the next checkpoint writes it
    /// before any commit covers this record (see `WorkerCore+DeviceState`).
    func finish(_ dispatch: Dispatch<LaneItem>, outcome: LaneOutcome, event: StatusEvent) {
        let result = state.withLock { state in
            let result = try? state.scheduler.complete(device: dispatch.device, outcome: outcome, now: clock.now)
            // Even when revoked meanwhile: the request reached the provider, so the hand-over's
            // checkpoint carries it.
            if outcome == .sent, !dispatch.payload.rewound, deviceState != nil { state.unsavedDevices.insert(dispatch.device) }
            if case .finished = result {
                state.awaitingAcknowledgement += 1
                if dispatch.payload.rewound { rewoundFinished(dispatch, state: &state) }
            }
            return result
        }
        wakeDispatcher.signal()
        guard case .finished = result else {
            // Revoked while in flight and not finished: the next owner handles it.
            release(dispatch, done: false)
            return
        }
        let settle: @Sendable (Bool) -> Void = { [self] acknowledged in
            release(dispatch, done: acknowledged, acknowledgement: true)
        }
        // A record read again after parking moves the device's parking on, whatever its outcome:
        // it is done only when both that record and its final event are acknowledged.
        guard dispatch.payload.rewound, deviceState != nil else {
            publishReliably(statusRecord(event), what: "status event", settle: settle)
            return
        }
        let join = AcknowledgementJoin(expecting: 2, done: settle)
        writeState(of: dispatch.device, settle: join.settle)
        publishReliably(statusRecord(event), what: "status event", settle: join.settle)
    }

    /// ``publishReliably(_:what:attempt:settle:)`` for a send task that waits on the outcome.
    func publishAcknowledged(_ record: ProducerRecord, what: String) async -> Bool {
        await withCheckedContinuation { continuation in
            publishReliably(record, what: what) { continuation.resume(returning: $0) }
        }
    }

    /// Produces `record` until Kafka acknowledges it, backing off between tries, so that a broker
    /// outage delays progress instead of losing or repeating a send. Gives up only when stopping:
    /// the record then stays unfinished and its next owner handles it again.
    func publishReliably(_ record: ProducerRecord, what: String, attempt: Int = 0, settle: @escaping @Sendable (Bool) -> Void) {
        let retry: @Sendable (KafkaError) -> Void = { [self] error in
            logger.error("\(what) not written", metadata: ["error": "\(error)", "attempt": "\(attempt + 1)"])
            if state.withLock({ $0.stopping }) {
                settle(false)
                return
            }
            Task {
                try? await Task.sleep(for: .seconds(min(30, 1 << min(attempt, 5))))
                publishReliably(record, what: what, attempt: attempt + 1, settle: settle)
            }
        }
        do {
            try producer.produce(record) { result in
                switch result {
                case .success: settle(true)
                case .failure(let error): retry(error)
                }
            }
        } catch {
            retry(error)
        }
    }

    /// The record is settled: done (its final event acknowledged) or left for the next owner.
    /// `acknowledgement` says it was counted as awaiting one. Asks the gate in the same lock: this
    /// runs once per finished record, and an acknowledgement may be what lets fetching resume.
    func release(_ dispatch: Dispatch<LaneItem>, done: Bool, acknowledgement: Bool = false) {
        state.withLock { state in
            if acknowledgement { state.awaitingAcknowledgement -= 1 }
            // A record read again is done in its tracker already; its progress is the parking record.
            state.settle(partition: dispatch.partition, offset: dispatch.offset, epoch: dispatch.payload.epoch, done: done && !dispatch.payload.rewound)
            updateGate(&state)
        }
        settled.signal()
    }

    func event(
        _ dispatch: Dispatch<LaneItem>, _ status: MessageStatus, at: Date, reason: String? = nil,
        providerMessageId: String? = nil, error: StatusEvent.ErrorInfo? = nil
    ) -> StatusEvent {
        StatusEvent(
            for: dispatch.payload.message, status: status, at: at, attempt: dispatch.attempt, reason: reason,
            providerMessageId: providerMessageId, error: error, worker: configuration.workerName,
            partition: dispatch.partition, offset: dispatch.offset
        )
    }

    /// Built once: every status event carries the same header.
    private static let statusHeaders = [KafkaHeader(RecordSchema.statusHeader)]

    func statusRecord(_ event: StatusEvent) -> ProducerRecord {
        ProducerRecord(
            topic: configuration.topics.status, key: Array(event.messageId.utf8), value: event.encoded(),
            headers: Self.statusHeaders
        )
    }

    /// Intermediate events (processing, retrying, dead_lettered): best effort, nothing waits on them.
    func publishStatus(_ event: StatusEvent) {
        do {
            try producer.produce(statusRecord(event)) { [logger] result in
                if case .failure(let error) = result {
                    logger.warning("status event not written", metadata: ["status": "\(event.status.rawValue)", "error": "\(error)"])
                }
            }
        } catch {
            logger.warning("status event not written", metadata: ["status": "\(event.status.rawValue)", "error": "\(error)"])
        }
    }

    // MARK: Dead letters

    func deadLetter(partition: Int32, offset: Int64, epoch: UInt64, verdict: IntakeVerdict) {
        guard case let .deadLetter(reason, error, key, value, message) = verdict else { return }
        let now = Date()
        let letter = DeadLetter(
            reason: reason, error: error, sourceTopic: configuration.topics.messages,
            sourcePartition: partition, sourceOffset: offset, worker: configuration.workerName, at: now
        )
        let record = ProducerRecord(
            topic: configuration.topics.deadLetters, key: key, value: value,
            headers: letter.headers().map { KafkaHeader(name: $0.0, value: $0.1) }
        )
        logger.warning("record dead-lettered", metadata: [
            "reason": "\(reason.rawValue)", "partition": "\(partition)", "offset": "\(offset)", "error": "\(error)",
        ])
        counters.deadLettered.bump()
        if let message {
            let event = StatusEvent(
                for: message, status: .deadLettered, at: now, reason: reason.rawValue,
                error: StatusEvent.ErrorInfo(code: reason.rawValue, message: error, retryable: false),
                worker: configuration.workerName, partition: partition, offset: offset
            )
            publishStatus(event)
        }
        publishReliably(record, what: "dead letter") { [self] done in
            state.withLock { state in
                state.awaitingAcknowledgement -= 1
                state.settle(partition: partition, offset: offset, epoch: epoch, done: done)
                updateGate(&state)
            }
            settled.signal()
        }
    }
}
