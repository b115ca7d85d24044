import Foundation
import Yams

/// A campaign file parsed into a plain tree, from YAML or JSON alike. Scalars stay text until a
/// field asks for a number, a flag or a date, so every problem can be reported by field name.
indirect enum ConfigValue: Sendable {
    case scalar(String, line: Int?)
    case null(line: Int?)
    case list([ConfigValue], line: Int?)
    case map([(key: String, value: ConfigValue)], line: Int?)

    var line: Int? {
        switch self {
        case .scalar(_, let line), .null(let line), .list(_, let line), .map(_, let line): line
        }
    }

    var kindName: String {
        switch self {
        case .scalar: "a single value"
        case .null: "empty"
        case .list: "a list"
        case .map: "a mapping"
        }
    }

    /// Parses YAML (JSON is YAML too, but `.json` files go through Foundation's stricter parser).
    static func parse(_ text: String, json: Bool) throws(CampaignFileError) -> ConfigValue {
        if json {
            do {
                let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
                return fromJSON(object)
            } catch {
                throw .malformed("not valid JSON: \(error.localizedDescription)")
            }
        }
        do {
            guard let node = try Yams.compose(yaml: text) else { return .null(line: nil) }
            return fromYAML(node)
        } catch {
            throw .malformed("not valid YAML: \(error)")
        }
    }

    private static func fromYAML(_ node: Node) -> ConfigValue {
        let line = node.mark.map(\.line)
        switch node {
        case .scalar(let scalar):
            // A plain `~`, `null` or nothing is YAML's null; quoted text never is.
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                return .null(line: line)
            }
            return .scalar(scalar.string, line: line)
        case .sequence(let sequence):
            return .list(sequence.map(fromYAML), line: line)
        case .mapping(let mapping):
            return .map(mapping.map { (key: $0.key.string ?? "", value: fromYAML($0.value)) }, line: line)
        }
    }

    private static func fromJSON(_ object: Any) -> ConfigValue {
        switch object {
        case let dictionary as [String: Any]:
            return .map(dictionary.keys.sorted().map { (key: $0, value: fromJSON(dictionary[$0] as Any)) }, line: nil)
        case let array as [Any]:
            return .list(array.map(fromJSON), line: nil)
        case let text as String:
            return .scalar(text, line: nil)
        case let number as NSNumber:
            // JSON booleans arrive as NSNumber too (spelled 1/0 on Linux); flags accept both spellings.
            return .scalar(number.stringValue, line: nil)
        default:
            return .null(line: nil)
        }
    }
}
