import BroadcastModel
import Foundation
import Sequences
import Testing

@Suite("Sequence files and define")
struct SequenceDefinitionTests {
    @Test func parsesYAMLWithInheritedDefaults() throws {
        let sequence = try SequenceFile.parse(welcomeYAML(handOver: "nurture"))
        #expect(sequence.id == "welcome")
        #expect(sequence.userId == "user-1")
        #expect(sequence.handOver == "nurture")
        #expect(sequence.steps.map(\.id) == ["hello", "tips", "offer"])
        #expect(sequence.steps.map(\.dayOffset) == [0, 1, 3])
        #expect(sequence.steps[0].window == SendWindow(start: TimeOfDay(hour: 9, minute: 0), end: TimeOfDay(hour: 18, minute: 0), timeZone: "Asia/Kuala_Lumpur"))
        #expect(sequence.steps[1].window.start == TimeOfDay(hour: 10, minute: 0))
        #expect(sequence.steps[1].window.timeZone == "Asia/Kuala_Lumpur")
        #expect(sequence.steps[2].content.type == .image)
        // Templates are carried untouched: rendering is the worker's job.
        #expect(sequence.steps[0].content.text == "{Hi|Hello} {name}, welcome!")
        #expect(sequence.steps[0].delay == BroadcastMessage.Delay(minSeconds: 20, maxSeconds: 60))
    }

    @Test func parsesJSON() throws {
        let json = """
        {"id": "j1", "userId": "u", "steps": [
          {"dayOffset": 0, "window": {"start": "08:30", "end": "09:30", "timeZone": "America/New_York"},
           "delay": {"minSeconds": 1, "maxSeconds": 2}, "content": {"type": "text", "text": "hi", "greeting": true}}
        ]}
        """
        let sequence = try SequenceFile.parse(json)
        #expect(sequence.steps.count == 1)
        #expect(sequence.steps[0].id == "step-1")
        #expect(sequence.steps[0].content.greeting)
        #expect(sequence.steps[0].window.start == TimeOfDay(hour: 8, minute: 30))
    }

    @Test func reportsEveryBrokenRuleByField() {
        let yaml = """
        id: "bad id!"
        timeZone: Mars/Olympus
        handOver: "bad id!"
        steps:
          - id: a
            dayOffset: 2
            window: { start: "25:00", end: "10:00" }
            delay: { minSeconds: 90, maxSeconds: 10 }
            content: { type: text }
          - id: a
            dayOffset: 1
            window: { start: "10:00", end: "09:00", timeZone: Europe/London }
            delay: { minSeconds: 1, maxSeconds: 2 }
            content: { type: video, text: "x" }
          - id: c
            dayOffset: 3
            window: { start: "10:00", end: "11:00", timeZone: UTC }
            delay: { minSeconds: 1, maxSeconds: 2 }
            content: { type: sticker, text: "x" }
        """
        let error = #expect(throws: SequenceDefinitionError.self) { try SequenceFile.parse(yaml) }
        let fields = Set(error?.issues.map(\.field) ?? [])
        for expected in [
            "id", "userId", "handOver", "timeZone", "steps[0].window.start", "steps[1].id", "steps[1].dayOffset",
            "steps[1].window.end", "steps[2].content.type",
        ] {
            #expect(fields.contains(expected), "missing an issue for \(expected); got \(fields.sorted())")
        }
        #expect(error?.description.contains("\"25:00\" is not a time of day") == true)
    }

    @Test func reportsContentAndDelayRulesOfTheMessageContract() {
        let yaml = """
        id: s
        userId: u
        timeZone: UTC
        window: { start: "09:00", end: "10:00" }
        steps:
          - dayOffset: 0
            delay: { minSeconds: 90, maxSeconds: 10 }
            content: { type: text }
          - dayOffset: 0
            delay: { minSeconds: 1, maxSeconds: 2 }
            content: { type: document, text: "doc" }
        """
        let error = #expect(throws: SequenceDefinitionError.self) { try SequenceFile.parse(yaml) }
        let fields = Set(error?.issues.map(\.field) ?? [])
        #expect(fields.isSuperset(of: ["steps[0].content.text", "steps[0].delay", "steps[1].content.mediaUrl"]), "\(fields)")
    }

    @Test func rejectsUnknownFieldsAndWrongTypes() {
        let typo = """
        id: s
        userId: u
        steps:
          - dayofset: 1
        """
        let unknown = #expect(throws: SequenceDefinitionError.self) { try SequenceFile.parse(typo) }
        #expect(unknown?.issues.first?.field == "steps[0].dayofset")
        #expect(unknown?.description.contains("unknown field") == true)

        let wrongType = """
        id: s
        userId: u
        steps:
          - dayOffset: tomorrow
        """
        let mismatch = #expect(throws: SequenceDefinitionError.self) { try SequenceFile.parse(wrongType) }
        #expect(mismatch?.issues.first?.field == "steps[0].dayOffset")
    }

    @Test func rejectsAMissingStepsList() {
        let error = #expect(throws: SequenceDefinitionError.self) { try SequenceFile.parse("id: s\nuserId: u\n") }
        #expect(error?.issues.map(\.field) == ["steps"])
    }

    @Test func defineCreatesThenUpdatesInSQLite() async throws {
        let temp = try TempStore()
        let first = try SequenceFile.parse(welcomeYAML())
        #expect(try await temp.store.define(first, at: utc("2026-01-01T00:00:00Z")) == .created)

        var second = first
        second.name = "Welcome v2"
        second.steps.removeLast()
        second.steps[0].content.text = "Hello again {name}"
        #expect(try await temp.store.define(second, at: utc("2026-01-02T00:00:00Z")) == .updated(previousSteps: 3))

        // A fresh store on the same file reads what was written.
        let reopened = try SQLiteSequenceStore(path: temp.path)
        let stored = try #require(try await reopened.sequence(id: "welcome"))
        #expect(stored == second)
        let summaries = try await reopened.summaries()
        #expect(summaries.map(\.id) == ["welcome"])
        #expect(summaries.first?.stepCount == 2)
        #expect(summaries.first?.name == "Welcome v2")
    }
}
