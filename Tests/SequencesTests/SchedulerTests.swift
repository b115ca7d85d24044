import BroadcastModel
import Foundation
import Kafka
import Sequences
import Testing
import BroadcastTesting

/// A store that fails to record progress a given number of times: a crash between publish and record.
struct CrashingStore: SequenceStore {
    let base: SQLiteSequenceStore
    let failuresLeft: Locked<Int>

    struct Crash: Error {}

    func define(_ sequence: SequenceDefinition, at now: Date) async throws(SequenceStoreError) -> DefineOutcome { try await base.define(sequence, at: now) }
    func sequence(id: String) async throws(SequenceStoreError) -> SequenceDefinition? { try await base.sequence(id: id) }
    func sequences() async throws(SequenceStoreError) -> [SequenceDefinition] { try await base.sequences() }
    func enroll(_ contacts: [Contact], in sequenceId: String, at now: Date) async throws(SequenceStoreError) -> EnrolOutcome { try await base.enroll(contacts, in: sequenceId, at: now) }
    func stop(phone: String, reason: String, at now: Date) async throws(SequenceStoreError) -> [String] { try await base.stop(phone: phone, reason: reason, at: now) }
    func summaries() async throws(SequenceStoreError) -> [SequenceSummary] { try await base.summaries() }
    func activeEnrolments() async throws(SequenceStoreError) -> [Enrolment] { try await base.activeEnrolments() }
    func enrolments(sequenceId: String?) async throws(SequenceStoreError) -> [Enrolment] { try await base.enrolments(sequenceId: sequenceId) }

    func advance(enrolmentId: Int64, from: Int, to: Int, finish: Finish?, at now: Date) async throws(SequenceStoreError) -> AdvanceOutcome {
        let crash = failuresLeft.withLock { left in
            defer { left = max(0, left - 1) }
            return left > 0
        }
        if crash { throw .database(operation: "simulated crash after publish", reason: "injected") }
        return try await base.advance(enrolmentId: enrolmentId, from: from, to: to, finish: finish, at: now)
    }
}

@Suite("Scheduler on the embedded cluster", .serialized)
struct SchedulerTests {
    let contacts = [
        Contact(phone: "+60123456701", name: "Aisyah", deviceId: "dev-a", attributes: ["city": "Kuala Lumpur"]),
        Contact(phone: "+60123456702", name: "Ben", deviceId: "dev-a"),
        Contact(phone: "+60123456703", name: nil, deviceId: "dev-b"),
    ]

    func decodeMessages(_ records: [ReadRecord]) throws -> [BroadcastMessage] {
        try records.map { record in
            #expect(record.schema == RecordSchema.message)
            let message = try BroadcastMessage.decodeValidated(from: record.value)
            #expect(record.key == message.deviceId)
            #expect(message.source == .sequence)
            return message
        }
    }

    func decodeStatuses(_ records: [ReadRecord]) throws -> [StatusEvent] {
        try records.map { record in
            #expect(record.schema == RecordSchema.status)
            let event = try StatusEvent.decodeValidated(from: record.value)
            #expect(record.key == event.messageId)
            #expect(event.status == .queued)
            return event
        }
    }

    @Test func runOncePublishesExactlyTheDueSteps() async throws {
        let kafka = try TestCluster()
        let temp = try TempStore()
        let producer = try kafka.producer()
        let scheduler = SequenceScheduler(store: temp.store, producer: producer, topics: kafka.topics)

        _ = try await temp.store.define(try SequenceFile.parse(welcomeYAML()), at: utc("2026-05-01T00:00:00Z"))
        // 10:00 in Kuala Lumpur on 1 June.
        _ = try await temp.store.enroll(contacts, in: "welcome", at: utc("2026-06-01T02:00:00Z"))
        // Enrolled at 20:00 in Kuala Lumpur: day 0 has closed, so this contact starts on 2 June.
        _ = try await temp.store.enroll([Contact(phone: "+60123456704", deviceId: "dev-b")], in: "welcome", at: utc("2026-06-01T12:00:00Z"))

        let first = try await scheduler.runOnce(at: utc("2026-06-01T12:00:30Z"))
        #expect(first.published == ["seq-welcome-1-0", "seq-welcome-2-0", "seq-welcome-3-0"])
        #expect(first.advanced == 3)
        #expect(try await scheduler.runOnce(at: utc("2026-06-01T12:01:00Z")).published.isEmpty)
        // Day 1 for the first three is "tips" at 10:00 = 02:00Z; the late contact's day 0 opens at 09:00 = 01:00Z.
        #expect(try await scheduler.runOnce(at: utc("2026-06-02T00:59:59Z")).published.isEmpty)
        #expect(try await scheduler.runOnce(at: utc("2026-06-02T01:00:00Z")).published == ["seq-welcome-4-0"])
        let second = try await scheduler.runOnce(at: utc("2026-06-02T02:00:00Z"))
        #expect(second.published == ["seq-welcome-1-1", "seq-welcome-2-1", "seq-welcome-3-1"])
        await producer.close()

        let messages = try decodeMessages(try await kafka.readAll(kafka.topics.messages, count: 7))
        #expect(Set(messages.map(\.id)) == [
            "seq-welcome-1-0", "seq-welcome-2-0", "seq-welcome-3-0", "seq-welcome-4-0",
            "seq-welcome-1-1", "seq-welcome-2-1", "seq-welcome-3-1",
        ])
        let tips = try #require(messages.first { $0.id == "seq-welcome-1-1" })
        #expect(tips.sequenceId == "welcome")
        #expect(tips.sequenceStepId == "tips")
        #expect(tips.userId == "user-1")
        #expect(tips.recipient == .init(phone: "+60123456701", name: "Aisyah"))
        #expect(tips.attributes == ["city": "Kuala Lumpur"])
        #expect(tips.content.text == "Here are three tips, {name}.")
        #expect(tips.scheduledAt == utc("2026-06-02T02:00:00Z"))
        #expect(tips.expiresAt == utc("2026-06-02T04:00:00Z"))
        let late = try #require(messages.first { $0.id == "seq-welcome-4-0" })
        #expect(late.scheduledAt == utc("2026-06-02T01:00:00Z"))
        #expect(late.expiresAt == utc("2026-06-02T10:00:00Z"))

        let statuses = try decodeStatuses(try await kafka.readAll(kafka.topics.status, count: 7))
        #expect(Set(statuses.map(\.messageId)) == Set(messages.map(\.id)))
        #expect(statuses.allSatisfy { $0.sequenceId == "welcome" && $0.sequenceStepId != nil })

        let enrolments = try await temp.store.enrolments(sequenceId: "welcome")
        #expect(enrolments.map(\.currentStep) == [2, 2, 2, 1])
        #expect(enrolments.allSatisfy { $0.state == .active })
    }

    @Test func aCrashBetweenPublishAndProgressRepublishesTheSameIds() async throws {
        let kafka = try TestCluster()
        let temp = try TempStore()
        let producer = try kafka.producer()
        let store = CrashingStore(base: temp.store, failuresLeft: Locked(1))
        let scheduler = SequenceScheduler(store: store, producer: producer, topics: kafka.topics)
        _ = try await store.define(try SequenceFile.parse(welcomeYAML()), at: utc("2026-05-01T00:00:00Z"))
        _ = try await store.enroll(Array(contacts.prefix(2)), in: "welcome", at: utc("2026-06-01T02:00:00Z"))

        let now = utc("2026-06-01T03:00:00Z")
        await #expect(throws: SchedulerError.self) { try await scheduler.runOnce(at: now) }
        // The crash left both enrolments at step 0: nothing was recorded, nothing skipped.
        #expect(try await temp.store.enrolments(sequenceId: "welcome").map(\.currentStep) == [0, 0])

        let retry = try await scheduler.runOnce(at: now.addingTimeInterval(5))
        #expect(retry.published == ["seq-welcome-1-0", "seq-welcome-2-0"])
        #expect(retry.advanced == 2)
        #expect(try await temp.store.enrolments(sequenceId: "welcome").map(\.currentStep) == [1, 1])
        #expect(try await scheduler.runOnce(at: now.addingTimeInterval(10)).published.isEmpty)
        await producer.close()

        // Both passes published: each id twice, never a new one (the worker dedupes by id).
        let messages = try decodeMessages(try await kafka.readAll(kafka.topics.messages, count: 4))
        #expect(messages.map(\.id).sorted() == ["seq-welcome-1-0", "seq-welcome-1-0", "seq-welcome-2-0", "seq-welcome-2-0"])
        let statuses = try decodeStatuses(try await kafka.readAll(kafka.topics.status, count: 4))
        #expect(Set(statuses.map(\.messageId)) == ["seq-welcome-1-0", "seq-welcome-2-0"])
    }

    @Test func stopEndsTheContactsActiveSequences() async throws {
        let kafka = try TestCluster()
        let temp = try TempStore()
        let producer = try kafka.producer()
        let scheduler = SequenceScheduler(store: temp.store, producer: producer, topics: kafka.topics)
        _ = try await temp.store.define(try SequenceFile.parse(welcomeYAML()), at: utc("2026-05-01T00:00:00Z"))
        _ = try await temp.store.define(try SequenceFile.parse(welcomeYAML(id: "other", timeZone: "America/New_York")), at: utc("2026-05-01T00:00:00Z"))
        _ = try await temp.store.enroll(Array(contacts.prefix(2)), in: "welcome", at: utc("2026-06-01T02:00:00Z"))
        _ = try await temp.store.enroll(Array(contacts.prefix(1)), in: "other", at: utc("2026-06-01T02:00:00Z"))

        #expect(try await scheduler.runOnce(at: utc("2026-06-01T03:00:00Z")).published == ["seq-welcome-1-0", "seq-welcome-2-0"])
        let stopped = try await temp.store.stop(phone: "+60123456701", reason: "reply", at: utc("2026-06-01T05:00:00Z"))
        #expect(Set(stopped) == ["welcome", "other"])
        #expect(try await temp.store.stop(phone: "+60123456701", reason: "reply", at: utc("2026-06-01T05:00:00Z")).isEmpty)

        // Day 1 for welcome and well into day 0 for other (New York): only the second contact goes on.
        let next = try await scheduler.runOnce(at: utc("2026-06-02T14:00:00Z"))
        #expect(next.published == ["seq-welcome-2-1"])
        await producer.close()

        let states = try await temp.store.enrolments(sequenceId: nil).map { "\($0.sequenceId):\($0.contact.phone):\($0.state.rawValue)" }
        #expect(states == ["welcome:+60123456701:stopped", "welcome:+60123456702:active", "other:+60123456701:stopped"])
        let summaries = try await temp.store.summaries()
        #expect(summaries.first { $0.id == "welcome" }?.counts == [.stopped: 1, .active: 1])
        _ = try decodeMessages(try await kafka.readAll(kafka.topics.messages, count: 3))
    }

    @Test func theLastStepHandsTheContactOverToTheNextSequence() async throws {
        let kafka = try TestCluster()
        let temp = try TempStore()
        let producer = try kafka.producer()
        let scheduler = SequenceScheduler(store: temp.store, producer: producer, topics: kafka.topics)
        let onboarding = """
        id: onboarding
        userId: user-1
        timeZone: Asia/Kuala_Lumpur
        window: { start: "09:00", end: "18:00" }
        delay: { minSeconds: 5, maxSeconds: 10 }
        handOver: nurture
        steps:
          - { id: hi, dayOffset: 0, content: { text: "Hi {name}" } }
          - { id: bye, dayOffset: 1, content: { text: "Bye {name}" } }
        """
        _ = try await temp.store.define(try SequenceFile.parse(onboarding), at: utc("2026-05-01T00:00:00Z"))
        _ = try await temp.store.enroll([contacts[0]], in: "onboarding", at: utc("2026-06-01T02:00:00Z"))

        #expect(try await scheduler.runOnce(at: utc("2026-06-01T02:00:10Z")).published == ["seq-onboarding-1-0"])
        // The last step is published while "nurture" is not defined yet: progress is kept, the hand-over waits.
        let waiting = try await scheduler.runOnce(at: utc("2026-06-02T03:00:00Z"))
        #expect(waiting.published == ["seq-onboarding-1-1"])
        #expect(waiting.pendingHandOvers == 1)
        #expect(try await temp.store.enrolments(sequenceId: "onboarding").map(\.state) == [.active])

        _ = try await temp.store.define(try SequenceFile.parse(welcomeYAML(id: "nurture")), at: utc("2026-06-02T03:30:00Z"))
        let handOverAt = utc("2026-06-02T04:00:00Z")
        let handed = try await scheduler.runOnce(at: handOverAt)
        #expect(handed.published.isEmpty)
        #expect(handed.handedOver == 1)

        let onboardingEnrolment = try #require(try await temp.store.enrolments(sequenceId: "onboarding").first)
        #expect(onboardingEnrolment.state == .handedOver)
        #expect(onboardingEnrolment.currentStep == 2)
        let nurture = try #require(try await temp.store.enrolments(sequenceId: "nurture").first)
        #expect(nurture.state == .active)
        #expect(nurture.enrolledAt == handOverAt)
        #expect(nurture.contact == contacts[0])

        // 12:00 in Kuala Lumpur: nurture's day 0 is open, so its first step goes out on the next pass.
        #expect(try await scheduler.runOnce(at: utc("2026-06-02T04:00:05Z")).published == ["seq-nurture-2-0"])
        await producer.close()

        let messages = try decodeMessages(try await kafka.readAll(kafka.topics.messages, count: 3))
        let last = try #require(messages.first { $0.id == "seq-nurture-2-0" })
        #expect(last.sequenceId == "nurture")
        #expect(last.sequenceStepId == "hello")
        #expect(last.recipient.phone == contacts[0].phone)
    }
}
