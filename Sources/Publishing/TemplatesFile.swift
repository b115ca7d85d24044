import BroadcastModel
import Foundation

/// The account's message templates as the publisher knows them (exported from WhatsApp Manager or
/// the Graph API's `message_templates`), so a campaign naming a template that is not approved, or
/// giving it the wrong number of parameters, is refused before anything is published.
///
/// ```yaml
/// templates:
///   - name: renewal_reminder
///     language: ms
///     status: APPROVED
///     parameters: { header: 1, body: 2, buttons: 1 }
/// ```
public struct TemplatesFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var language: String
        /// Meta's status: APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …
        public var status: String
        public var header: Int
        public var body: Int
        public var buttons: Int

        public init(name: String, language: String, status: String, header: Int = 0, body: Int = 0, buttons: Int = 0) {
            self.name = name
            self.language = language
            self.status = status
            self.header = header
            self.body = body
            self.buttons = buttons
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    static let entryFields: Set = ["name", "language", "status", "parameters", "category", "id"]
    static let parameterFields: Set = ["header", "body", "buttons"]

    public static func load(path: String) throws(CampaignFileError) -> TemplatesFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        return try parse(text, json: path.lowercased().hasSuffix(".json"))
    }

    public static func parse(_ text: String, json: Bool) throws(CampaignFileError) -> TemplatesFile {
        let root = try ConfigValue.parse(text, json: json)
        var r = FieldReader()
        guard let top = r.mapping(root, "", known: ["templates"]) else { throw .invalidFields(r.issues) }
        guard case .list(let items, _)? = top["templates"] else {
            throw .invalidFields([FieldIssue(field: "templates", message: "must be a list of templates")])
        }
        var entries: [Entry] = []
        for (index, item) in items.enumerated() {
            let path = "templates[\(index)]"
            guard let map = r.mapping(item, path, known: entryFields) else { continue }
            let name = r.string(map, "name", path)
            let language = r.string(map, "language", path)
            let status = r.string(map, "status", path)
            let counts = r.mapping(map["parameters"], "\(path).parameters", known: parameterFields)
            func count(_ key: String) -> Int {
                guard let text = r.string(counts, key, "\(path).parameters", required: false) else { return 0 }
                guard let value = Int(text), value >= 0 else {
                    r.fail("\(path).parameters.\(key)", "must be a whole number, found \"\(text)\"", line: counts?[key]?.line)
                    return 0
                }
                return value
            }
            let header = count("header"), body = count("body"), buttons = count("buttons")
            if let name, let language, let status {
                entries.append(Entry(name: name, language: language, status: status.uppercased(), header: header, body: body, buttons: buttons))
            }
        }
        guard r.issues.isEmpty else { throw .invalidFields(r.issues) }
        return TemplatesFile(entries: entries)
    }

    /// Why `template` cannot be sent, as campaign-file field issues (empty when it can).
    public func problems(with template: MessageTemplate, field: String = "message.template") -> [FieldIssue] {
        guard let entry = entries.first(where: { $0.name == template.name && $0.language == template.language }) else {
            let languages = entries.filter { $0.name == template.name }.map(\.language)
            let hint = languages.isEmpty ? "no template of that name" : "it exists in \(languages.joined(separator: ", "))"
            return [FieldIssue(field: "\(field).name", message: "template \(template.name) (\(template.language)) is not in the templates file: \(hint)")]
        }
        var issues: [FieldIssue] = []
        if entry.status != "APPROVED" {
            issues.append(FieldIssue(field: "\(field).name", message: "template \(template.name) (\(template.language)) is \(entry.status), not APPROVED: Meta would refuse every message"))
        }
        let counts = template.parameterCounts
        for (part, given, expected) in [("header", counts.header, entry.header), ("body", counts.body, entry.body), ("buttons", counts.buttons, entry.buttons)] where given != expected {
            issues.append(FieldIssue(field: "\(field).\(part)", message: "gives \(given) parameter(s); template \(template.name) takes \(expected)"))
        }
        return issues
    }
}
