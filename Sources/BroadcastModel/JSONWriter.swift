import Foundation

/// Appends a JSON object to a byte buffer. Hand-written because encoding runs once per
/// status event on the worker's hot path; it writes keys in a fixed order and never allocates
/// more than the output buffer.
struct JSONWriter {
    private(set) var bytes: [UInt8]
    private var needsComma = false

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// The bytes `body` writes in the middle of an object whose earlier members are written
    /// elsewhere: no opening brace, and the first member is preceded by a comma. For pre-encoded
    /// record parts.
    static func fragment(_ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.bytes.removeAll(keepingCapacity: true)
        writer.needsComma = true
        body(&writer)
        return writer.bytes
    }

    /// The start of a record: `{`, the `schema` member, and the key of the first member after it.
    static func recordHead(schema: String, firstKey: StaticString) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.field("schema", schema)
        writer.key(firstKey)
        return writer.bytes
    }

    /// Closes the top-level object and returns the bytes.
    consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// Writes `"key":`; keys are ASCII literals so they need no escaping.
    mutating func key(_ key: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ key: StaticString, _ value: String) {
        self.key(key)
        appendString(value)
    }

    /// Writes the field only when `value` is present: absent and `null` read the same.
    mutating func field(_ key: StaticString, _ value: String?) {
        if let value { field(key, value) }
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        self.key(key)
        appendLiteral(value ? "true" : "false")
    }

    mutating func field<I: BinaryInteger>(_ key: StaticString, _ value: I) {
        self.key(key)
        appendLiteral(String(value))
    }

    mutating func field(_ key: StaticString, _ value: Double) {
        self.key(key)
        appendNumber(value)
    }

    mutating func field(_ key: StaticString, _ date: Date) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        Timestamp.append(date, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func field(_ key: StaticString, _ date: Date?) {
        if let date { field(key, date) }
    }

    /// Opens a nested object; `body` writes its fields.
    mutating func object(_ key: StaticString, _ body: (inout JSONWriter) -> Void) {
        beginObject(key)
        body(&self)
        endObject()
    }

    mutating func beginObject(_ key: StaticString) {
        self.key(key)
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Opens an array member; elements follow with ``arrayElementObject(first:_:)``, then ``endArray()``.
    mutating func beginArray(_ key: StaticString) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// `"key":["a","b"]`.
    mutating func strings(_ key: StaticString, _ values: [String]) {
        beginArray(key)
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(value)
        }
        endArray()
    }

    /// One object element of the open array.
    mutating func arrayElementObject(first: Bool, _ body: (inout JSONWriter) -> Void) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
    }

    /// An array of two-integer arrays, `[[a,b],…]` (compact counters such as sends per minute).
    mutating func pairs<S: Sequence>(_ key: StaticString, _ values: S) where S.Element == (Int64, Int64) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        var first = true
        for (a, b) in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "["))
            appendLiteral(String(a))
            bytes.append(UInt8(ascii: ","))
            appendLiteral(String(b))
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes a string map with keys sorted, so equal values encode to equal bytes.
    mutating func field(_ key: StaticString, _ map: [String: String]?) {
        guard let map else { return }
        self.key(key)
        bytes.append(UInt8(ascii: "{"))
        for (index, (name, value)) in map.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(name)
            bytes.append(UInt8(ascii: ":"))
            appendString(value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func appendLiteral(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Integral values are written without a fraction (`5`, not `5.0`); others use Swift's
    /// shortest round-trip form, which is valid JSON. Non-finite values have no JSON form.
    private mutating func appendNumber(_ value: Double) {
        if !value.isFinite {
            appendLiteral("null")
        } else if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            appendLiteral(String(Int64(value)))
        } else {
            appendLiteral(value.description)
        }
    }

    /// Writes a JSON string, escaping `"`, `\` and control characters; all else stays raw UTF-8.
    mutating func appendString(_ value: String) {
        Self.appendString(value, to: &bytes)
    }

    static func appendString(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                appendEscape(byte, to: &bytes)
                runStart = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        }
    }
}
