import BroadcastModel
import Foundation
import Sequences
import Testing

@Suite struct TemplateStepTests {
    static let file = """
        id: renewals
        userId: user-1
        timeZone: UTC
        window: { start: "09:00", end: "18:00" }
        delay: { minSeconds: 5, maxSeconds: 10 }
        steps:
          - id: reminder
            dayOffset: 0
            content:
              type: template
              template:
                name: renewal_reminder
                language: ms
                components:
                  - { type: body, parameters: [{ type: text, text: "{name}" }, { type: text, text: "{plan}" }] }
        """

    @Test func aTemplateStepIsDefinedStoredAndReadBack() async throws {
        let definition = try SequenceFile.parse(Self.file)
        let template = try #require(definition.steps.first?.content.template)
        #expect(definition.steps[0].content.type == .template && template.components[0].parameters.map(\.text) == ["{name}", "{plan}"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tpl-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteSequenceStore(path: path)
        _ = try await store.define(definition, at: Date())
        #expect(try await store.sequence(id: "renewals") == definition)
    }

    @Test func aTemplateStepWithGreetingIsRefusedNamingTheField() {
        let file = Self.file.replacingOccurrences(of: "type: template\n", with: "type: template\n      greeting: true\n")
        #expect(file.contains("greeting: true"))
        #expect {
            _ = try SequenceFile.parse(file)
        } throws: { error in
            "\(error)".contains("content.greeting")
        }
    }
}
