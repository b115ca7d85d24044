import Foundation
import Yams

/// What a token may do. Each role includes the ones before it.
public enum ConsoleRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// Read every view (phones masked).
    case viewer
    /// Also pause, resume and cancel campaigns, replay dead letters, enqueue messages and campaigns.
    case `operator`
    /// Also sees full phone numbers.
    case admin

    var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: ConsoleRole, rhs: ConsoleRole) -> Bool { lhs.rank < rhs.rank }
}

/// Who a request comes from, once its bearer token matched.
public struct ConsolePrincipal: Sendable, Equatable {
    /// The token's name, for the audit trail (`by` of control records); never the token itself.
    public var name: String
    public var role: ConsoleRole
    /// Set: the token sees and touches only this user's campaigns, messages and dead letters.
    public var userId: String?

    public init(name: String, role: ConsoleRole, userId: String? = nil) {
        self.name = name
        self.role = role
        self.userId = userId
    }

    public var showsFullPhones: Bool { role >= .admin }

    /// True when this principal may see or touch something owned by `owner`.
    public func owns(_ owner: String?) -> Bool {
        guard let userId else { return true }
        return owner == userId
    }
}

/// A configured token.
public struct ConsoleToken: Sendable {
    public var principal: ConsolePrincipal
    let secret: [UInt8]

    public init(name: String, role: ConsoleRole, userId: String? = nil, token: String) {
        principal = ConsolePrincipal(name: name, role: role, userId: userId)
        secret = Array(token.utf8)
    }
}

/// Why the token configuration cannot be used; says which entry to fix, never a token's value.
public struct ConsoleTokenError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

/// The console's tokens, from a YAML/JSON file and/or an environment variable. Tokens are compared
/// in constant time against every configured token, and are never logged or echoed.
///
/// File (`--tokens FILE`):
/// ```yaml
/// tokens:
///   - { name: ops, role: operator, token: "…at least 16 characters…" }
///   - { name: acme-viewer, role: viewer, userId: user-42, token: "…" }
/// ```
/// Environment (`BROADCAST_CONSOLE_TOKENS`): entries `role[@userId]:token` separated by commas.
public struct ConsoleTokens: Sendable {
    public static let minimumLength = 16
    public private(set) var tokens: [ConsoleToken]

    public init(_ tokens: [ConsoleToken]) throws(ConsoleTokenError) {
        self.tokens = []
        for token in tokens { try add(token) }
    }

    public mutating func add(_ token: ConsoleToken) throws(ConsoleTokenError) {
        guard token.secret.count >= Self.minimumLength else {
            throw ConsoleTokenError(message: "token '\(token.principal.name)' is shorter than \(Self.minimumLength) characters: use a long random value (e.g. `openssl rand -hex 24`)")
        }
        guard !tokens.contains(where: { Self.constantTimeEquals($0.secret, token.secret) }) else {
            throw ConsoleTokenError(message: "token '\(token.principal.name)' has the same value as another token: give every token its own value")
        }
        tokens.append(token)
    }

    public var isEmpty: Bool { tokens.isEmpty }

    /// The principal of a `Bearer` authorization header value, or nil. Every configured token is
    /// compared in full, so the time taken does not depend on which one (if any) matched.
    public func principal(authorization: String?) -> ConsolePrincipal? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let presented = Array(parts[1].utf8.drop { $0 == 0x20 })
        var found: ConsolePrincipal?
        for token in tokens where Self.constantTimeEquals(token.secret, presented) {
            found = token.principal
        }
        return found
    }

    /// Time depends only on the length of `expected` (the configured secret), not on where the
    /// bytes differ or how long the presented value is.
    static func constantTimeEquals(_ expected: [UInt8], _ presented: [UInt8]) -> Bool {
        var difference = UInt64(expected.count ^ presented.count)
        if presented.isEmpty { return false }
        for index in expected.indices {
            difference |= UInt64(expected[index] ^ presented[index % presented.count])
        }
        return difference == 0
    }

    /// Parses a token file (YAML; JSON is YAML too).
    public static func parse(file text: String, path: String) throws(ConsoleTokenError) -> [ConsoleToken] {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw ConsoleTokenError(message: "\(path): not YAML or JSON: \(error)")
        }
        guard let map = root as? [String: Any], let entries = map["tokens"] as? [Any] else {
            throw ConsoleTokenError(message: "\(path): expected a `tokens:` list of { name, role, token, userId? }")
        }
        var result: [ConsoleToken] = []
        for (index, entry) in entries.enumerated() {
            let place = "\(path): tokens[\(index)]"
            guard let fields = entry as? [String: Any] else { throw ConsoleTokenError(message: "\(place) must be a mapping") }
            let known: Set = ["name", "role", "token", "userId"]
            if let unknown = fields.keys.first(where: { !known.contains($0) }) {
                throw ConsoleTokenError(message: "\(place): unknown field '\(unknown)' (fields: name, role, token, userId)")
            }
            guard let token = fields["token"] as? String, !token.isEmpty else {
                throw ConsoleTokenError(message: "\(place).token is required (a string)")
            }
            guard let roleText = fields["role"] as? String, let role = ConsoleRole(rawValue: roleText) else {
                throw ConsoleTokenError(message: "\(place).role must be one of \(ConsoleRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let name = (fields["name"] as? String) ?? "\(role.rawValue)-\(index + 1)"
            let userId = fields["userId"].map { "\($0)" }
            result.append(ConsoleToken(name: name, role: role, userId: userId, token: token))
        }
        return result
    }

    /// Parses `role[@userId]:token[,…]`.
    public static func parse(environment value: String) throws(ConsoleTokenError) -> [ConsoleToken] {
        var result: [ConsoleToken] = []
        for (index, entry) in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).enumerated() where !entry.isEmpty {
            guard let colon = entry.firstIndex(of: ":") else {
                throw ConsoleTokenError(message: "BROADCAST_CONSOLE_TOKENS entry \(index + 1): expected role[@userId]:token")
            }
            let head = entry[..<colon]
            let token = String(entry[entry.index(after: colon)...])
            let roleAndUser = head.split(separator: "@", maxSplits: 1)
            guard let roleText = roleAndUser.first, let role = ConsoleRole(rawValue: String(roleText)) else {
                throw ConsoleTokenError(message: "BROADCAST_CONSOLE_TOKENS entry \(index + 1): role must be one of \(ConsoleRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let userId = roleAndUser.count == 2 ? String(roleAndUser[1]) : nil
            result.append(ConsoleToken(name: "env-\(role.rawValue)-\(index + 1)", role: role, userId: userId, token: token))
        }
        return result
    }

    /// A random token for demos: 32 hex digits from the system's generator.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

extension ConsoleTokens {
    /// The tokens of `--tokens FILE` and of `BROADCAST_CONSOLE_TOKENS`, together.
    public static func load(file: String?, environment: String?) throws(ConsoleTokenError) -> ConsoleTokens {
        var all: [ConsoleToken] = []
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ConsoleTokenError(message: "cannot read the token file \(file): \(error.localizedDescription)")
            }
            all += try parse(file: text, path: file)
        }
        if let environment, !environment.isEmpty { all += try parse(environment: environment) }
        return try ConsoleTokens(all)
    }
}
