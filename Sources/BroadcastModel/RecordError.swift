/// Why a record's bytes could not be turned into a value.
public enum RecordError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not valid JSON (or not valid UTF-8); `offset` is the byte where parsing stopped.
    case malformed(reason: String, offset: Int)
    /// The `schema` field is missing or names a contract this build does not read.
    case unsupportedSchema(found: String?, expected: String)
    /// A required field is absent (or `null`).
    case missingField(String)
    /// A field holds a JSON value of the wrong kind.
    case wrongType(field: String, expected: String)
    /// A field has the right kind but a value that cannot be read (bad timestamp, unknown enum value).
    case invalidValue(field: String, reason: String)
    /// The record decoded but broke a validation rule.
    case invalid(ValidationError)

    /// The field paths this error is about (empty for malformed input).
    public var fields: [String] {
        switch self {
        case .malformed: []
        case .unsupportedSchema: ["schema"]
        case .missingField(let field), .wrongType(let field, _), .invalidValue(let field, _): [field]
        case .invalid(let error): error.issues.map(\.field)
        }
    }

    public var description: String {
        switch self {
        case .malformed(let reason, let offset):
            "malformed JSON at byte \(offset): \(reason)"
        case .unsupportedSchema(let found?, let expected):
            "schema: unsupported schema \"\(found)\" (this reader understands \"\(expected)\")"
        case .unsupportedSchema(nil, let expected):
            "schema: missing; expected \"\(expected)\""
        case .missingField(let field):
            "\(field): required field is missing"
        case .wrongType(let field, let expected):
            field.isEmpty ? "the record must be a JSON \(expected)" : "\(field): expected a JSON \(expected)"
        case .invalidValue(let field, let reason):
            "\(field): \(reason)"
        case .invalid(let error):
            error.description
        }
    }
}

/// One broken rule, naming the field by its JSON path (e.g. `recipient.phone`).
public struct FieldIssue: Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Every rule a record breaks, so a publisher can fix them all in one go.
public struct ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var issues: [FieldIssue]

    public init(issues: [FieldIssue]) {
        self.issues = issues
    }

    public var description: String {
        "invalid record: " + issues.map(\.description).joined(separator: "; ")
    }
}
