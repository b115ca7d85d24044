import Foundation

/// A line of an opt-out file that is not an E.164 phone number.
public struct OptOutLineIssue: Sendable, Equatable, CustomStringConvertible {
    /// 1-based, as an editor shows it.
    public var line: Int
    public var content: String

    public init(line: Int, content: String) {
        self.line = line
        self.content = content
    }

    public var description: String {
        "line \(line): \"\(content)\" is not an E.164 phone number (expected + and 7–15 digits, e.g. +60123456789)"
    }
}

public struct OptOutParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var issues: [OptOutLineIssue]

    public init(issues: [OptOutLineIssue]) {
        self.issues = issues
    }

    public var description: String {
        "opt-out list has \(issues.count) invalid line(s); fix or comment them out with #:\n"
            + issues.map { "  " + $0.description }.joined(separator: "\n")
    }
}

/// Phones (E.164) that must never be messaged. Checked before every send.
public struct OptOutList: Sendable, Equatable {
    public private(set) var phones: Set<String>

    public init(_ phones: Set<String> = []) {
        self.phones = Set(phones.map(Self.normalized))
    }

    /// Strict parse: one phone per line; `#` starts a comment (whole line or after the number);
    /// blank lines are ignored. Any other line is an error, all reported at once with line
    /// numbers. Strict because skipping a mistyped line would message someone who opted out.
    public init(parsing text: String) throws(OptOutParseError) {
        let result = Self.parse(text)
        guard result.issues.isEmpty else { throw OptOutParseError(issues: result.issues) }
        self = result.list
    }

    /// Lenient parse for sources that must not stop the worker: the valid lines and the issues.
    public static func parse(_ text: String) -> (list: OptOutList, issues: [OptOutLineIssue]) {
        var phones: Set<String> = []
        var issues: [OptOutLineIssue] = []
        // Splitting on "\n" and trimming also handles "\r\n" files.
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let phone = content.trimmingCharacters(in: .whitespacesAndNewlines)
            if phone.isEmpty { continue }
            if PhoneNumber.isE164(phone) {
                phones.insert(phone)
            } else {
                issues.append(OptOutLineIssue(line: index + 1, content: phone))
            }
        }
        return (OptOutList(phones), issues)
    }

    public var count: Int { phones.count }

    public func contains(_ phone: String) -> Bool {
        phones.contains(Self.normalized(phone))
    }

    /// Adds a phone; returns false when it is not E.164 (nothing is stored then).
    @discardableResult
    public mutating func insert(_ phone: String) -> Bool {
        let phone = Self.normalized(phone)
        guard PhoneNumber.isE164(phone) else { return false }
        phones.insert(phone)
        return true
    }

    public mutating func remove(_ phone: String) {
        phones.remove(Self.normalized(phone))
    }

    private static func normalized(_ phone: String) -> String {
        phone.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
