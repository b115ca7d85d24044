import Foundation

/// Where sequences and enrolments live. ``SQLiteSequenceStore`` is the default; the protocol lets
/// tests wrap it (e.g. to fail after a publish) and leaves room for a server database later.
public protocol SequenceStore: Sendable {
    /// Creates the sequence, or replaces the definition of an existing one. Enrolments keep their
    /// step index: a contact at step 2 goes on with whatever step 2 now is.
    func define(_ sequence: SequenceDefinition, at now: Date) async throws(SequenceStoreError) -> DefineOutcome
    func sequence(id: String) async throws(SequenceStoreError) -> SequenceDefinition?
    func sequences() async throws(SequenceStoreError) -> [SequenceDefinition]
    /// Enrols contacts at `now`; a contact already enrolled in this sequence (in any state) is
    /// skipped, so re-running an import neither duplicates nor revives stopped contacts.
    func enroll(_ contacts: [Contact], in sequenceId: String, at now: Date) async throws(SequenceStoreError) -> EnrolOutcome
    /// Ends every active enrolment of `phone` (E.164); returns the sequence ids that were stopped.
    func stop(phone: String, reason: String, at now: Date) async throws(SequenceStoreError) -> [String]
    func summaries() async throws(SequenceStoreError) -> [SequenceSummary]
    func activeEnrolments() async throws(SequenceStoreError) -> [Enrolment]
    func enrolments(sequenceId: String?) async throws(SequenceStoreError) -> [Enrolment]
    /// Moves an active enrolment from step `from` to step `to`, only if it is still active at `from`
    /// (a concurrent `stop` wins). With `finish`, the enrolment also ends in the same transaction.
    func advance(enrolmentId: Int64, from: Int, to: Int, finish: Finish?, at now: Date) async throws(SequenceStoreError) -> AdvanceOutcome
}

/// How an enrolment ends once its last step is published.
public enum Finish: Equatable, Sendable {
    case complete
    /// Enrol the contact in this sequence (enrolled at the completion time) and mark the old one handed over.
    case handOver(to: String)
}

public enum DefineOutcome: Equatable, Sendable {
    case created
    case updated(previousSteps: Int)
}

public struct EnrolOutcome: Equatable, Sendable {
    public var enrolled: Int
    /// Phones (E.164) skipped because they already have an enrolment in the sequence.
    public var alreadyEnrolled: [String]
}

public enum AdvanceOutcome: Equatable, Sendable {
    case advanced
    case completed
    /// `newEnrolmentId` is nil when the contact already had an active enrolment in the target.
    case handedOver(newEnrolmentId: Int64?)
    /// The hand-over target is not defined yet; progress was recorded and the hand-over is retried.
    case handOverPending
    /// The enrolment was no longer active at `from` (stopped meanwhile); nothing changed.
    case unchanged
}

/// A sequence with its enrolment counts, for `list`.
public struct SequenceSummary: Equatable, Sendable {
    public var id: String
    public var name: String?
    public var stepCount: Int
    public var handOver: String?
    public var counts: [EnrolmentState: Int]
    public var updatedAt: Date
}

public enum SequenceStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case database(operation: String, reason: String)
    case unknownSequence(String)
    /// A stored row that cannot be read back (edited by hand, or written by a newer version).
    case corrupt(String)

    public var description: String {
        switch self {
        case .database(let operation, let reason): "sequence store: \(operation) failed: \(reason)"
        case .unknownSequence(let id): "no sequence \"\(id)\": define it first with `broadcast sequences define FILE`"
        case .corrupt(let reason): "sequence store holds unreadable data: \(reason)"
        }
    }
}
