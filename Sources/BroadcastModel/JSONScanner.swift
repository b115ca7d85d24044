import Foundation

/// A pull parser over UTF-8 JSON bytes that the record decoders drive field by field, so a
/// record is read in one pass with no intermediate tree (about 5× faster than `JSONDecoder`,
/// see `broadcast bench codec`).
///
/// Syntax errors throw `malformed` with the byte offset; a value of the wrong kind throws
/// `wrongType` naming the field path the caller passes. Strings must be valid UTF-8, and
/// escapes including surrogate pairs are decoded; lone surrogates are malformed.
struct JSONScanner {
    private let bytes: UnsafeRawBufferPointer
    private(set) var index = 0
    /// Bounds nesting of skipped values so hostile input cannot exhaust the stack.
    private static let maxDepth = 64

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: - Structure

    /// Consumes `{`, or throws `wrongType(path, "object")`.
    mutating func beginObject(_ path: String) throws(RecordError) {
        try expectKind(path, "object", UInt8(ascii: "{"))
        index += 1
    }

    /// Reads the next member name of the current object and its `:`; nil after the closing `}`.
    /// `first` must start true for each object. Duplicate keys are all handed out, so the last wins.
    mutating func nextKey(_ first: inout Bool) throws(RecordError) -> String? {
        skipWhitespace()
        if first {
            first = false
            if peek() == UInt8(ascii: "}") { index += 1; return nil }
        } else {
            switch peek() {
            case UInt8(ascii: "}"): index += 1; return nil
            case UInt8(ascii: ","): index += 1; skipWhitespace()
            default: throw malformed("expected ',' or '}' in object")
            }
        }
        guard peek() == UInt8(ascii: "\"") else { throw malformed("expected a member name in quotes") }
        let key = try readString()
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw malformed("expected ':' after member name") }
        index += 1
        return key
    }

    /// Consumes `[`, or throws `wrongType(path, "array")`.
    mutating func beginArray(_ path: String) throws(RecordError) {
        try expectKind(path, "array", UInt8(ascii: "["))
        index += 1
    }

    /// True when another element of the current array follows (positioned at it); false after the
    /// closing `]`. `first` must start true for each array.
    mutating func nextElement(_ first: inout Bool) throws(RecordError) -> Bool {
        skipWhitespace()
        if first {
            first = false
            if peek() == UInt8(ascii: "]") { index += 1; return false }
            return true
        }
        switch peek() {
        case UInt8(ascii: "]"): index += 1; return false
        case UInt8(ascii: ","): index += 1; return true
        default: throw malformed("expected ',' or ']' in array")
        }
    }

    /// Checks nothing but whitespace follows the top-level value.
    mutating func end() throws(RecordError) {
        skipWhitespace()
        guard index == bytes.count else { throw malformed("unexpected characters after the record") }
    }

    // MARK: - Values

    /// True (and consumed) when the next value is `null`: optional fields read it as absent.
    mutating func skipNull() throws(RecordError) -> Bool {
        skipWhitespace()
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func string(_ path: String) throws(RecordError) -> String {
        try expectKind(path, "string", UInt8(ascii: "\""))
        return try readString()
    }

    mutating func bool(_ path: String) throws(RecordError) -> Bool {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: try expectKind(path, "boolean", 0); return false
        }
    }

    mutating func double(_ path: String) throws(RecordError) -> Double {
        try expectNumber(path, "number")
        let start = index
        try scanNumber()
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text) else { throw malformed("unreadable number", at: start) }
        return value
    }

    /// Reads an integer; like JSON Schema, `3.0` counts as an integer but `3.5` does not.
    mutating func int64(_ path: String) throws(RecordError) -> Int64 {
        try expectNumber(path, "integer")
        let start = index
        let isPlain = try scanNumber()
        if isPlain, let value = Int64(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)) {
            return value
        }
        index = start
        let value = try double(path)
        guard value == value.rounded(), abs(value) < 9.2e18 else {
            throw RecordError.wrongType(field: path, expected: "integer")
        }
        return Int64(value)
    }

    /// Skips any value, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws(RecordError) {
        guard depth < Self.maxDepth else { throw malformed("nesting deeper than \(Self.maxDepth) levels") }
        skipWhitespace()
        guard let byte = peek() else { throw malformed("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            index += 1
            var first = true
            while try nextKey(&first) != nil { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { index += 1; return }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return
                default: throw malformed("expected ',' or ']' in array")
                }
            }
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw malformed("unexpected character")
        }
    }

    /// The top-level string member `name`, if the input is an object that has one (last wins).
    /// Used on error paths only, to report a foreign schema before other complaints.
    static func topLevelString(_ name: String, in bytes: UnsafeRawBufferPointer) -> String? {
        var scanner = JSONScanner(bytes)
        var found: String?
        do {
            try scanner.beginObject("")
            var first = true
            while let key = try scanner.nextKey(&first) {
                if key == name, let value = try? scanner.string(name) {
                    found = value
                } else {
                    try scanner.skipValue()
                }
            }
        } catch {
            return found
        }
        return found
    }

    // MARK: - Lexing

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private func malformed(_ reason: String, at offset: Int? = nil) -> RecordError {
        .malformed(reason: reason, offset: offset ?? index)
    }

    /// Throws `wrongType` if the next value is some other valid value, `malformed` if it is not
    /// a value at all; leaves the index on the value's first byte.
    private mutating func expectKind(_ path: String, _ kind: String, _ opener: UInt8) throws(RecordError) {
        skipWhitespace()
        guard let byte = peek() else { throw malformed("unexpected end of input") }
        if byte == opener { return }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "t"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            throw RecordError.wrongType(field: path, expected: kind)
        default:
            throw malformed("unexpected character")
        }
    }

    private mutating func expectNumber(_ path: String, _ kind: String) throws(RecordError) {
        skipWhitespace()
        if let byte = peek(), byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39) { return }
        try expectKind(path, kind, 0)
    }

    private mutating func literal(_ word: StaticString) throws(RecordError) {
        let matches = word.withUTF8Buffer { expected in
            bytes.count - index >= expected.count
                && expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw malformed("invalid literal") }
        index += word.utf8CodeUnitCount
    }

    /// Checks the JSON number grammar; returns true for a plain integer (no fraction or exponent).
    @discardableResult
    private mutating func scanNumber() throws(RecordError) -> Bool {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), first >= 0x30, first <= 0x39 else { throw malformed("invalid number", at: start) }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        var plain = true
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() else { throw malformed("digit expected after '.'") }
            plain = false
        }
        if let e = peek(), e | 0x20 == UInt8(ascii: "e") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() else { throw malformed("digit expected in exponent") }
            plain = false
        }
        return plain
    }

    @discardableResult
    private mutating func skipDigits() -> Bool {
        let start = index
        while let b = peek(), b >= 0x30, b <= 0x39 { index += 1 }
        return index > start
    }

    /// Reads a string whose opening quote is at `index`.
    private mutating func readString() throws(RecordError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes, so the bytes can become a String directly.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return try utf8String(raw, at: start)
            }
            if byte == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            if byte < 0x20 { throw malformed("control character in string") }
            index += 1
        }
        throw malformed("unterminated string", at: start - 1)
    }

    /// Makes a String from raw bytes, refusing invalid UTF-8 (`String(decoding:)` would repair
    /// it silently). Validates by hand: the generic `String(validating:)` cost 15% of decoding.
    private func utf8String(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(RecordError) -> String {
        guard UTF8Validation.isValid(raw) else { throw malformed("invalid UTF-8 in string", at: offset) }
        return String(decoding: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    private mutating func readEscapedString(from start: Int) throws(RecordError) -> String {
        var out = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try out.withUnsafeBytes { raw in
                    Result { () throws(RecordError) in try utf8String(raw, at: start) }
                }.get()
            case UInt8(ascii: "\\"):
                index += 1
                try readEscape(into: &out)
            case ..<0x20:
                throw malformed("control character in string")
            default:
                out.append(byte)
                index += 1
            }
        }
        throw malformed("unterminated string", at: start - 1)
    }

    /// Decodes the escape after a backslash and appends its UTF-8.
    private mutating func readEscape(into out: inout [UInt8]) throws(RecordError) {
        guard let byte = peek() else { throw malformed("unterminated string") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw malformed("lone high surrogate in \\u escape") }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw malformed("invalid low surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw malformed("lone low surrogate in \\u escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw malformed("invalid \\u escape") }
            UTF8.encode(unicode) { out.append($0) }
        default:
            throw malformed("invalid escape '\\\(Unicode.Scalar(byte))'", at: index - 2)
        }
    }

    private mutating func hex4() throws(RecordError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw malformed("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - 0x57
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - 0x37
            default: throw malformed("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
