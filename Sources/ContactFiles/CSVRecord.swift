/// One record of a CSV file: its fields and the line it starts on (1-based, counting the header).
public struct CSVRecord: Sendable, Equatable {
    /// The physical line where the record begins; a quoted field may carry it over several lines.
    public var line: Int
    public var fields: [String]
    /// Why the record is malformed (unterminated quote, text after a closing quote, bad UTF-8), if it is.
    public var problem: String?

    public init(line: Int, fields: [String], problem: String? = nil) {
        self.line = line
        self.fields = fields
        self.problem = problem
    }

    /// A line with nothing on it (or only separators), which contact exports often end with.
    public var isBlank: Bool {
        problem == nil && fields.allSatisfy { $0.allSatisfy(\.isWhitespace) }
    }
}

public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
