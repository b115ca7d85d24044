import Foundation
import Sequences
import Testing

/// The shipped example stays valid: the files an operator copies first.
@Suite("examples/sequence")
struct ExampleFilesTests {
    let folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/sequence")

    @Test func sequencesParseAndHandOver() throws {
        let welcome = try SequenceFile.load(path: folder.appendingPathComponent("sequence.yaml").path)
        let nurture = try SequenceFile.load(path: folder.appendingPathComponent("nurture.yaml").path)
        #expect(welcome.steps.count == 3)
        #expect(welcome.handOver == nurture.id)
    }

    @Test func contactsImportCleanly() throws {
        let text = try String(contentsOf: folder.appendingPathComponent("contacts.csv"), encoding: .utf8)
        let result = try ContactImport(defaultDeviceId: "dev-kl-1", defaultCountryCode: "60").parse(text)
        #expect(result.problems == [])
        #expect(result.contacts.count == 10)
        #expect(Set(result.contacts.map(\.phone)).count == 10)
    }
}
