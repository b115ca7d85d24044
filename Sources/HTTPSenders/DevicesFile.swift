import Senders
import Foundation

/// The devices file: which sender each device uses, its secrets (by env var or file), time zone,
/// locale, caps and quiet hours. YAML, or JSON (a subset YAML reads too).
///
/// ```yaml
/// defaults: { sender: simulated, timeZone: UTC, locale: en }
/// businesses:
///   - id: acme-waba
///     messagingLimit: 2000             # unique recipients per 24 h: 250, 2000, 10000, 100000 or unlimited
/// devices:
///   - id: dev-001
///     sender: whatsapp-cloud
///     phoneNumberId: "109876543210"
///     tokenEnv: WA_TOKEN_DEV001        # or tokenFile
///     timeZone: Asia/Kuala_Lumpur
///     caps: { hourly: 80, daily: 800, warmup: { start: 20, growth: 1.5 } }
///     quietHours: { from: "21:00", to: "08:00" }
///     business: acme-waba              # shares that account's recipient budget
///   - id: dev-002
///     sender: gateway
///     baseURL: http://gateway.internal:8080
///     instance: sales-2
///     apiKeyEnv: GATEWAY_KEY
/// ```
///
/// Every problem is refused at start, naming the device and the field; secrets are never echoed.
public struct DevicesFile: Sendable, Equatable {
    /// Applied to devices that leave a field out. `caps` and `quietHours` replace, never merge.
    public struct Defaults: Sendable, Equatable {
        public var sender: SenderKind = .simulated
        public var timeZone: TimeZone = .gmt
        public var locale: String = "en"
        public var caps: DeviceCaps?
        public var quietHours: DeviceQuietHours?

        public init() {}
    }

    public var defaults: Defaults
    public var devices: [DeviceConfiguration]
    public var businesses: [BusinessAccount]

    public init(defaults: Defaults = Defaults(), devices: [DeviceConfiguration] = [], businesses: [BusinessAccount] = []) {
        self.defaults = defaults
        self.devices = devices
        self.businesses = businesses
    }

    public func device(_ id: String) -> DeviceConfiguration? {
        devices.first { $0.id == id }
    }

    /// Reads and validates a devices file. Relative `tokenFile` / `apiKeyFile` paths are relative to
    /// the devices file's folder.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DevicesFileError) -> DevicesFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DevicesFileError(file: path, scope: .file, field: nil, problem: "cannot read the file (\(reason(error)))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(text, file: path, baseDirectory: folder.isEmpty ? "." : folder, environment: environment)
    }

    /// Parses devices-file text; `file` only names the source in errors.
    public static func parse(
        _ text: String, file: String = "devices file", baseDirectory: String = ".",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DevicesFileError) -> DevicesFile {
        var parser = DevicesFileParser(file: file, baseDirectory: baseDirectory, environment: environment)
        return try parser.parse(text)
    }

    static func reason(_ error: any Error) -> String {
        (error as? CocoaError)?.localizedDescription ?? (error as NSError).localizedDescription
    }
}

/// What is wrong with a devices file, and where.
public struct DevicesFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Scope: Sendable, Equatable {
        case file
        case defaults
        /// `index` is the position in `devices` (0-based); `id` when the device has a readable one.
        case device(index: Int, id: String?)
        /// `index` is the position in `businesses` (0-based).
        case business(index: Int, id: String?)
    }

    /// The path of the file (or the name given to `parse`).
    public var file: String
    public var scope: Scope
    /// Dotted path of the offending field inside the device or defaults, e.g. "caps.hourly".
    public var field: String?
    public var problem: String

    public init(file: String, scope: Scope, field: String?, problem: String) {
        self.file = file
        self.scope = scope
        self.field = field
        self.problem = problem
    }

    public var deviceId: String? {
        if case .device(_, let id) = scope { return id }
        return nil
    }

    public var deviceIndex: Int? {
        if case .device(let index, _) = scope { return index }
        return nil
    }

    public var description: String {
        var place: String
        switch scope {
        case .file: place = ""
        case .defaults: place = "defaults"
        case .device(let index, let id?): place = "device '\(id)' (devices[\(index)])"
        case .device(let index, nil): place = "devices[\(index)]"
        case .business(let index, let id?): place = "business '\(id)' (businesses[\(index)])"
        case .business(let index, nil): place = "businesses[\(index)]"
        }
        if let field {
            place += place.isEmpty ? "field '\(field)'" : ", field '\(field)'"
        }
        return "\(file): " + (place.isEmpty ? "" : "\(place): ") + problem
    }
}
