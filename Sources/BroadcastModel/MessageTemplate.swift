import Foundation

/// A WhatsApp template message (`content.type: "template"`): an approved template of the business
/// account, named with its language, and the parameters Meta's `/messages` API takes for it.
///
/// The template's text is Meta's: it is never spun, varied or greeted. Parameter values may name the
/// recipient's attributes (`{name}`, CSV columns), filled at send time by ``filled(name:attributes:)``.
public struct MessageTemplate: Equatable, Sendable {
    /// The template's name in the WhatsApp Business Account, e.g. `order_update`.
    public var name: String
    /// The language (locale) code of the approved translation, e.g. `en_US`, `pt_BR`, `id`.
    public var language: String
    public var components: [Component]

    public init(name: String, language: String, components: [Component] = []) {
        self.name = name
        self.language = language
        self.components = components
    }

    /// Meta's limits on a template parameter; longer values are refused by the API.
    public static let maxNameLength = 512
    public static let maxParameterTextLength = 1024
    public static let maxPayloadLength = 256
    public static let maxComponents = 12
    public static let maxParameters = 100

    /// One part of the template that takes parameters.
    public struct Component: Equatable, Sendable {
        public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
            case header, body, button
        }

        /// The kind of a button component.
        public enum ButtonKind: String, Sendable, Equatable, Codable, CaseIterable {
            case quickReply = "quick_reply"
            case url
        }

        public var type: Kind
        /// Buttons only.
        public var subType: ButtonKind?
        /// Buttons only: the button's position in the template, 0 to 9.
        public var index: Int?
        public var parameters: [Parameter]

        public init(type: Kind, subType: ButtonKind? = nil, index: Int? = nil, parameters: [Parameter]) {
            self.type = type
            self.subType = subType
            self.index = index
            self.parameters = parameters
        }
    }

    /// One parameter value.
    public struct Parameter: Equatable, Sendable {
        public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
            case text, image, video, document, payload
        }

        public var type: Kind
        /// `text` parameters (body, text header, URL button suffix).
        public var text: String?
        /// Media header parameters: an http(s) link.
        public var mediaUrl: String?
        /// Document header parameters: the file name shown.
        public var fileName: String?
        /// Quick-reply buttons: the payload Meta echoes when the button is pressed.
        public var payload: String?

        public init(type: Kind, text: String? = nil, mediaUrl: String? = nil, fileName: String? = nil, payload: String? = nil) {
            self.type = type
            self.text = text
            self.mediaUrl = mediaUrl
            self.fileName = fileName
            self.payload = payload
        }

        public static func text(_ value: String) -> Parameter { Parameter(type: .text, text: value) }
    }

    /// Parameters counted per component kind, as a templates file states them.
    public var parameterCounts: (header: Int, body: Int, buttons: Int) {
        var counts = (header: 0, body: 0, buttons: 0)
        for component in components {
            switch component.type {
            case .header: counts.header += component.parameters.count
            case .body: counts.body += component.parameters.count
            case .button: counts.buttons += component.parameters.count
            }
        }
        return counts
    }

    /// Every `{placeholder}` named by a parameter value, in order of first use.
    public var placeholders: [String] {
        var names: [String] = []
        for component in components {
            for parameter in component.parameters {
                for value in [parameter.text, parameter.mediaUrl, parameter.fileName, parameter.payload] {
                    guard let value else { continue }
                    for name in Placeholders.names(in: value) where !names.contains(name) { names.append(name) }
                }
            }
        }
        return names
    }

    /// The template with `{name}` replaced by the recipient's name and `{key}` by the attribute
    /// `key` (matched case-insensitively), and the placeholders nothing could fill.
    public func filled(name recipientName: String?, attributes: [String: String]) -> (template: MessageTemplate, unfilled: [String]) {
        var lowered: [String: String] = [:]
        for (key, value) in attributes { lowered[key.lowercased()] = value }
        if let recipientName, !recipientName.isEmpty { lowered["name"] = recipientName }
        var unfilled: [String] = []
        func fill(_ value: String?) -> String? {
            guard let value, value.contains("{") else { return value }
            return Placeholders.replace(in: value) { key in
                if let found = lowered[key.lowercased()] { return found }
                if !unfilled.contains(key) { unfilled.append(key) }
                return nil
            }
        }
        var copy = self
        for c in copy.components.indices {
            for p in copy.components[c].parameters.indices {
                var parameter = copy.components[c].parameters[p]
                parameter.text = fill(parameter.text)
                parameter.mediaUrl = fill(parameter.mediaUrl)
                parameter.fileName = fill(parameter.fileName)
                parameter.payload = fill(parameter.payload)
                copy.components[c].parameters[p] = parameter
            }
        }
        return (copy, unfilled)
    }
}

/// `{identifier}` placeholders: a letter or `_`, then letters, digits, `_`, `-`, `.`; at most 64
/// characters (the rule the text renderer and the publisher use).
enum Placeholders {
    static func names(in text: String) -> [String] {
        var result: [String] = []
        _ = replace(in: text) { name in
            if !result.contains(name) { result.append(name) }
            return nil
        }
        return result
    }

    /// Replaces each placeholder for which `value` answers; others stay as written.
    static func replace(in text: String, _ value: (String) -> String?) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            let after = rest.index(after: open)
            guard let close = rest[after...].firstIndex(where: { $0 == "}" || $0 == "{" }), rest[close] == "}" else {
                output.append("{")
                rest = rest[after...]
                continue
            }
            let name = String(rest[after..<close])
            if isIdentifier(name), let replacement = value(name) {
                output += replacement
            } else {
                output += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        return output
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "_", name.count <= 64 else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }
}

// MARK: - Wire codec

extension MessageTemplate {
    func write(_ w: inout JSONWriter) {
        w.field("name", name)
        w.field("language", language)
        w.beginArray("components")
        for (i, component) in components.enumerated() {
            w.arrayElementObject(first: i == 0) { w in
                w.field("type", component.type.rawValue)
                w.field("subType", component.subType?.rawValue)
                if let index = component.index { w.field("index", index) }
                w.beginArray("parameters")
                for (j, parameter) in component.parameters.enumerated() {
                    w.arrayElementObject(first: j == 0) { w in
                        w.field("type", parameter.type.rawValue)
                        w.field("text", parameter.text)
                        w.field("mediaUrl", parameter.mediaUrl)
                        w.field("fileName", parameter.fileName)
                        w.field("payload", parameter.payload)
                    }
                }
                w.endArray()
            }
        }
        w.endArray()
    }

    static func read(_ s: inout JSONScanner, path: String) throws(RecordError) -> MessageTemplate {
        var name, language: String?
        var components: [Component]?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "name": name = try s.optionalString(path + ".name")
            case "language": language = try s.optionalString(path + ".language")
            case "components": components = try s.optionalArray(path + ".components", Component.read)
            default: try s.skipValue()
            }
        }
        return try MessageTemplate(
            name: RecordDecoding.required(name, path + ".name"),
            language: RecordDecoding.required(language, path + ".language"),
            components: components ?? [])
    }
}

extension MessageTemplate.Component {
    static func read(_ s: inout JSONScanner, path: String) throws(RecordError) -> Self {
        var type: Kind?
        var subType: ButtonKind?
        var index: Int64?
        var parameters: [MessageTemplate.Parameter]?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "type": type = try s.optionalEnum(path + ".type", Kind.self)
            case "subType": subType = try s.optionalEnum(path + ".subType", ButtonKind.self)
            case "index": index = try s.optionalInt64(path + ".index")
            case "parameters": parameters = try s.optionalArray(path + ".parameters", MessageTemplate.Parameter.read)
            default: try s.skipValue()
            }
        }
        return try Self(
            type: RecordDecoding.required(type, path + ".type"), subType: subType, index: index.map { Int(clamping: $0) },
            parameters: parameters ?? [])
    }
}

extension MessageTemplate.Parameter {
    static func read(_ s: inout JSONScanner, path: String) throws(RecordError) -> Self {
        var type: Kind?
        var text, mediaUrl, fileName, payload: String?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "type": type = try s.optionalEnum(path + ".type", Kind.self)
            case "text": text = try s.optionalString(path + ".text")
            case "mediaUrl": mediaUrl = try s.optionalString(path + ".mediaUrl")
            case "fileName": fileName = try s.optionalString(path + ".fileName")
            case "payload": payload = try s.optionalString(path + ".payload")
            default: try s.skipValue()
            }
        }
        return try Self(
            type: RecordDecoding.required(type, path + ".type"), text: text, mediaUrl: mediaUrl,
            fileName: fileName, payload: payload)
    }
}

// MARK: - Validation

extension MessageTemplate {
    /// Template names are lower-case letters, digits and underscores (Meta's rule).
    static func isTemplateName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// `en`, `id`, `fil`, `en_US`, `pt_BR`, `zh_HK`.
    static func isLanguageCode(_ code: String) -> Bool {
        let parts = code.split(separator: "_", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count),
              language.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return false }
        if parts.count == 1 { return true }
        guard parts.count == 2 else { return false }
        return (2...4).contains(parts[1].count) && parts[1].utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }

    func validate(_ c: inout IssueCollector, path: String) {
        c.check(Self.isTemplateName(name), path + ".name", "must be the template's name: lower-case letters, digits and _")
        c.maxLength(name, Self.maxNameLength, path + ".name")
        c.check(Self.isLanguageCode(language), path + ".language",
                "\"\(language.prefix(20))\" is not a template language code such as en, id, en_US or pt_BR")
        c.check(components.count <= Self.maxComponents, path + ".components", "has \(components.count) components; at most \(Self.maxComponents)")
        var seenKinds: Set<Component.Kind> = []
        var seenButtons: Set<Int> = []
        for (i, component) in components.enumerated() {
            let cpath = "\(path).components[\(i)]"
            switch component.type {
            case .header, .body:
                c.check(seenKinds.insert(component.type).inserted, cpath + ".type",
                        "a template has at most one \(component.type.rawValue) component")
                c.check(component.subType == nil, cpath + ".subType", "is for button components only")
                c.check(component.index == nil, cpath + ".index", "is for button components only")
            case .button:
                c.check(component.subType != nil, cpath + ".subType", "is required for buttons: quick_reply or url")
                if let index = component.index {
                    c.check((0...9).contains(index), cpath + ".index", "must be 0 to 9")
                    c.check(seenButtons.insert(index).inserted, cpath + ".index", "button \(index) is given twice")
                } else {
                    c.check(false, cpath + ".index", "is required for buttons: the button's position, 0 to 9")
                }
            }
            c.check(!component.parameters.isEmpty, cpath + ".parameters", "must list at least one parameter")
            c.check(component.parameters.count <= Self.maxParameters, cpath + ".parameters", "has more than \(Self.maxParameters) parameters")
            if component.type == .header {
                c.check(component.parameters.count <= 1, cpath + ".parameters", "a header takes one parameter")
            }
            for (j, parameter) in component.parameters.enumerated() {
                parameter.validate(&c, path: "\(cpath).parameters[\(j)]", in: component)
            }
        }
    }
}

extension MessageTemplate.Parameter {
    func validate(_ c: inout IssueCollector, path: String, in component: MessageTemplate.Component) {
        let allowed: [Kind]
        switch (component.type, component.subType) {
        case (.header, _): allowed = [.text, .image, .video, .document]
        case (.body, _): allowed = [.text]
        case (.button, .quickReply?): allowed = [.payload]
        case (.button, _): allowed = [.text]
        }
        c.check(allowed.contains(type), path + ".type",
                "\"\(type.rawValue)\" is not allowed here; use \(allowed.map(\.rawValue).joined(separator: " or "))")
        switch type {
        case .text:
            c.check(!(text ?? "").isEmpty, path + ".text", "is required and must not be empty for text parameters")
            c.maxLength(text, MessageTemplate.maxParameterTextLength, path + ".text")
        case .image, .video, .document:
            if let mediaUrl {
                // A placeholder may fill the whole link at send time.
                c.check(URLRule.isHTTP(mediaUrl) || mediaUrl.hasPrefix("{"), path + ".mediaUrl", "must be an http:// or https:// URL")
                c.maxLength(mediaUrl, RecordLimits.maxMediaURLLength, path + ".mediaUrl")
            } else {
                c.check(false, path + ".mediaUrl", "is required for \(type.rawValue) parameters")
            }
            c.check(fileName == nil || type == .document, path + ".fileName", "is for document parameters only")
            c.maxLength(fileName, RecordLimits.maxFileNameLength, path + ".fileName")
        case .payload:
            c.check(!(payload ?? "").isEmpty, path + ".payload", "is required and must not be empty for payload parameters")
            c.maxLength(payload, MessageTemplate.maxPayloadLength, path + ".payload")
        }
    }
}

// MARK: - Codable (tools and tests)

extension MessageTemplate: Codable {
    enum CodingKeys: String, CodingKey { case name, language, components }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), language: try c.decode(String.self, forKey: .language),
            components: try c.decodeIfPresent([Component].self, forKey: .components) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(language, forKey: .language)
        try c.encode(components, forKey: .components)
    }
}

extension MessageTemplate.Component: Codable {
    enum CodingKeys: String, CodingKey { case type, subType, index, parameters }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            type: try c.decode(Kind.self, forKey: .type),
            subType: try c.decodeIfPresent(ButtonKind.self, forKey: .subType),
            index: try c.decodeIfPresent(Int.self, forKey: .index),
            parameters: try c.decodeIfPresent([MessageTemplate.Parameter].self, forKey: .parameters) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(subType, forKey: .subType)
        try c.encodeIfPresent(index, forKey: .index)
        try c.encode(parameters, forKey: .parameters)
    }
}

extension MessageTemplate.Parameter: Codable {
    enum CodingKeys: String, CodingKey { case type, text, mediaUrl, fileName, payload }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            type: try c.decode(Kind.self, forKey: .type),
            text: try c.decodeIfPresent(String.self, forKey: .text),
            mediaUrl: try c.decodeIfPresent(String.self, forKey: .mediaUrl),
            fileName: try c.decodeIfPresent(String.self, forKey: .fileName),
            payload: try c.decodeIfPresent(String.self, forKey: .payload))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(text, forKey: .text)
        try c.encodeIfPresent(mediaUrl, forKey: .mediaUrl)
        try c.encodeIfPresent(fileName, forKey: .fileName)
        try c.encodeIfPresent(payload, forKey: .payload)
    }
}
