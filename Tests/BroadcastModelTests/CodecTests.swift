import Foundation
import Testing
@testable import BroadcastModel

@Suite struct CodecTests {
    private func decode(_ json: String) throws(RecordError) -> BroadcastMessage {
        try BroadcastMessage.decode(from: Array(json.utf8))
    }

    /// A valid record's JSON with `replacing` swapped in, to test one thing at a time.
    private func json(_ replacing: String = "", with: String = "") -> String {
        let base = String(decoding: Fixtures.message().encoded(), as: UTF8.self)
        return replacing.isEmpty ? base : base.replacingOccurrences(of: replacing, with: with)
    }

    @Test func roundTripKeepsEveryField() throws {
        var message = Fixtures.message()
        message.recipient.name = "José \"Zé\" Ñúñez 👋🏽 \\ back/slash\ttab\nnewline \u{01} \u{7F} \u{2028}"
        message.content = .init(
            type: .document, text: "Caption with emoji 🎉🇲🇾 and CJK 你好 and \r\n",
            mediaUrl: "https://cdn.example.com/a.pdf?x=1&y=2", fileName: "a b.pdf", greeting: true, variation: true)
        message.delay = .init(minSeconds: 0.25, maxSeconds: 12.125)
        message.scheduledAt = Fixtures.date("2026-11-28T10:00:00.987Z")
        message.expiresAt = Fixtures.date("2026-11-29T23:59:59.001+08:00")
        message.attributes = ["emoji": "🙂", "quote": "\"", "empty": ""]
        let bytes = message.encoded()
        #expect(try BroadcastMessage.decode(from: bytes) == message)
        #expect(try BroadcastMessage.decode(from: Data(bytes)) == message)
        // Foundation agrees with the hand-written encoder, and Codable reads and writes the same contract.
        #expect(try JSONDecoder().decode(BroadcastMessage.self, from: Data(bytes)) == message)
        #expect(try BroadcastMessage.decode(from: JSONEncoder().encode(message)) == message)
    }

    @Test func encodingIsCompactAndStable() {
        let text = String(decoding: Fixtures.message().encoded(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"schema":"broadcast.message.v1","id":"cmp-1:+60123456778""#))
        #expect(text.contains(#""delay":{"minSeconds":5,"maxSeconds":20}"#))
        #expect(text.contains(#""scheduledAt":"2026-11-28T10:00:00.000Z""#))
        #expect(!text.contains("greeting"), "defaults are left out")
        #expect(Fixtures.message().encoded() == Fixtures.message().encoded())
    }

    @Test func controlCharactersAreEscaped() {
        var message = Fixtures.message()
        message.content.text = "a\u{0}b\u{1F}c\"d\\e\nf"
        let text = String(decoding: message.encoded(), as: UTF8.self)
        #expect(text.contains(#""text":"a\u0000b\u001fc\"d\\e\nf""#))
    }

    @Test func stringEscapesAreDecoded() throws {
        let message = try decode(json(#""name":"Aisyah""#, with: #""name":"\u00e9\u4F60\ud83d\ude00\/\b\f\n\r\t\"\\""#))
        #expect(message.recipient.name == "é你😀/\u{8}\u{C}\n\r\t\"\\")
    }

    @Test(arguments: [
        (#""name":"\ud83d""#, "lone high surrogate"),
        (#""name":"\ude00""#, "lone low surrogate"),
        (#""name":"\ud83d\u0041""#, "invalid low surrogate"),
        (#""name":"\x41""#, "invalid escape"),
        (#""name":"\u12G4""#, "invalid hex digit"),
        ("\"name\":\"tab\there\"", "control character"),
    ])
    func badEscapesAreMalformed(fragment: String, reason: String) {
        let error = #expect(throws: RecordError.self) { try decode(json(#""name":"Aisyah""#, with: fragment)) }
        guard case .malformed(let message, let offset)? = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(message.contains(reason))
        #expect(offset > 0)
    }

    @Test(arguments: [
        ("", 0), ("{", 1), (#"{"schema":}"#, 10), (#"{"schema" "x"}"#, 10), ("[1,2", 4),
        (#"{"schema":"broadcast.message.v1",}"#, 33), ("{} x", 3), (#"{"a":01}"#, 6), (#"{"a":1.}"#, 7),
        (#"{"a":tru}"#, 5), (#"{"a":"x"#, 5),
    ])
    func malformedJSONGivesTheOffset(input: String, offset: Int) {
        let error = #expect(throws: RecordError.self) { try decode(input) }
        guard case .malformed(_, let found)? = error else {
            Issue.record("\(input): expected malformed, got \(String(describing: error))")
            return
        }
        #expect(found == offset, "\(input)")
    }

    @Test func invalidUTF8IsMalformed() {
        var bytes = Fixtures.message().encoded()
        let index = bytes.firstIndex(of: UInt8(ascii: "A"))!  // in "Aisyah"
        bytes[index] = 0xFF
        let error = #expect(throws: RecordError.self) { try BroadcastMessage.decode(from: bytes) }
        guard case .malformed(let reason, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("UTF-8"))
    }

    @Test(arguments: [
        [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xF8, 0x88, 0x80, 0x80], [0xE2, 0x82], [0xC3], [0x80], [0xE2, 0x28, 0xA1],
    ] as [[UInt8]])
    func strictUTF8(sequence: [UInt8]) {
        let bytes = Array(#"{"schema":""#.utf8) + sequence + Array(#""}"#.utf8)
        let error = #expect(throws: RecordError.self) { try BroadcastMessage.decode(from: bytes) }
        #expect(error == .malformed(reason: "invalid UTF-8 in string", offset: 11))
    }

    @Test func validUTF8OfEveryLengthIsKept() throws {
        let name = "a é € 😀 \u{10FFFF} \u{FFFD}"
        #expect(try decode(json(#""name":"Aisyah""#, with: #""name":"\#(name)""#)).recipient.name == name)
    }

    @Test func deepNestingInUnknownFieldsIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = #expect(throws: RecordError.self) { try decode(json(#""userId""#, with: #""x":\#(deep),"userId""#)) }
        guard case .malformed(let reason, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("nesting"))
    }

    @Test func schemaProblemsAreReportedFirst() {
        #expect(throws: RecordError.unsupportedSchema(found: "broadcast.message.v2", expected: RecordSchema.message)) {
            try decode(json("broadcast.message.v1", with: "broadcast.message.v2"))
        }
        #expect(throws: RecordError.unsupportedSchema(found: nil, expected: RecordSchema.message)) {
            try decode(json(#""schema":"broadcast.message.v1","#, with: ""))
        }
        // A v2 record whose fields changed kind still reads as "unsupported schema", wherever `schema` is.
        #expect(throws: RecordError.unsupportedSchema(found: "broadcast.message.v2", expected: RecordSchema.message)) {
            try decode(#"{"recipient":"+60123456778","schema":"broadcast.message.v2"}"#)
        }
        #expect(throws: RecordError.unsupportedSchema(found: RecordSchema.status, expected: RecordSchema.message)) {
            try BroadcastMessage.decode(from: StatusEvent(for: Fixtures.message(), status: .sent, at: Date()).encoded())
        }
    }

    @Test func wrongTypesNameTheFieldPath() {
        let cases: [(String, String, String)] = [
            (#""phone":"+60123456778""#, #""phone":60123456778"#, "recipient.phone"),
            (#""minSeconds":5"#, #""minSeconds":"5""#, "delay.minSeconds"),
            (#""type":"text""#, #""type":["text"]"#, "content.type"),
            (#""id":"cmp-1:+60123456778""#, #""id":{}"#, "id"),
        ]
        for (from, to, field) in cases {
            let error = #expect(throws: RecordError.self) { try decode(json(from, with: to)) }
            #expect(error?.fields == [field], "\(to)")
            #expect(error?.description.contains(field) == true)
        }
        #expect(throws: RecordError.wrongType(field: "attributes.tier", expected: "string")) {
            try decode(json(#""createdAt""#, with: #""attributes":{"tier":1},"createdAt""#))
        }
    }

    @Test func missingFieldsAndBadValuesNameTheField() {
        #expect(throws: RecordError.missingField("delay.maxSeconds")) {
            try decode(json(#","maxSeconds":20"#, with: ""))
        }
        #expect(throws: RecordError.missingField("userId")) {
            try decode(json(#""userId":"user-1""#, with: #""userId":null"#))
        }
        let error = #expect(throws: RecordError.self) { try decode(json("2026-11-28T10:00:00.000Z", with: "yesterday")) }
        #expect(error?.fields == ["scheduledAt"])
    }

    @Test func unknownFieldsAreIgnoredAndTheLastDuplicateWins() throws {
        let input = json(#""userId":"user-1""#,
                         with: #""future":{"a":[1,2.5e3,true,false,null,"x\"y"]},"userId":"first","userId":"user-2""#)
        let message = try decode(input)
        #expect(message.userId == "user-2")
    }

    @Test func nullReadsAsAbsentForOptionalFields() throws {
        let message = try decode(json(#""name":"Aisyah""#, with: #""name":null,"extra":null"#))
        #expect(message.recipient.name == nil)
    }

    @Test func whitespaceAndNumberFormsAreAccepted() throws {
        let input = json(#""minSeconds":5,"maxSeconds":20"#, with: " \"minSeconds\" :\n 0.5e1 ,\t\"maxSeconds\": 2E+1 ")
        let message = try decode("\n " + input + " \r\n")
        #expect(message.delay == .init(minSeconds: 5, maxSeconds: 20))
    }
}
