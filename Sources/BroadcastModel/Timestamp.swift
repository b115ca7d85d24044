import Foundation

/// RFC 3339 timestamps, parsed and formatted by hand: both run once or more per record on
/// the worker's hot path, and Foundation's formatters are slow and locale-sensitive.
///
/// Accepted: `2026-11-28T10:00:00Z`, any number of fractional digits, `z`/`t` in either case,
/// `±HH:MM` offsets. Not accepted: leap seconds, year 0000, missing offset (the same rules as
/// the JSON Schema `date-time` format checker). Fractions are rounded to milliseconds.
public enum Timestamp {
    /// Parses an RFC 3339 timestamp, or returns nil.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Formats as UTC with milliseconds, e.g. `2026-11-28T10:00:00.000Z`.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Milliseconds since 1970 for `date`, rounded; the unit every encoded timestamp uses.
    static func milliseconds(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        // Dates outside years 1...9999 cannot be written in RFC 3339; clamp instead of trapping.
        return Int64(min(max(ms, -62_135_596_800_000), 253_402_300_799_999))
    }

    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func parse(_ b: UnsafeRawBufferPointer) -> Date? {
        // Fixed part: YYYY-MM-DDTHH:MM:SS is 19 bytes, then fraction and offset.
        guard b.count >= 20,
              let year = digits(b, 0, 4), b[4] == UInt8(ascii: "-"),
              let month = digits(b, 5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(b, 8, 2), b[10] | 0x20 == UInt8(ascii: "t"),
              let hour = digits(b, 11, 2), b[13] == UInt8(ascii: ":"),
              let minute = digits(b, 14, 2), b[16] == UInt8(ascii: ":"),
              let second = digits(b, 17, 2),
              year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }

        var i = 19
        var millis: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            var scaled: Int64 = 0  // first four fraction digits, in 1/10 ms
            while i < b.count, let d = digit(b[i]) {
                if i - start < 4 { scaled = scaled * 10 + Int64(d) }
                i += 1
            }
            guard i > start else { return nil }
            for _ in 0..<max(0, 4 - (i - start)) { scaled *= 10 }
            millis = (scaled + 5) / 10  // round half up to milliseconds
        }

        var offsetMinutes = 0
        guard i < b.count else { return nil }
        if b[i] | 0x20 == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard b.count - i >= 6, let oh = digits(b, i + 1, 2), b[i + 3] == UInt8(ascii: ":"),
                  let om = digits(b, i + 4, 2), oh <= 23, om <= 59
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }

        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetMinutes * 60)
        return date(milliseconds: seconds * 1000 + millis)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC) to `out`.
    static func append(_ date: Date, to out: inout [UInt8]) {
        let ms = milliseconds(date)
        let (secs, millis) = floorDivide(ms, 1000)
        let (days, secOfDay) = floorDivide(secs, 86_400)
        let (y, m, d) = civilFromDays(Int(days))
        let s = Int(secOfDay)
        pad(y, 4, &out); out.append(UInt8(ascii: "-"))
        pad(m, 2, &out); out.append(UInt8(ascii: "-"))
        pad(d, 2, &out); out.append(UInt8(ascii: "T"))
        pad(s / 3600, 2, &out); out.append(UInt8(ascii: ":"))
        pad(s / 60 % 60, 2, &out); out.append(UInt8(ascii: ":"))
        pad(s % 60, 2, &out); out.append(UInt8(ascii: "."))
        pad(Int(millis), 3, &out); out.append(UInt8(ascii: "Z"))
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms)

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let r = a % b
        return r < 0 ? (a / b - 1, r + b) : (a / b, r)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    private static func digits(_ b: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> Int? {
        var value = 0
        for i in at..<(at + count) {
            guard let d = digit(b[i]) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    private static func pad(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(0x30 + v / divisor % 10))
            v %= divisor
            divisor /= 10
        }
    }
}

extension JSONEncoder {
    /// Sorted keys and dates as ``Timestamp/format(_:)`` writes them: the JSON the tools print and
    /// store, stable from run to run.
    public static func sortedWithTimestamps(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }
}

extension JSONDecoder {
    /// Reads dates written by ``JSONEncoder/sortedWithTimestamps(pretty:)`` (any RFC 3339 form).
    public static func withTimestamps() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not RFC 3339: \(text)"))
            }
            return date
        }
        return decoder
    }
}
