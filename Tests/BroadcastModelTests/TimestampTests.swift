import Foundation
import Testing
@testable import BroadcastModel

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-28T10:00:00Z", 1_795_860_000_000),
        ("2026-11-28T10:00:00.123Z", 1_795_860_000_123),
        ("2026-11-28T10:00:00.1Z", 1_795_860_000_100),
        ("2026-11-28T10:00:00.123456789Z", 1_795_860_000_123),
        ("2026-11-28T10:00:00.9996Z", 1_795_860_001_000),
        ("2026-11-28T18:00:00+08:00", 1_795_860_000_000),
        ("2026-11-28T04:30:00-05:30", 1_795_860_000_000),
        ("2026-11-28t10:00:00z", 1_795_860_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
    ] as [(String, Int64)])
    func parses(text: String, milliseconds: Int64) {
        #expect(Timestamp.parse(text).map(Timestamp.milliseconds) == milliseconds, "\(text)")
    }

    @Test(arguments: [
        "2026-11-28", "2026-11-28T10:00:00", "2026-11-28 10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-11-31T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T10:60:00Z",
        "2026-11-28T10:00:60Z", "2026-11-28T10:00:00.Z", "2026-11-28T10:00:00+0800", "2026-11-28T10:00:00+24:00",
        "0000-01-01T00:00:00Z", "2026-11-28T10:00:00Zx", "+2026-11-28T10:00:00Z", "２026-11-28T10:00:00Z",
    ])
    func refuses(text: String) {
        #expect(Timestamp.parse(text) == nil, "\(text)")
    }

    @Test func formatsUTCWithMilliseconds() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_860_000.5)) == "2026-11-28T10:00:00.500Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func formatThenParseIsExactForEveryMillisecondOfADay() {
        var ms: Int64 = 1_795_800_000_000
        while ms < 1_795_886_400_000 {
            let date = Timestamp.date(milliseconds: ms)
            #expect(Timestamp.parse(Timestamp.format(date)) == date)
            ms += 997  // a stride that visits every millisecond digit
        }
    }
}
