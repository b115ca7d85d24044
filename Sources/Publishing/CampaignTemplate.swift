import BroadcastModel

/// The `message.template` section of a campaign or sequence file: an approved WhatsApp template and
/// the parameters to fill it with, each a fixed value or a `{column}` of the recipients file.
///
/// ```yaml
/// message:
///   type: template
///   template:
///     name: renewal_reminder
///     language: ms
///     header: { type: image, mediaUrl: "https://cdn.example.com/renewal.jpg" }   # or { type: text, text: "{plan}" }
///     body: ["{name}", "{plan}"]
///     buttons:
///       - { type: url, index: 0, text: "{order_id}" }
///       - { type: quick_reply, index: 1, payload: stop-promotions }
/// ```
enum CampaignTemplate {
    static let fields: Set = ["name", "language", "header", "body", "buttons"]
    static let headerFields: Set = ["type", "text", "mediaUrl", "fileName"]
    static let buttonFields: Set = ["type", "index", "text", "payload"]

    /// A parameter value as written, for checking its placeholders against the recipients file.
    struct Source: Sendable, Equatable {
        var field: String
        var value: String
        var line: Int?
    }

    static func read(_ value: ConfigValue?, path: String, into r: inout FieldReader) -> (MessageTemplate, [Source])? {
        guard let map = r.mapping(value, path, known: fields) else {
            if value == nil { r.fail(path, "is required for type template: name, language and the parameters") }
            return nil
        }
        let name = r.string(map, "name", path)
        let language = r.string(map, "language", path)
        var components: [MessageTemplate.Component] = []
        var sources: [Source] = []

        if let header = r.mapping(map["header"], "\(path).header", known: headerFields) {
            let hpath = "\(path).header"
            let typeText = r.string(header, "type", hpath) ?? ""
            if let kind = MessageTemplate.Parameter.Kind(rawValue: typeText.lowercased()), kind != .payload {
                var parameter = MessageTemplate.Parameter(type: kind)
                if kind == .text {
                    parameter.text = r.string(header, "text", hpath)
                    note(parameter.text, "\(hpath).text", header["text"], &sources)
                } else {
                    parameter.mediaUrl = r.string(header, "mediaUrl", hpath)
                    parameter.fileName = r.string(header, "fileName", hpath, required: false)
                    note(parameter.mediaUrl, "\(hpath).mediaUrl", header["mediaUrl"], &sources)
                    note(parameter.fileName, "\(hpath).fileName", header["fileName"], &sources)
                }
                components.append(.init(type: .header, parameters: [parameter]))
            } else if !typeText.isEmpty {
                r.fail("\(hpath).type", "must be text, image, video or document, found \"\(typeText)\"", line: header["type"]?.line)
            }
        }

        if let body = map["body"] {
            let values = list(body, "\(path).body", &r)
            var parameters: [MessageTemplate.Parameter] = []
            for (index, item) in values.enumerated() {
                guard case .scalar(let text, let line) = item else {
                    r.fail("\(path).body[\(index)]", "must be a single value, found \(item.kindName)", line: item.line)
                    continue
                }
                parameters.append(.text(text))
                sources.append(Source(field: "\(path).body[\(index)]", value: text, line: line))
            }
            if !parameters.isEmpty { components.append(.init(type: .body, parameters: parameters)) }
        }

        if let buttons = map["buttons"] {
            for (index, item) in list(buttons, "\(path).buttons", &r).enumerated() {
                let bpath = "\(path).buttons[\(index)]"
                guard let button = r.mapping(item, bpath, known: buttonFields) else { continue }
                let typeText = r.string(button, "type", bpath) ?? ""
                let position = r.string(button, "index", bpath, required: false).flatMap { Int($0) } ?? index
                switch typeText.lowercased() {
                case "url":
                    let text = r.string(button, "text", bpath)
                    note(text, "\(bpath).text", button["text"], &sources)
                    components.append(.init(type: .button, subType: .url, index: position, parameters: [.text(text ?? "")]))
                case "quick_reply":
                    let payload = r.string(button, "payload", bpath)
                    note(payload, "\(bpath).payload", button["payload"], &sources)
                    components.append(.init(type: .button, subType: .quickReply, index: position, parameters: [.init(type: .payload, payload: payload ?? "")]))
                default:
                    r.fail("\(bpath).type", "must be url or quick_reply, found \"\(typeText)\"", line: button["type"]?.line)
                }
            }
        }
        guard let name, let language else { return nil }
        return (MessageTemplate(name: name, language: language, components: components), sources)
    }

    /// Placeholders of the template's parameters that neither `{name}` nor a column fills.
    static func unknownColumns(_ sources: [Source], columns: [String]) -> [(source: Source, placeholder: String)] {
        let known = Set(columns.map { $0.lowercased() }).union(["name"])
        var result: [(Source, String)] = []
        for source in sources {
            for placeholder in TemplatePlaceholders.names(in: source.value) where !known.contains(placeholder.lowercased()) {
                result.append((source, placeholder))
            }
        }
        return result
    }

    private static func note(_ value: String?, _ field: String, _ node: ConfigValue?, _ sources: inout [Source]) {
        if let value { sources.append(Source(field: field, value: value, line: node?.line)) }
    }

    private static func list(_ value: ConfigValue, _ path: String, _ r: inout FieldReader) -> [ConfigValue] {
        switch value {
        case .list(let items, _): return items
        case .scalar: return [value]
        case .null: return []
        case .map(_, let line):
            r.fail(path, "must be a list", line: line)
            return []
        }
    }
}
