import BroadcastModel
import Foundation

/// A drip sequence: ordered steps sent to each enrolled contact, counted in days from enrolment.
public struct SequenceDefinition: Equatable, Sendable, Codable {
    /// Stable id; part of every message id, so it is short and URL-safe (see ``SequenceValidator``).
    public var id: String
    public var name: String?
    /// The owner, copied to every message.
    public var userId: String
    /// In send order; day offsets never decrease.
    public var steps: [SequenceStep]
    /// A sequence to enrol the contact in when the last step is done.
    public var handOver: String?

    public init(id: String, name: String? = nil, userId: String, steps: [SequenceStep], handOver: String? = nil) {
        self.id = id
        self.name = name
        self.userId = userId
        self.steps = steps
        self.handOver = handOver
    }
}

/// One message of a sequence.
public struct SequenceStep: Equatable, Sendable, Codable {
    /// Unique within the sequence; becomes `sequenceStepId`.
    public var id: String
    /// Days after the enrolment day (0 = the enrolment day itself).
    public var dayOffset: Int
    /// When, in local time, the step may be sent.
    public var window: SendWindow
    /// Carried as a template: placeholders and spintax are rendered by the worker.
    public var content: BroadcastMessage.Content
    public var delay: BroadcastMessage.Delay

    public init(id: String, dayOffset: Int, window: SendWindow, content: BroadcastMessage.Content, delay: BroadcastMessage.Delay) {
        self.id = id
        self.dayOffset = dayOffset
        self.window = window
        self.content = content
        self.delay = delay
    }
}

/// A same-day local window, e.g. 09:00–12:00 in Asia/Kuala_Lumpur. Windows never span midnight.
public struct SendWindow: Equatable, Sendable, Codable {
    public var start: TimeOfDay
    public var end: TimeOfDay
    /// An IANA time zone identifier, e.g. `America/New_York`.
    public var timeZone: String

    public init(start: TimeOfDay, end: TimeOfDay, timeZone: String) {
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }
}

/// A wall-clock time, minute precision.
public struct TimeOfDay: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    public init(hour: Int, minute: Int) {
        self.hour = hour
        self.minute = minute
    }

    /// Parses `HH:MM` (or `H:MM`), 00:00 to 23:59; nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        self.init(hour: hour, minute: minute)
    }

    public var minutesSinceMidnight: Int { hour * 60 + minute }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutesSinceMidnight < rhs.minutesSinceMidnight }

    public var description: String {
        (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    // Stored and encoded as "HH:MM", the form people write in sequence files.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = TimeOfDay(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not HH:MM"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
