import Foundation
import Testing
@testable import DeviceWorker

@Suite struct OffsetTrackerTests {
    @Test func gapsInOffsetsDoNotBlockTheCommitPoint() throws {
        var tracker = OffsetTracker()
        for offset: Int64 in [0, 1, 2, 5, 6, 9] { try tracker.received(offset) }
        #expect(tracker.committableOffset == 0)
        for offset: Int64 in [0, 1, 2, 5] { try tracker.markDone(offset) }
        #expect(tracker.committableOffset == 6)
        try tracker.markDone(6)
        try tracker.markDone(9)
        #expect(tracker.committableOffset == 10)
        #expect(tracker.trackedCount == 0)
        try tracker.received(20) // 10...19 do not exist
        #expect(tracker.committableOffset == 20)
    }

    @Test func outOfOrderCompletionAdvancesContiguously() throws {
        var tracker = OffsetTracker()
        for offset in Int64(10)...19 { try tracker.received(offset) }
        try tracker.markDone(15)
        try tracker.markDone(12)
        #expect(tracker.committableOffset == 10)
        try tracker.markDone(10)
        #expect(tracker.committableOffset == 11)
        try tracker.markDone(11)
        #expect(tracker.committableOffset == 13)
        try tracker.markDone(13)
        try tracker.markDone(14)
        #expect(tracker.committableOffset == 16)
        try tracker.markDone(14) // idempotent
        #expect(tracker.pendingCount == 4)
    }

    @Test func nothingNewAfterCommitUntilProgress() throws {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<5 { try tracker.received(offset) }
        try tracker.markDone(0)
        let first = try #require(tracker.nextCommit())
        #expect(first.offset == 1)
        tracker.markCommitted(first)
        #expect(tracker.committableOffset == nil)
        #expect(tracker.nextCommit() == nil)
        try tracker.markDone(3) // commit offset unchanged, but metadata has news
        let second = try #require(tracker.nextCommit())
        #expect(second.offset == 1 && !second.metadata.isEmpty)
        try tracker.markDone(1)
        let third = try #require(tracker.nextCommit())
        tracker.markCommitted(third)
        tracker.markCommitted(second) // a late acknowledgement must not bring news back
        #expect(tracker.nextCommit() == nil)
    }

    @Test func metadataRoundTripSkipsDoneOffsets() throws {
        var tracker = OffsetTracker()
        for offset in Int64(100)..<200 { try tracker.received(offset) }
        let done = Set(stride(from: Int64(102), to: 200, by: 2)).union([151, 153])
        for offset in done { try tracker.markDone(offset) }
        let point = try #require(tracker.nextCommit())
        #expect(point.offset == 100)

        var resumed = OffsetTracker.resume(committed: point.offset, metadata: point.metadata)
        #expect(resumed.committableOffset == nil)
        for offset in Int64(100)..<200 {
            #expect(resumed.isAlreadyDone(offset) == done.contains(offset))
            #expect(try resumed.received(offset) == done.contains(offset))
        }
        for offset in Int64(100)..<200 where !done.contains(offset) { try resumed.markDone(offset) }
        #expect(resumed.committableOffset == 200)
    }

    @Test func inheritedDoneOffsetsSurviveASecondHandOver() throws {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<10 { try tracker.received(offset) }
        for offset: Int64 in [2, 7, 8] { try tracker.markDone(offset) }
        let point = try #require(tracker.nextCommit())

        // The new owner got only as far as offset 3 before handing over again.
        var second = OffsetTracker.resume(committed: point.offset, metadata: point.metadata)
        for offset in Int64(0)...3 { try second.received(offset) }
        try second.markDone(0)
        let secondPoint = try #require(second.nextCommit())
        #expect(secondPoint.offset == 1)
        let third = OffsetTracker.resume(committed: secondPoint.offset, metadata: secondPoint.metadata)
        #expect(third.isAlreadyDone(2) && third.isAlreadyDone(7) && third.isAlreadyDone(8))
        #expect(!third.isAlreadyDone(1) && !third.isAlreadyDone(3) && !third.isAlreadyDone(9))
    }

    @Test func metadataMergesAcrossMissingOffsets() throws {
        var tracker = OffsetTracker()
        for offset: Int64 in [0, 5, 9, 20, 21] { try tracker.received(offset) }
        for offset: Int64 in [5, 9, 20] { try tracker.markDone(offset) }
        let intervals = try #require(CommitMetadata.decode(tracker.commitMetadata, base: 0))
        #expect(intervals == [5...20]) // 6...8 and 10...19 do not exist
    }

    @Test func metadataOverTheLimitTruncatesSafely() throws {
        let limit = 120
        var tracker = OffsetTracker(metadataByteLimit: limit)
        for offset in Int64(0)..<10_000 { try tracker.received(offset) }
        var done = Set<Int64>()
        for offset in stride(from: Int64(1), to: 10_000, by: 2) { done.insert(offset) }
        for offset in stride(from: Int64(3_000), to: 3_100, by: 1) { done.insert(offset) }
        for offset in done { try tracker.markDone(offset) }
        let point = try #require(tracker.nextCommit())
        #expect(point.offset == 0)
        #expect(point.metadata.utf8.count <= limit)

        let resumed = OffsetTracker.resume(committed: 0, metadata: point.metadata, metadataByteLimit: limit)
        let claimed = (Int64(0)..<10_000).filter { resumed.isAlreadyDone($0) }
        #expect(!claimed.isEmpty)
        #expect(claimed.allSatisfy { done.contains($0) }) // never claims an offset not done
        let highest = try #require(claimed.last)
        #expect(done.filter { $0 <= highest }.count == claimed.count) // a prefix, lowest first
    }

    @Test func tinyLimitYieldsNoMetadata() throws {
        var tracker = OffsetTracker(metadataByteLimit: 8)
        for offset in Int64(0)..<4 { try tracker.received(offset) }
        try tracker.markDone(2)
        #expect(tracker.commitMetadata == "")
        #expect(tracker.committableOffset == 0)
    }

    @Test func malformedMetadataIsIgnored() throws {
        var tracker = OffsetTracker()
        for offset in Int64(50)..<60 { try tracker.received(offset) }
        try tracker.markDone(55)
        let good = tracker.commitMetadata
        var tampered = Array(good)
        tampered[4] = tampered[4] == "A" ? "B" : "A"
        let candidates = [
            "", "not base64 at all!", "AAAA", Data([0x44, 1, 50, 5, 1]).base64EncodedString(),
            String(tampered), String(good.dropLast(4)),
            Data((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37) }).base64EncodedString(),
        ]
        for metadata in candidates {
            let resumed = OffsetTracker.resume(committed: 50, metadata: metadata)
            #expect(!(Int64(50)..<60).contains { resumed.isAlreadyDone($0) }, "metadata \(metadata)")
        }
        // Valid metadata written for another committed offset is ignored too.
        let elsewhere = OffsetTracker.resume(committed: 51, metadata: good)
        #expect(!(Int64(51)..<60).contains { elsewhere.isAlreadyDone($0) })
        #expect(OffsetTracker.resume(committed: 50, metadata: good).isAlreadyDone(55))
    }

    @Test func resumeTreatsBelowCommittedAsDone() throws {
        var tracker = OffsetTracker.resume(committed: 40, metadata: nil)
        #expect(tracker.isAlreadyDone(39))
        #expect(try tracker.received(39))
        #expect(try !tracker.received(40))
        #expect(tracker.committableOffset == nil) // still 40, as committed
        try tracker.markDone(40)
        #expect(tracker.committableOffset == 41)
    }

    @Test func noCommittedOffsetSentinelStartsFresh() throws {
        var tracker = OffsetTracker.resume(committed: -1_001, metadata: "garbage")
        #expect(tracker.committableOffset == nil)
        #expect(try !tracker.received(0))
        #expect(tracker.committableOffset == 0)
    }

    @Test func rejectsMisuseWithTypedErrors() throws {
        var tracker = OffsetTracker()
        try tracker.received(5)
        #expect(throws: OffsetTrackerError.notIncreasing(offset: 5, lastReceived: 5)) { try tracker.received(5) }
        #expect(throws: OffsetTrackerError.notReceived(offset: 7, commitPoint: 5)) { try tracker.markDone(7) }
        #expect(OffsetTrackerError.notReceived(offset: 7, commitPoint: 5).description.contains("received(_:)"))
    }

    @Test func memoryFollowsInFlightRecords() throws {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<100_000 {
            try tracker.received(offset)
            if offset >= 10 { try tracker.markDone(offset - 10) }
        }
        #expect(tracker.trackedCount == 10)
        #expect(tracker.committableOffset == 99_990)
    }

    @Test func handOverCommitIsMarkedAndKeepsTheDoneOffsets() throws {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<6 { try tracker.received(offset) }
        for offset: Int64 in [0, 2, 3] { try tracker.markDone(offset) }
        let periodic = try #require(tracker.nextCommit())
        tracker.markCommitted(periodic)
        #expect(!CommitMetadata.isHandOver(periodic.metadata, base: periodic.offset))
        // Made even when nothing changed since the last commit: the mark is what the next owner waits for.
        #expect(tracker.nextCommit() == nil)
        let handOver = try #require(tracker.handOverCommit())
        #expect(handOver.offset == 1)
        #expect(CommitMetadata.isHandOver(handOver.metadata, base: 1))
        #expect(!CommitMetadata.isHandOver(handOver.metadata, base: 2), "metadata of another offset is not trusted")
        #expect(CommitMetadata.decode(handOver.metadata, base: 1) == [2...3])
        let next = OffsetTracker.resume(committed: handOver.offset, metadata: handOver.metadata)
        #expect(next.isAlreadyDone(2) && next.isAlreadyDone(3) && !next.isAlreadyDone(1) && !next.isAlreadyDone(4))
    }

    @Test func handOverWithNothingDoneAboveStillCarriesTheMark() throws {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<3 { try tracker.received(offset) }
        for offset in Int64(0)..<3 { try tracker.markDone(offset) }
        #expect(tracker.commitMetadata.isEmpty)
        let handOver = try #require(tracker.handOverCommit())
        #expect(handOver.offset == 3)
        #expect(CommitMetadata.isHandOver(handOver.metadata, base: 3))
        #expect(CommitMetadata.decode(handOver.metadata, base: 3) == [])
        #expect(OffsetTracker().handOverCommit() == nil, "nothing received or resumed: nothing to hand over")
    }

    @Test func versionOneMetadataIsStillRead() throws {
        // Written by workers before the hand-over mark: "D", 1, varint(base 10), (skip 2, run 3), checksum.
        var body: [UInt8] = [CommitMetadata.magic, 1]
        for value: UInt64 in [10, 2, 3] { appendVarint(value, to: &body) }
        let checksum = CommitMetadata.fnv1a(body)
        body += [UInt8(checksum >> 24), UInt8(truncatingIfNeeded: checksum >> 16), UInt8(truncatingIfNeeded: checksum >> 8), UInt8(truncatingIfNeeded: checksum)]
        let metadata = Data(body).base64EncodedString()
        #expect(CommitMetadata.decode(metadata, base: 10) == [12...14])
        #expect(!CommitMetadata.isHandOver(metadata, base: 10))
    }
}
