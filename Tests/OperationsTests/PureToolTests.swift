import DevicePolicies
import ContactFiles
import BroadcastModel
import Foundation
@testable import Operations
import Senders
import Testing
import WorkerRuntime

@Suite struct ReplayCursorTests {
    @Test func contiguousHandledOffsetsMoveTheCommit() {
        var cursor = ReplayCursor(committed: 0, metadata: nil)
        cursor.markHandled(0)
        cursor.markHandled(1)
        #expect(cursor.committed == 2)
        #expect(cursor.metadata == "")
    }

    @Test func gapsTravelInMetadataAndReadBack() {
        var cursor = ReplayCursor(committed: 10, metadata: nil)
        cursor.markHandled(12)
        cursor.markHandled(13)
        cursor.markHandled(20)
        #expect(cursor.committed == 10)
        #expect(cursor.metadata == "replayed:v1:12-13,20")
        let back = ReplayCursor(committed: 10, metadata: cursor.metadata)
        #expect(back == cursor)
        #expect(back.isHandled(13) && back.isHandled(5) && !back.isHandled(11) && !back.isHandled(14))
        var filled = back
        filled.markHandled(10)
        filled.markHandled(11)
        #expect(filled.committed == 14)
        #expect(filled.metadata == "replayed:v1:20")
    }

    @Test func foreignMetadataMeansNothingHandled() {
        let cursor = ReplayCursor(committed: 3, metadata: "RAxyz==")
        #expect(cursor.handled.isEmpty)
        #expect(!cursor.isHandled(3))
    }

    @Test func refusesRangesBeyondTheLimit() {
        var cursor = ReplayCursor(committed: 0, metadata: nil)
        for index in 0..<ReplayCursor.maxRanges {
            let recorded = cursor.markHandled(Int64(10 + index * 2))
            #expect(recorded)
        }
        let beyond = cursor.markHandled(10_000)
        #expect(!beyond)
        let joining = cursor.markHandled(11)  // joins existing ranges
        #expect(joining)
        #expect(cursor.metadata.utf8.count < 4_000)
    }
}

@Suite struct KafkaStatisticsTests {
    // Trimmed from a real librdkafka 2.0.2 statistics emission.
    static let sample = """
    {"name":"rdkafka#consumer-1","type":"consumer","ts":1234,"brokers":{},
     "topics":{"broadcast.messages":{"topic":"broadcast.messages","age":100,"metadata_age":80,
        "partitions":{
          "0":{"partition":0,"broker":1,"leader":1,"desired":true,"fetch_state":"active","committed_offset":90,
               "hi_offset":120,"ls_offset":120,"consumer_lag":30,"consumer_lag_stored":25},
          "1":{"partition":1,"broker":1,"leader":1,"desired":true,"fetch_state":"active","committed_offset":-1001,
               "hi_offset":7,"consumer_lag":-1},
          "2":{"partition":2,"consumer_lag":0},
          "-1":{"partition":-1,"consumer_lag":-1}}},
      "broadcast.optouts":{"partitions":{"0":{"partition":0,"consumer_lag":4}}}},
     "cgrp":{"state":"up"}}
    """

    @Test func readsConsumerLagPerPartition() {
        let lags = KafkaStatistics.consumerLag(json: Self.sample)
        #expect(lags == [
            PartitionLag(topic: "broadcast.messages", partition: 0, lag: 30),
            PartitionLag(topic: "broadcast.messages", partition: 2, lag: 0),
            PartitionLag(topic: "broadcast.optouts", partition: 0, lag: 4),
        ])
    }

    @Test func garbageReadsAsNoLag() {
        #expect(KafkaStatistics.consumerLag(json: "not json").isEmpty)
        #expect(KafkaStatistics.consumerLag(json: "{\"topics\":[]}").isEmpty)
        let tracker = ConsumerLagTracker()
        tracker.handle(Self.sample)
        #expect(tracker.lags.count == 3)
    }
}

@Suite struct CampaignControlPolicyTests {
    static func message(campaign: String?) -> BroadcastMessage {
        BroadcastMessage(
            id: "m1", userId: "u", deviceId: "d", source: campaign == nil ? .api : .campaign, campaignId: campaign,
            recipient: .init(phone: "+60123456789", name: nil), content: .init(type: .text, text: "hi"),
            delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(), expiresAt: nil, createdAt: Date())
    }

    @Test func pauseHoldsCancelSkipsResumeSends() {
        let control = StaticCampaignControl()
        let policy = CampaignControlPolicy(wrapping: PassThroughPolicy(), control: control)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let message = Self.message(campaign: "c1")
        guard case .send = policy.decide(message, attempt: 1, now: now) else { Issue.record("uncontrolled must send"); return }
        control.set(.pause, for: "c1")
        #expect(policy.decide(message, attempt: 1, now: now) == .hold(until: now.addingTimeInterval(2), reason: "campaign_paused"))
        // Other campaigns and API messages are not touched.
        guard case .send = policy.decide(Self.message(campaign: "c2"), attempt: 1, now: now) else { Issue.record("c2"); return }
        guard case .send = policy.decide(Self.message(campaign: nil), attempt: 1, now: now) else { Issue.record("api"); return }
        control.set(.resume, for: "c1")
        guard case .send = policy.decide(message, attempt: 1, now: now) else { Issue.record("resume must send"); return }
        control.set(.cancel, for: "c1")
        #expect(policy.decide(message, attempt: 1, now: now) == .skip(reason: "cancelled"))
    }

    @Test func controlRecordJSON() throws {
        let record = CampaignControlRecord(campaignId: "c1", action: .pause, at: Date(timeIntervalSince1970: 1_800_000_000), by: "ops")
        let text = String(decoding: try record.encoded(), as: UTF8.self)
        #expect(text == #"{"action":"pause","at":"2027-01-15T08:00:00.000Z","by":"ops","campaignId":"c1"}"#)
        #expect(try CampaignControlRecord.decode(record.encoded()) == record)
    }
}

@Suite struct ReportTests {
    @Test func csvRowsAreMaskedEscapedAndSummarised() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        func message(_ id: String, _ device: String, _ status: MessageStatus, error: String? = nil) -> ProjectedMessage {
            ProjectedMessage(
                messageId: id, userId: "u", deviceId: device, campaignId: "c1", sequenceId: nil, sequenceStepId: nil,
                recipientPhone: "+60123456789", status: status, reason: nil, attempt: 1, at: at, firstAt: at,
                sentAt: status == .sent ? at : nil, providerMessageId: status == .sent ? "wamid.1" : nil,
                errorCode: error == nil ? nil : "131026", errorMessage: error, worker: "w1")
        }
        let report = RecipientReport(kind: .campaign, id: "c1", messages: [
            message("m1", "d1", .sent), message("m2", "d1", .failed, error: "bad, \"number\""), message("m3", "d2", .skipped),
        ])
        let lines = report.csv(section: .recipients).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("message_id,phone,device_id,step,status"))
        let first = csvRow(lines[1])
        #expect(first[0] == "m1" && first[1] == "+6012•••••89" && first[4] == "sent" && first[10] == "wamid.1")
        let second = csvRow(lines[2])
        #expect(second[12] == "bad, \"number\"")
        #expect(!report.csv().contains("+60123456789"))
        let full = RecipientReport(kind: .campaign, id: "c1", messages: [message("m1", "d1", .sent)], fullPhone: true)
        #expect(csvRow(String(full.csv().split(separator: "\n")[1]))[1] == "+60123456789")
        let summary = report.csv(section: .devices).split(separator: "\n").map { csvRow(String($0)) }
        #expect(summary[0][0...2] == ["scope", "key", "total"])
        #expect(summary[1][0...2] == ["device", "d1", "2"])
        #expect(CSV.field("=cmd()") == "'=cmd()")
    }
}

/// One row of CSV output, read back with the reader every contact list goes through.
func csvRow(_ line: String) -> [String] { CSVParser.records(in: line).first?.fields ?? [] }
