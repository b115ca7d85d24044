import BroadcastModel
import Foundation
import Yams

/// Reads a sequence definition from YAML or JSON (JSON is read by the YAML parser, which accepts it).
///
/// Steps inherit `timeZone`, `window` and `delay` from the top level when they do not set their own.
/// Unknown fields are errors, so a typo such as `dayofset` is reported instead of silently ignored.
public enum SequenceFile {
    public static func parse(_ text: String) throws(SequenceDefinitionError) -> SequenceDefinition {
        let raw: RawSequence
        do {
            raw = try YAMLDecoder().decode(RawSequence.self, from: text)
        } catch let error as DecodingError {
            throw .invalid([issue(from: error)])
        } catch {
            throw .unreadable("not valid YAML or JSON: \(error)")
        }
        return try SequenceValidator.validate(raw)
    }

    public static func load(path: String) throws(SequenceDefinitionError) -> SequenceDefinition {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable("cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text)
    }

    /// Turns a Codable error into the field path people see in their file, e.g. `steps[1].dayOffset`.
    static func issue(from error: DecodingError) -> FieldIssue {
        switch error {
        case .typeMismatch(let type, let context):
            FieldIssue(field: path(context.codingPath), message: "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            FieldIssue(field: path(context.codingPath), message: "expected \(describe(type)), found nothing")
        case .keyNotFound(let key, let context):
            FieldIssue(field: path(context.codingPath + [key]), message: "is required")
        case .dataCorrupted(let context):
            FieldIssue(field: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            FieldIssue(field: "", message: "\(error)")
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue, key.stringValue.isEmpty || key.stringValue.hasPrefix("Index") || Int(key.stringValue) == index {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return out.isEmpty ? "(top level)" : out
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "text"
        default: "a \(type)"
        }
    }
}

/// Why a sequence file was refused.
public enum SequenceDefinitionError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(String)
    /// Every broken rule, each naming its field (e.g. `steps[0].window.start`).
    case invalid([FieldIssue])

    public var issues: [FieldIssue] {
        if case .invalid(let issues) = self { return issues }
        return []
    }

    public var description: String {
        switch self {
        case .unreadable(let reason): "sequence file unreadable: \(reason)"
        case .invalid(let issues): "invalid sequence: " + issues.map(\.description).joined(separator: "; ")
        }
    }
}

// MARK: - The file's shape, every field optional so validation can name what is missing.

struct RawSequence: Decodable {
    var id: String?
    var name: String?
    var userId: String?
    var timeZone: String?
    var window: RawWindow?
    var delay: RawDelay?
    var handOver: String?
    var steps: [RawStep]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, userId, timeZone, window, delay, handOver, steps
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        userId = try c.decodeIfPresent(String.self, forKey: .userId)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        window = try c.decodeIfPresent(RawWindow.self, forKey: .window)
        delay = try c.decodeIfPresent(RawDelay.self, forKey: .delay)
        handOver = try c.decodeIfPresent(String.self, forKey: .handOver)
        steps = try c.decodeIfPresent([RawStep].self, forKey: .steps)
    }
}

struct RawStep: Decodable {
    var id: String?
    var dayOffset: Int?
    var timeZone: String?
    var window: RawWindow?
    var delay: RawDelay?
    var content: RawContent?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, dayOffset, timeZone, window, delay, content
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        dayOffset = try c.decodeIfPresent(Int.self, forKey: .dayOffset)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        window = try c.decodeIfPresent(RawWindow.self, forKey: .window)
        delay = try c.decodeIfPresent(RawDelay.self, forKey: .delay)
        content = try c.decodeIfPresent(RawContent.self, forKey: .content)
    }
}

struct RawWindow: Decodable {
    var start: String?
    var end: String?
    var timeZone: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case start, end, timeZone }

    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        start = try c.decodeIfPresent(String.self, forKey: .start)
        end = try c.decodeIfPresent(String.self, forKey: .end)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
    }
}

struct RawDelay: Decodable {
    var minSeconds: Double?
    var maxSeconds: Double?

    enum CodingKeys: String, CodingKey, CaseIterable { case minSeconds, maxSeconds }

    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        minSeconds = try c.decodeIfPresent(Double.self, forKey: .minSeconds)
        maxSeconds = try c.decodeIfPresent(Double.self, forKey: .maxSeconds)
    }
}

struct RawContent: Decodable {
    var type: String?
    var text: String?
    var mediaUrl: String?
    var fileName: String?
    var greeting: Bool?
    var variation: Bool?
    /// For type template: the record's template shape (name, language, components with parameters).
    var template: MessageTemplate?

    enum CodingKeys: String, CodingKey, CaseIterable { case type, text, mediaUrl, fileName, greeting, variation, template }

    init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        mediaUrl = try c.decodeIfPresent(String.self, forKey: .mediaUrl)
        fileName = try c.decodeIfPresent(String.self, forKey: .fileName)
        greeting = try c.decodeIfPresent(Bool.self, forKey: .greeting)
        variation = try c.decodeIfPresent(Bool.self, forKey: .variation)
        template = try c.decodeIfPresent(MessageTemplate.self, forKey: .template)
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// A keyed container that first refuses keys the type does not know.
    fileprivate func strictContainer<K: CodingKey & CaseIterable>(keyedBy: K.Type) throws -> KeyedDecodingContainer<K> {
        let known = Set(K.allCases.map(\.stringValue))
        let all = try container(keyedBy: AnyKey.self)
        if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
            let list = K.allCases.map(\.stringValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath + [unknown], debugDescription: "unknown field; known fields here: \(list)"))
        }
        return try container(keyedBy: K.self)
    }
}
