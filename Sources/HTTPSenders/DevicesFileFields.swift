import Senders
import Yams

/// A YAML mapping with the place it sits in the devices file, so every read can fail with the
/// device and the dotted field name.
struct Fields {
    let mapping: Node.Mapping
    let scope: DevicesFileError.Scope
    let file: String
    /// Dotted path of this mapping inside the device ("caps.warmup"), nil at the device's top.
    let path: String?

    init(_ node: Node, scope: DevicesFileError.Scope, file: String, path: String?) throws(DevicesFileError) {
        self.scope = scope
        self.file = file
        self.path = path
        guard let mapping = node.mapping else {
            let what = path == nil ? "must be a mapping of fields" : "must be a mapping ({ key: value, … })"
            throw DevicesFileError(file: file, scope: scope, field: path, problem: what)
        }
        self.mapping = mapping
    }

    var keys: [String] { mapping.keys.compactMap(\.string) }

    func error(_ key: String, _ problem: String) -> DevicesFileError {
        DevicesFileError(file: file, scope: scope, field: qualified(key), problem: problem)
    }

    func qualified(_ key: String) -> String {
        path.map { "\($0).\(key)" } ?? key
    }

    func refuseUnknownKeys(allowed: Set<String>) throws(DevicesFileError) {
        if let unknown = keys.first(where: { !allowed.contains($0) }) {
            throw error(unknown, "unknown field; expected one of \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// nil when absent or null (`key:` or `key: ~`).
    private func value(_ key: String) -> Node? {
        guard let node = mapping[key] else { return nil }
        if node.scalar != nil, node.null != nil { return nil }
        return node
    }

    func string(_ key: String) throws(DevicesFileError) -> String? {
        guard let node = value(key) else { return nil }
        guard let scalar = node.scalar else { throw error(key, "must be text, not a list or mapping") }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    func int(_ key: String) throws(DevicesFileError) -> Int? {
        guard let node = value(key) else { return nil }
        guard let number = node.int else { throw error(key, "'\(node.string ?? "…")' is not a whole number") }
        return number
    }

    func double(_ key: String) throws(DevicesFileError) -> Double? {
        guard let node = value(key) else { return nil }
        guard let number = node.float ?? node.int.map(Double.init) else {
            throw error(key, "'\(node.string ?? "…")' is not a number")
        }
        return number
    }

    func nested(_ key: String, scope: DevicesFileError.Scope? = nil) throws(DevicesFileError) -> Fields? {
        guard let node = value(key) else { return nil }
        // `defaults` is its own scope; nested fields of a device keep the device's scope.
        if let scope { return try Fields(node, scope: scope, file: file, path: nil) }
        return try Fields(node, scope: self.scope, file: file, path: qualified(key))
    }

    func sequence(_ key: String) throws(DevicesFileError) -> [Node] {
        guard let node = value(key) else { return [] }
        guard let sequence = node.sequence else { throw error(key, "must be a list of devices (- id: …)") }
        return Array(sequence)
    }
}
