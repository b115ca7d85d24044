import BroadcastModel
import Foundation
import Kafka
import Publishing
import Synchronization
import Testing
import BroadcastTesting

@Suite(.serialized) struct PublishTests {
    @Test func invalidRowsRefuseAndPublishNothing() async throws {
        let fixture = try CampaignFixture()
        let kafka = try TestKafka()
        let plan = try fixture.plan(try fixture.campaign(csv: PlannerTests.badCSV, text: PlannerTests.cityText))
        let publisher = try kafka.publisher()
        await #expect(throws: PublishError.self) { _ = try await publisher.publish(plan) }
        await publisher.producer.close()
        #expect(try await kafka.stored(kafka.topics.messages) == 0)
        #expect(try await kafka.stored(kafka.topics.status) == 0)
    }

    @Test func skipInvalidPublishesTheValidRowsReadableByAnIndependentConsumer() async throws {
        let fixture = try CampaignFixture()
        let kafka = try TestKafka()
        var csv = PlannerTests.badCSV
        // Pinned rows, duplicates and more rows than one chunk.
        csv += "+60123456706,Pinned,KL,dev-b\n+60123456701,Duplicate,KL,\n"
        for index in 0..<20 { csv += "+6013\(7_000_000 + index),Bulk \(index),KL,\n" }
        let path = try fixture.campaign(csv: csv, extra: "expiresAt: 2030-01-02T09:00:00Z", text: PlannerTests.cityText)
        let plan = try fixture.plan(path)
        #expect(plan.counts.recipients == 24 && plan.counts.duplicates == 1)

        let publisher = try kafka.publisher()
        let progress = Locked<[PublishProgress]>([])
        let report = try await publisher.publish(plan, skipInvalid: true) { p in progress.withLock { $0.append(p) } }
        await publisher.producer.close()
        #expect(report.succeeded)
        #expect(report.published == 24 && report.statusPublished == 24 && report.failed == 0)
        #expect(progress.value.last?.settled == 24)

        let received = try await kafka.readAll(count: 48)
        let messages = try received.filter { $0.topic == kafka.topics.messages }.map { record in
            #expect(record.schemaHeader == RecordSchema.message)
            let message = try BroadcastMessage.decode(from: record.value)
            try message.validate()
            #expect(record.key == message.deviceId)
            return message
        }
        let statuses = try received.filter { $0.topic == kafka.topics.status }.map { record in
            #expect(record.schemaHeader == RecordSchema.status)
            let event = try StatusEvent.decode(from: record.value)
            #expect(record.key == event.messageId && event.status == .queued)
            return event
        }
        #expect(messages.count == 24 && statuses.count == 24)
        #expect(Set(messages.map(\.id)) == Set(statuses.map(\.messageId)))
        #expect(Set(messages.map(\.id)).count == 24)

        let planned = Dictionary(uniqueKeysWithValues: try plan.recipients().map { ($0.messageId, $0) })
        for message in messages {
            let expected = try #require(planned[message.id])
            #expect(message.deviceId == expected.deviceId && message.recipient.phone == expected.phone)
            #expect(message.campaignId == "test-cmp" && message.source == .campaign && message.userId == "user-1")
            #expect(message.content.text == "Hi {name}, {city} store sale!")
            #expect(message.delay == .init(minSeconds: 5, maxSeconds: 10) && message.expiresAt != nil)
        }
        let pinned = try #require(messages.first { $0.recipient.name == "Pinned" })
        #expect(pinned.deviceId == "dev-b" && pinned.attributes == ["city": "KL"])
    }

    @Test func publishingTwiceGivesTheSameIdsAndDevices() async throws {
        let fixture = try CampaignFixture()
        let kafka = try TestKafka()
        var csv = "phone,name\n"
        for index in 0..<15 { csv += "+6014\(5_000_000 + index),N\(index)\n" }
        let path = try fixture.campaign(csv: csv)
        for _ in 0..<2 {
            let publisher = try kafka.publisher()
            let report = try await publisher.publish(try fixture.plan(path))
            await publisher.producer.close()
            #expect(report.succeeded)
        }
        let messages = try await kafka.readAll(count: 60).filter { $0.topic == kafka.topics.messages }
            .map { try BroadcastMessage.decode(from: $0.value) }
        #expect(messages.count == 30)
        let byId = Dictionary(grouping: messages, by: \.id)
        #expect(byId.count == 15 && byId.values.allSatisfy { $0.count == 2 && $0[0].deviceId == $0[1].deviceId })
    }

    @Test func aFileEditedAfterValidationIsRefused() async throws {
        let fixture = try CampaignFixture()
        let kafka = try TestKafka()
        let path = try fixture.campaign(csv: "phone\n+60123456701\n")
        let plan = try fixture.plan(path)
        try fixture.write("recipients.csv", "phone\n+60123456701\n+60123456702\n")
        let publisher = try kafka.publisher()
        await #expect(throws: PublishError.self) { _ = try await publisher.publish(plan) }
        await publisher.producer.close()
    }
}

