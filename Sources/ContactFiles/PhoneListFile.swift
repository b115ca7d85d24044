import BroadcastModel
import Foundation

/// A line of a phone list that names no phone we can read.
public struct PhoneListIssue: Sendable, Equatable, CustomStringConvertible {
    /// 1-based, as an editor shows it.
    public var line: Int
    /// What was there, masked: it may be a mistyped phone of someone who asked to be left alone.
    public var masked: String

    public init(line: Int, masked: String) {
        self.line = line
        self.masked = masked
    }

    public var description: String {
        "line \(line): \"\(masked)\" is not a phone number (E.164 such as +60123456789, or a local number with a default country)"
    }
}

/// Why a phone list cannot be used.
public enum PhoneListError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalidLines(path: String, [PhoneListIssue])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read phone list \(path): \(reason)"
        case .invalidLines(let path, let issues):
            "phone list \(path) has \(issues.count) unreadable line\(issues.count == 1 ? "" : "s") (fix them: they may be people who asked to be left alone):\n"
                + issues.map { "  " + $0.description }.joined(separator: "\n")
        }
    }
}

/// Reads a list of phones (opt-out lists): one number per line, or a CSV whose header names a
/// phone column (any ``ContactColumn/phone`` alias). `#` starts a comment, on its own line or after
/// the number; blank lines are skipped. Every number goes through ``PhoneNumber/normalize(_:defaultCountryCode:)``,
/// the rule the publisher, sequences and the worker share.
///
/// Strict: a line that is not a phone is an error, all reported at once, because skipping it would
/// message someone who asked not to be messaged.
public enum PhoneListFile {
    public static func load(path: String, defaultCountryCode: String?) throws(PhoneListError) -> [String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        let parsed = parse(text, defaultCountryCode: defaultCountryCode)
        guard parsed.issues.isEmpty else { throw .invalidLines(path: path, parsed.issues) }
        return parsed.phones
    }

    /// The phones (E.164) and the lines that could not be read.
    public static func parse(_ text: String, defaultCountryCode: String?) -> (phones: [String], issues: [PhoneListIssue]) {
        var phones: [String] = []
        var issues: [PhoneListIssue] = []
        var column = 0
        var sawEntry = false
        for record in CSVParser.records(in: text) {
            let first = (record.fields.first ?? "").trimmingCharacters(in: .whitespaces)
            if first.hasPrefix("#") { continue }
            // Before the first number, a header row may say which column holds the phone.
            if !sawEntry, let index = record.fields.firstIndex(where: { ContactColumn(header: $0) == .phone }) {
                column = index
                sawEntry = true
                continue
            }
            guard !record.isBlank else { continue }
            sawEntry = true
            let cell = column < record.fields.count ? record.fields[column] : ""
            let entry = (cell.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "")
                .trimmingCharacters(in: .whitespaces)
            if entry.isEmpty, record.fields.count <= 1 { continue }
            guard record.problem == nil, let phone = PhoneNumber.normalize(entry, defaultCountryCode: defaultCountryCode) else {
                issues.append(PhoneListIssue(line: record.line, masked: PhoneNumber.masked(entry)))
                continue
            }
            phones.append(phone)
        }
        return (phones, issues)
    }
}
