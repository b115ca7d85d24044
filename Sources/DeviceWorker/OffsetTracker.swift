import DequeModule

/// Tracks one partition's offsets from receipt to done and says what to commit.
///
/// Offsets arrive in increasing order but with gaps (transaction markers, compaction); an offset
/// between two received ones that never arrived does not exist. The commit point is the lowest
/// received-but-not-done offset, or `lastReceived + 1` when everything received is done. Done
/// offsets above it travel in the commit metadata (`CommitMetadata`) so a new owner skips them.
/// After a commit, the only finished records a new owner processes again are done offsets that did
/// not fit in `metadataByteLimit`; a crash also repeats what finished after the last commit.
///
/// Memory is O(received and not yet below the commit point). `received` is O(1), `markDone`
/// O(log n), `committableOffset` O(1), `commitMetadata` O(entries scanned, stopping at the limit).
public struct OffsetTracker: Sendable {
    struct Entry: Sendable {
        var offset: Int64
        var done: Bool
    }

    /// Default cap on metadata characters; librdkafka accepts more, brokers may be configured lower.
    public static let defaultMetadataByteLimit = 3_000

    public let metadataByteLimit: Int
    /// Received offsets from the commit point up; the head is never done (it is popped instead).
    private var entries = Deque<Entry>()
    private var lastReceived: Int64?
    private var firstReceived: Int64?
    /// The committed offset we started from; offsets below it are done by definition.
    private var floor: Int64?
    /// Done offsets inherited from metadata that were not received yet, ascending.
    private var inherited: [ClosedRange<Int64>] = []
    private var inheritedCursor = 0
    private var doneEntries = 0
    /// Bumped whenever the commit point (offset or done set above it) changes.
    private var generation: UInt64 = 0
    private var committedGeneration: UInt64 = 0

    /// A tracker with nothing committed yet: the first received offset becomes the floor.
    public init(metadataByteLimit: Int = OffsetTracker.defaultMetadataByteLimit) {
        self.metadataByteLimit = metadataByteLimit
    }

    /// A tracker for a partition this worker was just assigned, starting at the group's committed
    /// offset. Metadata written by `commitMetadata` for the same offset tells which offsets above
    /// it are already done; anything malformed or written for another offset is ignored (we then
    /// re-process from `committed`, never skip). A negative `committed` (no commit yet) gives a
    /// fresh tracker.
    public static func resume(
        committed: Int64,
        metadata: String?,
        metadataByteLimit: Int = OffsetTracker.defaultMetadataByteLimit
    ) -> OffsetTracker {
        var tracker = OffsetTracker(metadataByteLimit: metadataByteLimit)
        // Negative values are librdkafka's "no committed offset" sentinels (e.g. -1001).
        guard committed >= 0 else { return tracker }
        tracker.floor = committed
        if let metadata, let intervals = CommitMetadata.decode(metadata, base: committed) {
            tracker.inherited = intervals
        }
        return tracker
    }

    /// The offset the consumer delivers next: after the last received one, else the committed
    /// offset resumed from, else 0 (nothing committed: the partition is read from its start).
    public var nextExpected: Int64 {
        lastReceived.map { $0 + 1 } ?? floor ?? 0
    }

    /// Received offsets not yet below the commit point (done or not): the tracker's memory.
    public var trackedCount: Int { entries.count }
    /// Received offsets not done yet.
    public var pendingCount: Int { entries.count - doneEntries }

    /// True if `offset` is known done: below the floor, inherited from metadata, or marked done.
    public func isAlreadyDone(_ offset: Int64) -> Bool {
        if let floor, offset < floor { return true }
        // Received range below the commit point: done, or a gap offset that does not exist.
        if let lastReceived, let commit = currentCommitOffset, offset <= lastReceived, offset < commit,
           let first = firstReceived, offset >= first {
            return true
        }
        let index = inherited.partitionPoint { $0.upperBound < offset }
        if index < inherited.count, inherited[index].contains(offset) { return true }
        let position = entries.partitionPoint { $0.offset < offset }
        return position < entries.count && entries[position].offset == offset && entries[position].done
    }

    /// Records that the consumer delivered `offset`. Returns true if it is already done (inherited
    /// from metadata or below the committed offset): the caller must skip it, and the tracker
    /// already counts it as done.
    /// - Throws: `.notIncreasing` if `offset` is not above the last received one (a seek or a
    ///   replay the caller must handle by rebuilding the tracker).
    @discardableResult
    public mutating func received(_ offset: Int64) throws(OffsetTrackerError) -> Bool {
        if let lastReceived, offset <= lastReceived {
            throw .notIncreasing(offset: offset, lastReceived: lastReceived)
        }
        if lastReceived == nil, let floor, offset < floor { return true }
        let before = currentCommitOffset
        while inheritedCursor < inherited.count, inherited[inheritedCursor].upperBound < offset {
            inheritedCursor += 1
        }
        let alreadyDone = inheritedCursor < inherited.count && inherited[inheritedCursor].contains(offset)
        entries.append(Entry(offset: offset, done: alreadyDone))
        lastReceived = offset
        if firstReceived == nil { firstReceived = offset }
        if alreadyDone { doneEntries += 1 }
        popDoneHead()
        if alreadyDone || before != currentCommitOffset { generation &+= 1 }
        return alreadyDone
    }

    /// Marks a received offset done (sent / failed / skipped / dead-lettered and its status acked).
    /// Idempotent; offsets already below the commit point are accepted silently.
    /// - Throws: `.notReceived` for an offset above the commit point that was never received.
    public mutating func markDone(_ offset: Int64) throws(OffsetTrackerError) {
        let position = entries.partitionPoint { $0.offset < offset }
        guard position < entries.count, entries[position].offset == offset else {
            if isAlreadyDone(offset) { return }
            throw .notReceived(offset: offset, commitPoint: currentCommitOffset)
        }
        guard !entries[position].done else { return }
        entries[position].done = true
        doneEntries += 1
        popDoneHead()
        generation &+= 1
    }

    /// The offset to commit, or nil when nothing changed since the last `markCommitted`
    /// (or nothing was received and nothing resumed).
    public var committableOffset: Int64? {
        generation == committedGeneration ? nil : currentCommitOffset
    }

    /// What to commit now (offset plus metadata), or nil when nothing changed since the last
    /// `markCommitted`. Pass it back to `markCommitted` once Kafka acknowledged the commit.
    public func nextCommit() -> CommitPoint? {
        guard generation != committedGeneration, let offset = currentCommitOffset else { return nil }
        return CommitPoint(offset: offset, metadata: commitMetadata, generation: generation)
    }

    /// The commit point now (offset plus metadata), whether or not it was committed already: what a
    /// worker knows about the partition when it gives it up, to resume from if it comes back.
    public var position: (offset: Int64, metadata: String)? {
        currentCommitOffset.map { ($0, commitMetadata) }
    }

    /// The commit an owner makes as it gives the partition up: the commit point now, whether or not
    /// it was committed already, with metadata marked as a hand-over (`CommitMetadata.isHandOver`)
    /// so the next owner knows nothing more is coming. Nil when nothing was received or resumed.
    public func handOverCommit() -> CommitPoint? {
        guard let offset = currentCommitOffset else { return nil }
        return CommitPoint(offset: offset, metadata: metadata(handOver: true), generation: generation)
    }

    /// Kafka acknowledged `point`. A late acknowledgement of an older point is ignored.
    public mutating func markCommitted(_ point: CommitPoint) {
        if point.generation > committedGeneration { committedGeneration = point.generation }
    }

    /// Base64 metadata listing done offsets above the commit point, lowest first, truncated to
    /// `metadataByteLimit`; empty when there is none.
    public var commitMetadata: String { metadata(handOver: false) }

    private func metadata(handOver: Bool) -> String {
        guard let base = currentCommitOffset else { return "" }
        var writer = CommitMetadataWriter(base: base, byteLimit: metadataByteLimit, handOver: handOver)
        if doneEntries > 0 {
            // Consecutive done entries merge across missing offsets: those do not exist.
            var runStart: Int64?
            var runEnd: Int64 = 0
            for position in 0..<entries.count {
                let entry = entries[position]
                if entry.done {
                    if runStart == nil { runStart = entry.offset }
                    runEnd = entry.offset
                } else if let start = runStart {
                    guard writer.append(start...runEnd) else { return writer.finish() }
                    runStart = nil
                }
            }
            if let start = runStart, !writer.append(start...runEnd) { return writer.finish() }
        }
        // Inherited offsets not received yet stay done for the next owner too.
        let above = Swift.max(base, (lastReceived ?? Int64.min) &+ 1)
        for interval in inherited[inheritedCursor...] where interval.upperBound >= above {
            guard writer.append(Swift.max(interval.lowerBound, above)...interval.upperBound) else { break }
        }
        return writer.finish()
    }

    /// Commit point ignoring whether it was already committed.
    private var currentCommitOffset: Int64? {
        if let head = entries.first { return head.offset }
        if let lastReceived { return lastReceived + 1 }
        return floor
    }

    private mutating func popDoneHead() {
        while let head = entries.first, head.done {
            entries.removeFirstReleasingStorage()
            doneEntries -= 1
        }
    }
}

/// An offset and metadata to commit for one partition, tagged so the tracker knows which state
/// a later acknowledgement refers to.
public struct CommitPoint: Sendable, Equatable {
    public let offset: Int64
    public let metadata: String
    let generation: UInt64
}

public enum OffsetTrackerError: Error, Equatable, CustomStringConvertible {
    case notIncreasing(offset: Int64, lastReceived: Int64)
    case notReceived(offset: Int64, commitPoint: Int64?)

    public var description: String {
        switch self {
        case let .notIncreasing(offset, lastReceived):
            "offset \(offset) received after \(lastReceived): offsets must increase per partition; after a seek, rebuild the tracker with OffsetTracker.resume(committed:metadata:)"
        case let .notReceived(offset, commitPoint):
            "offset \(offset) marked done but never received (commit point \(commitPoint.map(String.init) ?? "none")): call received(_:) for every delivered record first"
        }
    }
}
