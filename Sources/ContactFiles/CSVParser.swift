/// An RFC 4180 parser that is fed bytes in pieces and hands out whole records.
///
/// Handles quoted fields with embedded commas, quotes (`""`) and line breaks, CRLF, LF and bare CR
/// line ends, and a UTF-8 byte order mark. It is lenient where exports commonly bend the rules (a
/// quote inside an unquoted field is kept as text) and reports, per record, what it cannot read.
/// Memory stays bounded: a field longer than ``maxFieldBytes`` (almost always a missing closing
/// quote) is cut and the record reported.
public struct CSVParser: Sendable {
    public static let maxFieldBytes = 64 * 1024

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }

    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var problem: String?
    private var line = 1
    private var recordLine = 1
    private var recordStarted = false
    private var lastWasCR = false
    private var atFileStart = true
    private var bomMatched = 0

    public init() {}

    /// Parses `bytes` and calls `emit` for each record completed by them.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, emit: (CSVRecord) -> Void) {
        var index = bytes.startIndex
        // A BOM may be split across pieces; match it byte by byte at the very start of the file.
        while atFileStart, index < bytes.endIndex {
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            if bytes[index] == bom[bomMatched] {
                bomMatched += 1
                index += 1
                if bomMatched == 3 { atFileStart = false }
            } else {
                atFileStart = false
                // A partial BOM match was real data (never valid UTF-8 at a start anyway).
                for byte in bom[..<bomMatched] { consume(byte, emit: emit) }
            }
        }
        while index < bytes.endIndex {
            // Inside a field, copy the run up to the next byte that can end or change it at once:
            // most bytes of a file are plain field text, and a byte at a time is the slow part.
            if !lastWasCR, state == .unquoted || state == .quoted {
                let quoted = state == .quoted
                var end = index
                while end < bytes.endIndex {
                    let byte = bytes[end]
                    if byte == 0x2C && !quoted || byte == 0x22 && quoted || byte == 0x0D || byte == 0x0A { break }
                    end += 1
                }
                if end > index {
                    append(UnsafeBufferPointer(rebasing: bytes[index..<end]))
                    index = end
                    continue
                }
            }
            consume(bytes[index], emit: emit)
            index += 1
        }
    }

    /// Ends the input: emits the last record when the file does not end with a line break.
    public mutating func finish(emit: (CSVRecord) -> Void) {
        if state == .quoted {
            note("a quoted field never closes (missing \")")
        }
        if recordStarted || !fields.isEmpty || !field.isEmpty {
            endField()
            endRecord(emit: emit)
        }
    }

    private mutating func consume(_ byte: UInt8, emit: (CSVRecord) -> Void) {
        let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        // LF right after CR ends nothing new: CRLF is one line end.
        if lastWasCR {
            lastWasCR = false
            if byte == lf {
                // The line was counted at the CR; inside quotes the LF is still part of the field.
                if state == .quoted { append(lf) }
                return
            }
        }
        if !recordStarted {
            recordStarted = true
            recordLine = line
        }
        switch state {
        case .fieldStart:
            switch byte {
            case quote: state = .quoted
            case comma: endField()
            case cr, lf: lineBreak(byte); endField(); endRecord(emit: emit)
            default: state = .unquoted; append(byte)
            }
        case .unquoted:
            switch byte {
            case comma: endField()
            case cr, lf: lineBreak(byte); endField(); endRecord(emit: emit)
            default: append(byte)  // includes a stray quote: kept as text
            }
        case .quoted:
            switch byte {
            case quote: state = .quoteInQuoted
            case cr, lf: lineBreak(byte); append(byte)
            default: append(byte)
            }
        case .quoteInQuoted:
            switch byte {
            case quote: append(quote); state = .quoted
            case comma: endField()
            case cr, lf: lineBreak(byte); endField(); endRecord(emit: emit)
            default:
                note("text after the closing quote of field \(fields.count + 1)")
                state = .unquoted
                append(byte)
            }
        }
    }

    private mutating func lineBreak(_ byte: UInt8) {
        line += 1
        lastWasCR = byte == 0x0D
    }

    private mutating func append(_ byte: UInt8) {
        if field.count < Self.maxFieldBytes {
            field.append(byte)
        } else if problem == nil {
            note("field \(fields.count + 1) is longer than \(Self.maxFieldBytes) bytes (a missing closing quote?)")
        }
    }

    private mutating func append(_ run: UnsafeBufferPointer<UInt8>) {
        let room = Self.maxFieldBytes - field.count
        if run.count <= room {
            field.append(contentsOf: run)
        } else {
            if room > 0 { field.append(contentsOf: UnsafeBufferPointer(rebasing: run[..<room])) }
            note("field \(fields.count + 1) is longer than \(Self.maxFieldBytes) bytes (a missing closing quote?)")
        }
    }

    private mutating func note(_ text: String) {
        if problem == nil { problem = text }
    }

    private mutating func endField() {
        if let text = String(validating: field, as: UTF8.self) {
            fields.append(text)
        } else {
            note("field \(fields.count + 1) is not valid UTF-8 (save the file as UTF-8)")
            fields.append(String(decoding: field, as: UTF8.self))
        }
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endRecord(emit: (CSVRecord) -> Void) {
        emit(CSVRecord(line: recordLine, fields: fields, problem: problem))
        fields.removeAll(keepingCapacity: true)
        problem = nil
        recordStarted = false
        state = .fieldStart
    }
}
