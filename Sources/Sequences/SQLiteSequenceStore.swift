import Foundation
import GRDB

/// The default store: one SQLite file, migrated on open. Safe to share between tasks; GRDB
/// serialises access, and every multi-row change runs in one transaction.
public struct SQLiteSequenceStore: SequenceStore {
    private let queue: DatabaseQueue

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws(SequenceStoreError) {
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            // Another process (a second `run`, or `stop` from a webhook) may hold the lock briefly.
            configuration.busyMode = .timeout(5)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try SQLiteSchema.migrator.migrate(queue)
        } catch {
            throw .database(operation: "opening \(path)", reason: "\(error)")
        }
    }

    public func define(_ sequence: SequenceDefinition, at now: Date) async throws(SequenceStoreError) -> DefineOutcome {
        try await write("defining sequence \(sequence.id)") { db in
            let existing = try SequenceRow.fetchOne(db, key: sequence.id)
            let previousSteps = try StepRow.filter(Column("sequenceId") == sequence.id).fetchCount(db)
            let row = SequenceRow(
                id: sequence.id, name: sequence.name, userId: sequence.userId, handOver: sequence.handOver,
                revision: (existing?.revision ?? 0) + 1, createdAt: existing?.createdAt ?? now, updatedAt: now)
            try row.save(db)
            try StepRow.filter(Column("sequenceId") == sequence.id).deleteAll(db)
            for (position, step) in sequence.steps.enumerated() {
                try StepRow(sequenceId: sequence.id, position: position, step: step).insert(db)
            }
            return existing == nil ? .created : .updated(previousSteps: previousSteps)
        }
    }

    public func sequence(id: String) async throws(SequenceStoreError) -> SequenceDefinition? {
        try await read("reading sequence \(id)") { db in
            guard let row = try SequenceRow.fetchOne(db, key: id) else { return nil }
            return try Self.definition(row, db)
        }
    }

    public func sequences() async throws(SequenceStoreError) -> [SequenceDefinition] {
        try await read("reading sequences") { db in
            try SequenceRow.order(Column("id")).fetchAll(db).map { try Self.definition($0, db) }
        }
    }

    public func enroll(_ contacts: [Contact], in sequenceId: String, at now: Date) async throws(SequenceStoreError) -> EnrolOutcome {
        try await write("enrolling in \(sequenceId)") { db in
            guard try SequenceRow.exists(db, key: sequenceId) else { throw SequenceStoreError.unknownSequence(sequenceId) }
            var outcome = EnrolOutcome(enrolled: 0, alreadyEnrolled: [])
            for contact in contacts {
                let known = try EnrolmentRow
                    .filter(Column("sequenceId") == sequenceId && Column("phone") == contact.phone)
                    .isEmpty(db) == false
                if known {
                    outcome.alreadyEnrolled.append(contact.phone)
                    continue
                }
                var row = EnrolmentRow(sequenceId: sequenceId, contact: contact, enrolledAt: now)
                try row.insert(db)
                outcome.enrolled += 1
            }
            return outcome
        }
    }

    public func stop(phone: String, reason: String, at now: Date) async throws(SequenceStoreError) -> [String] {
        try await write("stopping sequences") { db in
            let active = EnrolmentRow.filter(Column("phone") == phone && Column("state") == EnrolmentState.active.rawValue)
            let sequenceIds = try active.fetchAll(db).map(\.sequenceId)
            try active.updateAll(db, [
                Column("state").set(to: EnrolmentState.stopped.rawValue),
                Column("stopReason").set(to: reason),
                Column("updatedAt").set(to: now),
            ])
            return sequenceIds
        }
    }

    public func summaries() async throws(SequenceStoreError) -> [SequenceSummary] {
        try await read("listing sequences") { db in
            var counts: [String: [EnrolmentState: Int]] = [:]
            let rows = try Row.fetchAll(db, sql: "SELECT sequenceId, state, COUNT(*) AS n FROM enrolments GROUP BY sequenceId, state")
            for row in rows {
                let id: String = row["sequenceId"]
                guard let state = EnrolmentState(rawValue: row["state"]) else { continue }
                counts[id, default: [:]][state] = row["n"]
            }
            return try SequenceRow.order(Column("id")).fetchAll(db).map { sequence in
                let steps = try StepRow.filter(Column("sequenceId") == sequence.id).fetchCount(db)
                return SequenceSummary(
                    id: sequence.id, name: sequence.name, stepCount: steps, handOver: sequence.handOver,
                    counts: counts[sequence.id] ?? [:], updatedAt: sequence.updatedAt)
            }
        }
    }

    public func activeEnrolments() async throws(SequenceStoreError) -> [Enrolment] {
        try await read("reading active enrolments") { db in
            try EnrolmentRow.filter(Column("state") == EnrolmentState.active.rawValue)
                .order(Column("id")).fetchAll(db).map { try $0.enrolment() }
        }
    }

    public func enrolments(sequenceId: String?) async throws(SequenceStoreError) -> [Enrolment] {
        try await read("reading enrolments") { db in
            var request = EnrolmentRow.order(Column("id"))
            if let sequenceId { request = request.filter(Column("sequenceId") == sequenceId) }
            return try request.fetchAll(db).map { try $0.enrolment() }
        }
    }

    public func advance(
        enrolmentId: Int64, from: Int, to: Int, finish: Finish?, at now: Date
    ) async throws(SequenceStoreError) -> AdvanceOutcome {
        try await write("recording progress of enrolment \(enrolmentId)") { db in
            guard var row = try EnrolmentRow.fetchOne(db, key: enrolmentId),
                  row.state == EnrolmentState.active.rawValue, row.currentStep == from
            else { return .unchanged }
            row.currentStep = to
            row.updatedAt = now
            var outcome = AdvanceOutcome.advanced
            switch finish {
            case nil:
                break
            case .complete:
                row.state = EnrolmentState.completed.rawValue
                outcome = .completed
            case .handOver(let target):
                guard try SequenceRow.exists(db, key: target) else {
                    outcome = .handOverPending
                    break
                }
                row.state = EnrolmentState.handedOver.rawValue
                let alreadyActive = try EnrolmentRow
                    .filter(Column("sequenceId") == target && Column("phone") == row.phone
                            && Column("state") == EnrolmentState.active.rawValue)
                    .isEmpty(db) == false
                if alreadyActive {
                    outcome = .handedOver(newEnrolmentId: nil)
                } else {
                    var next = EnrolmentRow(sequenceId: target, contact: try row.contact, enrolledAt: now, handedOverFrom: enrolmentId)
                    try next.insert(db)
                    outcome = .handedOver(newEnrolmentId: next.id)
                }
            }
            try row.update(db)
            return outcome
        }
    }

    // MARK: - Helpers

    private static func definition(_ row: SequenceRow, _ db: Database) throws -> SequenceDefinition {
        let steps = try StepRow.filter(Column("sequenceId") == row.id).order(Column("position")).fetchAll(db)
        return SequenceDefinition(
            id: row.id, name: row.name, userId: row.userId, steps: try steps.map { try $0.step() }, handOver: row.handOver)
    }

    /// Runs a write transaction, turning GRDB's untyped errors into ``SequenceStoreError``.
    private func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(SequenceStoreError) -> T {
        do {
            return try await queue.write(body)
        } catch let error as SequenceStoreError {
            throw error
        } catch {
            throw .database(operation: operation, reason: "\(error)")
        }
    }

    private func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(SequenceStoreError) -> T {
        do {
            return try await queue.read(body)
        } catch let error as SequenceStoreError {
            throw error
        } catch {
            throw .database(operation: operation, reason: "\(error)")
        }
    }
}
