import Foundation

/// Fixed instants and zones so every test is a pure function of its inputs.
enum Fixture {
    static func date(_ iso: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: iso) else { fatalError("bad fixture date \(iso)") }
        return date
    }

    static func zone(_ identifier: String) -> TimeZone {
        guard let zone = TimeZone(identifier: identifier) else { fatalError("unknown zone \(identifier)") }
        return zone
    }

    static let newYork = zone("America/New_York")
    static let kualaLumpur = zone("Asia/Kuala_Lumpur")
    static let lisbon = zone("Europe/Lisbon")
    static let utc = zone("UTC")
}
