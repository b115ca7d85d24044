/// A row that cannot be published: its line in the file (1-based, header is line 1) and why.
public struct RecipientIssue: Sendable, Equatable, Codable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

/// One recipient as it will be published.
public struct PlannedRecipient: Sendable, Equatable {
    public var line: Int
    /// E.164.
    public var phone: String
    public var name: String?
    public var deviceId: String
    /// True when the row's `device` column chose the device.
    public var pinned: Bool
    public var attributes: [String: String]?
    public var messageId: String
}
