import BroadcastModel
import Foundation

/// Phones that must not receive the campaign, read from a file of one number per line.
///
/// Blank lines and `#` comments are skipped; a `phone` line before the first number (a CSV header) is allowed and
/// anything after a comma is ignored. A line that is not a phone number is an error: someone asked
/// to be left alone and we cannot tell who.
public struct OptOutSet: Sendable {
    private var keys: Set<UInt64> = []

    public init() {}

    public init<S: Sequence>(phones: S) where S.Element == String {
        for phone in phones { keys.insert(PhoneKey.make(phone)) }
    }

    public var count: Int { keys.count }

    public func contains(e164 phone: String) -> Bool { keys.contains(PhoneKey.make(phone)) }

    func contains(key: UInt64) -> Bool { keys.contains(key) }

    public static func load(path: String, defaultCountryCode: String?) throws(OptOutError) -> OptOutSet {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        var set = OptOutSet()
        var bad: [RecipientIssue] = []
        var lineNumber = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            lineNumber += 1
            let entry = line.split(separator: ",", maxSplits: 1).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\"\u{FEFF}"))) ?? ""
            let isHeader = set.keys.isEmpty && bad.isEmpty && entry.lowercased() == "phone"
            if entry.isEmpty || entry.hasPrefix("#") || isHeader { continue }
            guard let phone = PhoneNumber.normalize(entry, defaultCountryCode: defaultCountryCode) else {
                bad.append(RecipientIssue(line: lineNumber, reason: "\"\(PhoneNumber.masked(entry))\" is not a phone number"))
                continue
            }
            set.keys.insert(PhoneKey.make(phone))
        }
        if !bad.isEmpty { throw .invalidLines(path: path, bad) }
        return set
    }
}

public enum OptOutError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalidLines(path: String, [RecipientIssue])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read opt-out list \(path): \(reason)"
        case .invalidLines(let path, let issues):
            "opt-out list \(path) has \(issues.count) unreadable line\(issues.count == 1 ? "" : "s") (fix them: they may be people who asked to be left alone):\n"
                + issues.map { "  line \($0.line): \($0.reason)" }.joined(separator: "\n")
        }
    }
}
