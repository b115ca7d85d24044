import BroadcastModel

/// Why a campaign file cannot be used. Field problems are all collected, so one run lists
/// everything to fix.
public enum CampaignFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// Not YAML or JSON at all.
    case malformed(String)
    /// One or more fields are missing or wrong; each issue names its field (e.g. `delay.max`).
    case invalidFields([FieldIssue])

    public var issues: [FieldIssue] {
        if case .invalidFields(let issues) = self { return issues }
        return []
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read campaign file \(path): \(reason)"
        case .malformed(let reason):
            "campaign file is malformed: \(reason)"
        case .invalidFields(let issues):
            "campaign file has \(issues.count) problem\(issues.count == 1 ? "" : "s"):\n"
                + issues.map { "  - \($0.field): \($0.message)" }.joined(separator: "\n")
        }
    }
}
