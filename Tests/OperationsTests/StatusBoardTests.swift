import BroadcastModel
import Foundation
@testable import Operations
import Testing

@Suite struct StatusBoardTests {
    @Test func countsMessagesNotEventsOverADuplicatedShuffledStream() {
        let stream = StatusStream(messages: 300)
        #expect(stream.events.count > 900)
        var board = StatusBoard()
        for event in stream.events { board.apply(event) }
        let snapshot = board.snapshot(now: StatusStream.base.addingTimeInterval(400))
        #expect(snapshot.messages == 300)
        #expect(snapshot.total.counts == stream.expectedCounts())
        #expect(snapshot.total.counts.total == 300)
        for (id, status) in stream.expected { #expect(board.latestEntry(for: id)?.status == status, "\(id)") }
    }

    @Test func anyOrderGivesTheSameBoard() {
        let stream = StatusStream(messages: 120)
        var forward = StatusBoard()
        var backward = StatusBoard()
        for event in stream.events { forward.apply(event) }
        for event in stream.events.reversed() { backward.apply(event) }
        let now = StatusStream.base.addingTimeInterval(200)
        #expect(forward.snapshot(now: now).total.counts == backward.snapshot(now: now).total.counts)
        #expect(forward.snapshot(now: now).devices.map(\.counts) == backward.snapshot(now: now).devices.map(\.counts))
    }

    @Test func groupsByCampaignSequenceStepAndDevice() {
        let stream = StatusStream(messages: 90)
        var board = StatusBoard()
        for event in stream.events { board.apply(event) }
        let snapshot = board.snapshot(now: StatusStream.base)
        #expect(snapshot.scopes.map { "\($0.kind):\($0.id)" } == ["campaign:cmp-0", "campaign:cmp-1", "sequence:seq-1"])
        #expect(snapshot.scopes.first { $0.id == "cmp-1" }?.counts == stream.expectedCounts { $0.campaignId == "cmp-1" })
        #expect(snapshot.steps.map { $0.step ?? "" } == ["step-0", "step-1"])
        #expect(snapshot.steps.first { $0.step == "step-1" }?.counts == stream.expectedCounts { $0.sequenceStepId == "step-1" })
        #expect(snapshot.devices.count == 4)
        #expect(snapshot.devices.first { $0.id == "dev-2" }?.counts == stream.expectedCounts { $0.deviceId == "dev-2" })
        #expect(snapshot.devices.map(\.counts).reduce(StatusCounts(), +) == snapshot.total.counts)
    }

    @Test func finalStatusBeatsProcessingInTheSameMillisecond() {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let sent = StatusEntry(messageId: "m", deviceId: "d", status: .sent, at: at)
        let processing = StatusEntry(messageId: "m", deviceId: "d", status: .processing, at: at.addingTimeInterval(0.0004))
        var board = StatusBoard()
        board.apply(sent)
        let changed = board.apply(processing)
        #expect(!changed)
        #expect(board.latestEntry(for: "m")?.status == .sent)
        // A later attempt (a replay from the dead-letter topic) does move the message again.
        let moved = board.apply(StatusEntry(messageId: "m", deviceId: "d", status: .processing, at: at.addingTimeInterval(5)))
        #expect(moved)
        #expect(board.snapshot(now: at).total.counts.processing == 1)
    }

    @Test func filtersByCampaignDeviceAndTime() {
        let stream = StatusStream(messages: 60)
        var board = StatusBoard(filter: .init(campaignId: "cmp-0", deviceId: "dev-2"))
        for event in stream.events { board.apply(event) }
        let expected = stream.expectedCounts { $0.campaignId == "cmp-0" && $0.deviceId == "dev-2" }
        #expect(board.snapshot(now: StatusStream.base).total.counts == expected)
        #expect(expected.total > 0)
    }

    @Test func rateAndEtaFollowFinishedMessages() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var board = StatusBoard(rateWindow: 60)
        for index in 0..<40 {
            board.apply(StatusEntry(messageId: "m\(index)", deviceId: "d", campaignId: "c", status: .queued, at: start))
        }
        // 20 finish over 10 seconds: 2 per second, 20 left: 10 seconds.
        for index in 0..<20 {
            board.apply(StatusEntry(messageId: "m\(index)", deviceId: "d", campaignId: "c", status: .sent,
                                    at: start.addingTimeInterval(Double(index) * 0.5)))
        }
        // Duplicates of final events do not inflate the rate.
        board.apply(StatusEntry(messageId: "m3", deviceId: "d", campaignId: "c", status: .sent, at: start.addingTimeInterval(1.5)))
        let row = board.snapshot(now: start.addingTimeInterval(10)).scopes[0]
        #expect(row.counts.pending == 20)
        #expect(abs(row.finishedPerSecond - 2) < 0.01)
        #expect(abs((row.etaSeconds ?? 0) - 10) < 0.1)
        // Nothing finished within the window: no rate, no ETA (stalled), never a division by zero.
        let stalled = board.snapshot(now: start.addingTimeInterval(1_000)).scopes[0]
        #expect(stalled.finishedPerSecond == 0)
        #expect(stalled.etaSeconds == nil)
    }

    @Test func snapshotJSONRoundTripsAndRenders() throws {
        let stream = StatusStream(messages: 30)
        var board = StatusBoard()
        for event in stream.events { board.apply(event) }
        let snapshot = board.snapshot(now: StatusStream.base)
        let json = try snapshot.jsonData()
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"dead_lettered\""))
        #expect(try StatusSnapshot.decode(json: json) == snapshot)
        let table = StatusBoardRenderer.render(snapshot)
        #expect(table.contains("campaign cmp-0"))
        #expect(table.contains("device dev-3"))
        #expect(StatusBoardRenderer.progressBar(0.5, width: 10) == "[█████·····]")
    }
}
