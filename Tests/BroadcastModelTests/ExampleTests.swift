import Foundation
import Testing
@testable import BroadcastModel

/// The shared examples under schemas/examples: the JSON Schemas (.ci/check-schemas.py) and
/// this code must agree on every one.
@Suite struct ExampleTests {
    @Test func validExamplesDecodeAndValidate() throws {
        let files = try Fixtures.files("valid")
        #expect(files.filter { $0.lastPathComponent.hasPrefix("message-") }.count >= 4)
        #expect(files.filter { $0.lastPathComponent.hasPrefix("status-") }.count >= 2)
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: file))
            let name = file.lastPathComponent
            do {
                if name.hasPrefix("message-") {
                    let message = try BroadcastMessage.decodeValidated(from: bytes)
                    // Re-encoding must give a record that reads back the same.
                    #expect(try BroadcastMessage.decodeValidated(from: message.encoded()) == message, "\(name)")
                } else if name.hasPrefix("inbound-") {
                    let inbound = try InboundMessage.decodeValidated(from: bytes)
                    #expect(try InboundMessage.decodeValidated(from: inbound.encoded()) == inbound, "\(name)")
                } else if name.hasPrefix("device-") {
                    let state = try DeviceStateRecord.decodeValidated(from: bytes)
                    #expect(try DeviceStateRecord.decodeValidated(from: state.encoded()) == state, "\(name)")
                } else if name.hasPrefix("claim-") {
                    let claim = try RecipientClaim.decodeValidated(from: bytes)
                    #expect(try RecipientClaim.decodeValidated(from: claim.encoded()) == claim, "\(name)")
                } else {
                    let event = try StatusEvent.decodeValidated(from: bytes)
                    #expect(try StatusEvent.decodeValidated(from: event.encoded()) == event, "\(name)")
                }
            } catch {
                Issue.record("\(name) was refused: \(error)")
            }
        }
    }

    @Test func invalidExamplesAreRefusedNamingTheField() throws {
        let expected = try Fixtures.expectedFields()
        let files = try Fixtures.files("invalid")
        #expect(files.count >= 8)
        #expect(Set(files.map(\.lastPathComponent)) == Set(expected.keys), "invalid-fields.json must list every invalid example")
        for file in files {
            let name = file.lastPathComponent
            let bytes = [UInt8](try Data(contentsOf: file))
            let error: RecordError? = if name.hasPrefix("message-") {
                #expect(throws: RecordError.self) { try BroadcastMessage.decodeValidated(from: bytes) }
            } else if name.hasPrefix("inbound-") {
                #expect(throws: RecordError.self) { try InboundMessage.decodeValidated(from: bytes) }
            } else if name.hasPrefix("device-") {
                #expect(throws: RecordError.self) { try DeviceStateRecord.decodeValidated(from: bytes) }
            } else if name.hasPrefix("claim-") {
                #expect(throws: RecordError.self) { try RecipientClaim.decodeValidated(from: bytes) }
            } else {
                #expect(throws: RecordError.self) { try StatusEvent.decodeValidated(from: bytes) }
            }
            guard let error, let field = expected[name] else { continue }
            #expect(error.fields.contains(field), "\(name): expected an error naming \(field), got \(error)")
            #expect(error.description.contains(field), "\(name): the message should name \(field): \(error)")
        }
    }

    @Test func textTooLongExampleIsReallyLong() throws {
        let data = try Data(contentsOf: Fixtures.examples.appendingPathComponent("invalid/message-text-too-long.json"))
        let message = try BroadcastMessage.decode(from: data)
        #expect(message.content.text?.unicodeScalars.count == 4097)
    }

    @Test func schemasAreValidJSONWithTheSchemaIDs() throws {
        for id in [RecordSchema.message, RecordSchema.status, RecordSchema.inbound, RecordSchema.device, RecordSchema.recipientClaim] {
            let url = Fixtures.schemas.appendingPathComponent("\(id).schema.json")
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
            let properties = object?["properties"] as? [String: Any]
            let schema = properties?["schema"] as? [String: Any]
            #expect(schema?["const"] as? String == id)
        }
    }
}
