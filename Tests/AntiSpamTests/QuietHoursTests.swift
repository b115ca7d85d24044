import Foundation
import Testing
@testable import AntiSpam

@Suite struct QuietHoursTests {
    func quiet(_ from: String, _ to: String) throws -> QuietHours {
        try QuietHours(from: from, to: to)
    }

    @Test func parsingErrorsNameTheBadValue() {
        #expect(throws: QuietHoursError.invalidTime(field: "from", value: "25:00")) { try QuietHours(from: "25:00", to: "08:00") }
        #expect(throws: QuietHoursError.invalidTime(field: "to", value: "8h")) { try QuietHours(from: "21:00", to: "8h") }
        #expect(throws: QuietHoursError.invalidTime(field: "to", value: "24:00")) { try QuietHours(from: "21:00", to: "24:00") }
        #expect(throws: QuietHoursError.emptyWindow("09:00")) { try QuietHours(from: "9:00", to: "09:00") }
        #expect(QuietHoursError.invalidTime(field: "from", value: "25:00").description.contains("\"25:00\""))
        #expect(ClockTime(parsing: "7:05")?.description == "07:05")
        #expect(ClockTime(parsing: "07:5") == nil)
        #expect(ClockTime(parsing: "-1:00") == nil)
    }

    @Test func wrapAroundMidnight() throws {
        let window = try quiet("21:00", "08:00")
        #expect(window.wrapsMidnight)
        #expect(window.nextOpen(after: Fixture.date("2026-01-10T20:59:00Z"), timeZone: Fixture.utc) == nil)
        #expect(window.nextOpen(after: Fixture.date("2026-01-10T21:00:00Z"), timeZone: Fixture.utc) == Fixture.date("2026-01-11T08:00:00Z"))
        #expect(window.nextOpen(after: Fixture.date("2026-01-11T00:00:00Z"), timeZone: Fixture.utc) == Fixture.date("2026-01-11T08:00:00Z"))
        #expect(window.nextOpen(after: Fixture.date("2026-01-11T07:59:59Z"), timeZone: Fixture.utc) == Fixture.date("2026-01-11T08:00:00Z"))
        #expect(window.nextOpen(after: Fixture.date("2026-01-11T08:00:00Z"), timeZone: Fixture.utc) == nil)
    }

    @Test func sameDayWindow() throws {
        let lunch = try quiet("12:00", "14:00")
        #expect(lunch.nextOpen(after: Fixture.date("2026-01-10T04:30:00Z"), timeZone: Fixture.kualaLumpur)
            == Fixture.date("2026-01-10T06:00:00Z"))  // 12:30 → 14:00 in KL
        #expect(lunch.nextOpen(after: Fixture.date("2026-01-10T06:00:00Z"), timeZone: Fixture.kualaLumpur) == nil)
        #expect(lunch.nextOpen(after: Fixture.date("2026-01-10T03:59:00Z"), timeZone: Fixture.kualaLumpur) == nil)
    }

    /// 2026-03-08: New York springs forward, 02:00 EST → 03:00 EDT.
    @Test func newYorkSpringForward() throws {
        let night = try quiet("21:00", "08:00")
        // 01:00 EST; the window ends at 08:00 EDT = 12:00Z (not 13:00Z as with the old offset).
        #expect(night.nextOpen(after: Fixture.date("2026-03-08T06:00:00Z"), timeZone: Fixture.newYork) == Fixture.date("2026-03-08T12:00:00Z"))
        // A boundary in the skipped hour resolves to the next valid instant, 03:00 EDT = 07:00Z.
        let skipped = try quiet("22:00", "02:30")
        #expect(skipped.nextOpen(after: Fixture.date("2026-03-08T06:30:00Z"), timeZone: Fixture.newYork) == Fixture.date("2026-03-08T07:00:00Z"))
        #expect(skipped.nextOpen(after: Fixture.date("2026-03-08T07:00:00Z"), timeZone: Fixture.newYork) == nil)
        // A window starting in the skipped hour starts at 03:00 EDT.
        let startsInGap = try quiet("02:30", "05:00")
        #expect(startsInGap.nextOpen(after: Fixture.date("2026-03-08T06:59:00Z"), timeZone: Fixture.newYork) == nil)
        #expect(startsInGap.nextOpen(after: Fixture.date("2026-03-08T07:00:00Z"), timeZone: Fixture.newYork) == Fixture.date("2026-03-08T09:00:00Z"))
    }

    /// 2026-11-01: New York falls back, 02:00 EDT → 01:00 EST (01:00–02:00 happens twice).
    @Test func newYorkFallBack() throws {
        let night = try quiet("21:00", "08:00")
        // Midnight EDT; the window ends at 08:00 EST = 13:00Z.
        #expect(night.nextOpen(after: Fixture.date("2026-11-01T04:00:00Z"), timeZone: Fixture.newYork) == Fixture.date("2026-11-01T13:00:00Z"))
        // An end inside the repeated hour is its first occurrence, and the window stays open after.
        let early = try quiet("00:00", "01:30")
        #expect(early.nextOpen(after: Fixture.date("2026-11-01T05:00:00Z"), timeZone: Fixture.newYork) == Fixture.date("2026-11-01T05:30:00Z"))
        #expect(early.nextOpen(after: Fixture.date("2026-11-01T05:45:00Z"), timeZone: Fixture.newYork) == nil)
        #expect(early.nextOpen(after: Fixture.date("2026-11-01T06:15:00Z"), timeZone: Fixture.newYork) == nil)  // 01:15 EST
    }

    /// Lisbon: 2026-03-29 01:00 WET → 02:00 WEST; 2026-10-25 02:00 WEST → 01:00 WET.
    @Test func lisbonBothChanges() throws {
        let window = try quiet("00:30", "01:30")
        // 01:30 does not exist on 29 March: the window ends at 02:00 WEST = 01:00Z.
        #expect(window.nextOpen(after: Fixture.date("2026-03-29T00:45:00Z"), timeZone: Fixture.lisbon) == Fixture.date("2026-03-29T01:00:00Z"))
        #expect(window.nextOpen(after: Fixture.date("2026-03-29T01:00:00Z"), timeZone: Fixture.lisbon) == nil)
        let night = try quiet("22:00", "07:00")
        // 23:00 WEST on 24 Oct; the window ends at 07:00 WET = 07:00Z after the clocks go back.
        #expect(night.nextOpen(after: Fixture.date("2026-10-24T22:00:00Z"), timeZone: Fixture.lisbon) == Fixture.date("2026-10-25T07:00:00Z"))
        // Summer: 07:00 WEST = 06:00Z.
        #expect(night.nextOpen(after: Fixture.date("2026-07-01T03:00:00Z"), timeZone: Fixture.lisbon) == Fixture.date("2026-07-01T06:00:00Z"))
    }
}
