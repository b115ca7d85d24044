import BroadcastModel
import Foundation

/// Reads typed fields out of a ``ConfigValue`` mapping and collects every problem, named by its
/// path (`delay.max`) and, for YAML, its line.
struct FieldReader {
    var issues: [FieldIssue] = []

    mutating func fail(_ field: String, _ message: String, line: Int? = nil) {
        let suffix = line.map { " (line \($0))" } ?? ""
        issues.append(FieldIssue(field: field, message: message + suffix))
    }

    /// The entries of a mapping; reports unknown keys so a typo (`devics`) is not silently ignored.
    mutating func mapping(_ value: ConfigValue?, _ path: String, known: Set<String>) -> [String: ConfigValue]? {
        guard let value else { return nil }
        guard case .map(let entries, _) = value else {
            fail(path.isEmpty ? "(file)" : path, "must be a mapping of fields, found \(value.kindName)", line: value.line)
            return nil
        }
        var result: [String: ConfigValue] = [:]
        for (key, entry) in entries {
            let full = path.isEmpty ? key : "\(path).\(key)"
            if !known.contains(key) {
                fail(full, "unknown field; known fields are \(known.sorted().joined(separator: ", "))", line: entry.line)
            } else if result[key] != nil {
                fail(full, "appears twice", line: entry.line)
            } else {
                result[key] = entry
            }
        }
        return result
    }

    mutating func string(_ map: [String: ConfigValue]?, _ key: String, _ path: String, required: Bool = true) -> String? {
        let field = path.isEmpty ? key : "\(path).\(key)"
        switch map?[key] {
        case nil, .null?:
            if required, map != nil { fail(field, "is required") }
            return nil
        case .scalar(let text, let line)?:
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                if required { fail(field, "must not be empty", line: line) }
                return nil
            }
            return text
        case let other?:
            fail(field, "must be a single value, found \(other.kindName)", line: other.line)
            return nil
        }
    }

    mutating func number(_ map: [String: ConfigValue]?, _ key: String, _ path: String) -> Double? {
        let field = "\(path).\(key)"
        guard let text = string(map, key, path) else { return nil }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            fail(field, "must be a number of seconds, found \"\(text)\"", line: map?[key]?.line)
            return nil
        }
        return value
    }

    mutating func flag(_ map: [String: ConfigValue]?, _ key: String, _ path: String) -> Bool {
        guard let text = string(map, key, path, required: false) else { return false }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default:
            fail("\(path).\(key)", "must be true or false, found \"\(text)\"", line: map?[key]?.line)
            return false
        }
    }

    mutating func date(_ map: [String: ConfigValue]?, _ key: String, required: Bool) -> Date? {
        guard let text = string(map, key, "", required: required) else { return nil }
        guard let date = Timestamp.parse(text) else {
            fail(key, "must be an RFC 3339 time with a zone, e.g. 2026-12-01T09:00:00+08:00; found \"\(text)\"", line: map?[key]?.line)
            return nil
        }
        return date
    }

    mutating func stringList(_ map: [String: ConfigValue]?, _ key: String) -> [String]? {
        switch map?[key] {
        case nil, .null?:
            if map != nil { fail(key, "is required: list at least one device id") }
            return nil
        case .scalar(let text, _)?:
            // `devices: dev-a` is a list of one; a comma-separated line is split for convenience.
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        case .list(let items, let line)?:
            var result: [String] = []
            for (index, item) in items.enumerated() {
                guard case .scalar(let text, _) = item else {
                    fail("\(key)[\(index)]", "must be a device id, found \(item.kindName)", line: item.line ?? line)
                    continue
                }
                result.append(text)
            }
            return result
        case let other?:
            fail(key, "must be a list of device ids, found \(other.kindName)", line: other.line)
            return nil
        }
    }
}
