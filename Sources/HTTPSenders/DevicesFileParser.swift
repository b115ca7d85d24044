import Senders
import Foundation
import Yams

/// Walks the YAML tree by hand (rather than `Decodable`) so each error can name the device and the
/// field, and so unknown keys (typos such as `quietHour:`) are refused instead of ignored.
struct DevicesFileParser {
    let file: String
    let baseDirectory: String
    let environment: [String: String]

    private static let deviceKeys: Set<String> = [
        "id", "sender", "timeZone", "locale", "caps", "quietHours",
        "phoneNumberId", "tokenEnv", "tokenFile", "baseURL", "apiVersion",
        "instance", "apiKeyEnv", "apiKeyFile", "typingDelayMs", "messagesPerSecond", "samePhoneGapSeconds",
        "business",
    ]
    private static let keysBySender: [SenderKind: Set<String>] = [
        .simulated: [],
        .whatsappCloud: ["phoneNumberId", "tokenEnv", "tokenFile", "baseURL", "apiVersion", "messagesPerSecond", "samePhoneGapSeconds", "business"],
        .gateway: ["baseURL", "instance", "apiKeyEnv", "apiKeyFile", "typingDelayMs"],
    ]

    mutating func parse(_ text: String) throws(DevicesFileError) -> DevicesFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw DevicesFileError(file: file, scope: .file, field: nil, problem: "not valid YAML or JSON: \(Self.describe(error))")
        }
        guard let root else { throw DevicesFileError(file: file, scope: .file, field: nil, problem: "the file is empty") }
        let top = try Fields(root, scope: .file, file: file, path: nil)
        try top.refuseUnknownKeys(allowed: ["defaults", "devices", "businesses"])
        let businesses = try self.businesses(top)

        var defaults = DevicesFile.Defaults()
        if let fields = try top.nested("defaults", scope: .defaults) {
            try fields.refuseUnknownKeys(allowed: ["sender", "timeZone", "locale", "caps", "quietHours"])
            defaults.sender = try senderKind(fields) ?? defaults.sender
            defaults.timeZone = try timeZone(fields) ?? defaults.timeZone
            defaults.locale = try locale(fields) ?? defaults.locale
            defaults.caps = try caps(fields)
            defaults.quietHours = try quietHours(fields)
        }

        var devices: [DeviceConfiguration] = []
        var seen: [String: Int] = [:]
        for (index, node) in try top.sequence("devices").enumerated() {
            // Read the id first, leniently, so every later error can name the device.
            let id = node.mapping?["id"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            let fields = try Fields(node, scope: .device(index: index, id: id), file: file, path: nil)
            let device = try self.device(fields, defaults: defaults)
            if let business = device.business, !businesses.contains(where: { $0.id == business }) {
                throw fields.error("business", "'\(business)' is not one of the file's businesses (\(businesses.map(\.id).joined(separator: ", ")))")
            }
            if let first = seen[device.id] {
                throw fields.error("id", "'\(device.id)' is already used by devices[\(first)]; device ids must be unique")
            }
            seen[device.id] = index
            devices.append(device)
        }
        return DevicesFile(defaults: defaults, devices: devices, businesses: businesses)
    }

    /// `businesses`: each WhatsApp Business Account's messaging limit (unique recipients per 24 h).
    private func businesses(_ top: Fields) throws(DevicesFileError) -> [BusinessAccount] {
        guard let node = top.mapping["businesses"], node.null == nil || node.scalar == nil else { return [] }
        guard let list = node.sequence else { throw top.error("businesses", "must be a list of accounts (- id: …)") }
        var accounts: [BusinessAccount] = []
        for (index, node) in list.enumerated() {
            let id = node.mapping?["id"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            let fields = try Fields(node, scope: .business(index: index, id: id), file: file, path: nil)
            try fields.refuseUnknownKeys(allowed: ["id", "messagingLimit"])
            guard let id = try fields.string("id") else { throw fields.error("id", "is missing; every business needs an id") }
            guard !id.contains(where: { $0.isWhitespace || $0 == "/" }) else { throw fields.error("id", "'\(id)' contains white space or '/'") }
            guard !accounts.contains(where: { $0.id == id }) else { throw fields.error("id", "'\(id)' is listed twice") }
            let tiers = BusinessAccount.tiers.map(String.init).joined(separator: ", ")
            var limit: Int?
            if try fields.string("messagingLimit") != "unlimited" {
                guard let number = try? fields.int("messagingLimit"), number >= 1 else {
                    throw fields.error("messagingLimit", "must be unique recipients per 24 hours: Meta's tiers are \(tiers) or unlimited (any positive number is taken)")
                }
                limit = number
            }
            accounts.append(BusinessAccount(id: id, uniqueRecipientsPerDay: limit))
        }
        return accounts
    }

    private func device(_ fields: Fields, defaults: DevicesFile.Defaults) throws(DevicesFileError) -> DeviceConfiguration {
        for key in fields.keys where key == "token" || key == "apiKey" {
            throw fields.error(key, "secrets do not belong in the devices file; use \(key)Env (an environment variable) or \(key)File")
        }
        try fields.refuseUnknownKeys(allowed: Self.deviceKeys)
        guard let id = try fields.string("id") else { throw fields.error("id", "is missing; every device needs an id") }
        guard !id.contains(where: \.isWhitespace) else { throw fields.error("id", "'\(id)' contains white space") }
        let kind = try senderKind(fields) ?? defaults.sender
        let foreign = fields.keys.filter { key in
            Self.keysBySender.values.contains { $0.contains(key) } && !(Self.keysBySender[kind]?.contains(key) ?? false)
        }
        if let key = foreign.sorted().first {
            throw fields.error(key, "does not apply to a '\(kind.rawValue)' device (check `sender`)")
        }
        let sender: SenderSettings
        switch kind {
        case .simulated:
            sender = .simulated
        case .whatsappCloud:
            sender = .whatsappCloud(try cloudConfiguration(fields))
        case .gateway:
            sender = .gateway(try gatewayConfiguration(fields))
        }
        return DeviceConfiguration(
            id: id,
            sender: sender,
            timeZone: try timeZone(fields) ?? defaults.timeZone,
            locale: try locale(fields) ?? defaults.locale,
            caps: try caps(fields) ?? defaults.caps,
            quietHours: try quietHours(fields) ?? defaults.quietHours,
            business: try fields.string("business")
        )
    }

    // MARK: Senders

    private func cloudConfiguration(_ fields: Fields) throws(DevicesFileError) -> CloudAPISender.Configuration {
        guard let phoneNumberId = try fields.string("phoneNumberId") else {
            throw fields.error("phoneNumberId", "is missing; a whatsapp-cloud device needs its phone number id from WhatsApp Manager")
        }
        // The phone number id is Meta's numeric object id, not the phone number itself.
        guard phoneNumberId.allSatisfy(\.isASCIIDigit) else {
            throw fields.error("phoneNumberId", "'\(phoneNumberId)' is not a numeric phone number id (not the phone number: the id Meta assigns)")
        }
        let apiVersion = try fields.string("apiVersion") ?? CloudAPISender.Configuration.defaultAPIVersion
        guard apiVersion.hasPrefix("v"), Double(apiVersion.dropFirst()) != nil else {
            throw fields.error("apiVersion", "'\(apiVersion)' is not a Graph API version such as v23.0")
        }
        let rate = try fields.double("messagesPerSecond") ?? CloudAPISender.Configuration.defaultMessagesPerSecond
        guard rate > 0, rate.isFinite else {
            throw fields.error("messagesPerSecond", "is \(rate); it must be a positive number (Meta's default is 80)")
        }
        let gap = try fields.double("samePhoneGapSeconds") ?? CloudAPISender.Configuration.defaultSamePhoneGapSeconds
        guard gap >= 0, gap <= 3_600 else {
            throw fields.error("samePhoneGapSeconds", "is \(gap); it must be between 0 and 3600 seconds (Meta's pair limit is about 6)")
        }
        return CloudAPISender.Configuration(
            phoneNumberId: phoneNumberId,
            accessToken: try secret(fields, envKey: "tokenEnv", fileKey: "tokenFile", what: "access token"),
            baseURL: try baseURL(fields) ?? CloudAPISender.Configuration.defaultBaseURL,
            apiVersion: apiVersion, messagesPerSecond: rate, samePhoneGapSeconds: gap
        )
    }

    private func gatewayConfiguration(_ fields: Fields) throws(DevicesFileError) -> GatewaySender.Configuration {
        guard let baseURL = try baseURL(fields) else {
            throw fields.error("baseURL", "is missing; a gateway device needs the gateway's address, e.g. http://gateway.internal:8080")
        }
        guard let instance = try fields.string("instance") else {
            throw fields.error("instance", "is missing; a gateway device needs the gateway instance (session) name")
        }
        let typingDelay = try fields.int("typingDelayMs") ?? 0
        guard typingDelay >= 0 else { throw fields.error("typingDelayMs", "is \(typingDelay); it must be 0 or more") }
        return GatewaySender.Configuration(
            baseURL: baseURL,
            instance: instance,
            apiKey: try secret(fields, envKey: "apiKeyEnv", fileKey: "apiKeyFile", what: "api key"),
            defaultTypingDelayMilliseconds: typingDelay
        )
    }

    private func baseURL(_ fields: Fields) throws(DevicesFileError) -> String? {
        guard let text = try fields.string("baseURL") else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw fields.error("baseURL", "'\(text)' is not an http(s) URL such as https://graph.facebook.com")
        }
        return text.trimmingTrailingSlashes
    }

    /// Exactly one of `<envKey>` / `<fileKey>`; the value is read now so a missing secret stops the
    /// start, not the first send. Errors name the variable or file, never the value.
    private func secret(_ fields: Fields, envKey: String, fileKey: String, what: String) throws(DevicesFileError) -> String {
        let variable = try fields.string(envKey)
        let path = try fields.string(fileKey)
        switch (variable, path) {
        case (nil, nil):
            throw fields.error(envKey, "is missing; give the \(what) through \(envKey) (an environment variable name) or \(fileKey)")
        case (.some, .some):
            throw fields.error(envKey, "and \(fileKey) are both set; keep one")
        case (let variable?, nil):
            guard let value = environment[variable] else {
                throw fields.error(envKey, "environment variable \(variable) is not set")
            }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw fields.error(envKey, "environment variable \(variable) is empty") }
            return trimmed
        case (nil, let path?):
            let resolved = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
            let contents: String
            do {
                contents = try String(contentsOfFile: resolved, encoding: .utf8)
            } catch {
                throw fields.error(fileKey, "cannot read \(resolved) (\(DevicesFile.reason(error)))")
            }
            let trimmed = contents.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw fields.error(fileKey, "\(resolved) is empty") }
            return trimmed
        }
    }

    // MARK: Shared fields

    private func senderKind(_ fields: Fields) throws(DevicesFileError) -> SenderKind? {
        guard let text = try fields.string("sender") else { return nil }
        guard let kind = SenderKind(rawValue: text) else {
            let known = SenderKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw fields.error("sender", "unknown sender '\(text)'; use one of \(known)")
        }
        return kind
    }

    private func timeZone(_ fields: Fields) throws(DevicesFileError) -> TimeZone? {
        guard let text = try fields.string("timeZone") else { return nil }
        guard let zone = TimeZone(identifier: text) else {
            throw fields.error("timeZone", "'\(text)' is not a time zone identifier such as Asia/Kuala_Lumpur or UTC")
        }
        return zone
    }

    private func locale(_ fields: Fields) throws(DevicesFileError) -> String? {
        guard let text = try fields.string("locale") else { return nil }
        // A BCP 47-ish tag: language of 2–3 letters, optional region or script ("pt-BR", "zh_Hant").
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "_" }).map(String.init)
        guard let language = parts.first, (2...3).contains(language.count), language.allSatisfy({ $0.isASCII && $0.isLetter }),
              parts.dropFirst().allSatisfy({ (2...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        else {
            throw fields.error("locale", "'\(text)' is not a language code such as en, ms or pt-BR")
        }
        return text
    }

    private func caps(_ fields: Fields) throws(DevicesFileError) -> DeviceCaps? {
        guard let caps = try fields.nested("caps") else { return nil }
        try caps.refuseUnknownKeys(allowed: ["hourly", "daily", "warmup"])
        var result = DeviceCaps()
        for key in ["hourly", "daily"] {
            guard let value = try caps.int(key) else { continue }
            guard value >= 1 else { throw caps.error(key, "is \(value); a cap must be at least 1 (leave it out for no cap)") }
            if key == "hourly" { result.hourly = value } else { result.daily = value }
        }
        if let warmup = try caps.nested("warmup") {
            try warmup.refuseUnknownKeys(allowed: ["start", "growth"])
            guard let start = try warmup.int("start") else { throw warmup.error("start", "is missing (messages on the first day)") }
            guard start >= 1 else { throw warmup.error("start", "is \(start); it must be at least 1") }
            let growth = try warmup.double("growth") ?? 1
            guard growth.isFinite, growth >= 1 else {
                throw warmup.error("growth", "is \(growth); it must be a number ≥ 1 (e.g. 1.5 for +50 % a day)")
            }
            result.warmup = DeviceCaps.Warmup(start: start, growth: growth)
        }
        return result
    }

    private func quietHours(_ fields: Fields) throws(DevicesFileError) -> DeviceQuietHours? {
        guard let window = try fields.nested("quietHours") else { return nil }
        try window.refuseUnknownKeys(allowed: ["from", "to"])
        var times: [DeviceClockTime] = []
        for key in ["from", "to"] {
            guard let text = try window.string(key) else { throw window.error(key, "is missing; quiet hours need from and to (\"HH:mm\")") }
            guard let time = DeviceClockTime(text) else {
                throw window.error(key, "'\(text)' is not a 24-hour time HH:mm between 00:00 and 23:59 (quote it in YAML: \"21:00\")")
            }
            times.append(time)
        }
        guard times[0] != times[1] else {
            throw window.error("to", "equals from (\(times[0])); leave quietHours out to send at any time")
        }
        return DeviceQuietHours(from: times[0], to: times[1])
    }

    private static func describe(_ error: any Error) -> String {
        // Yams' own description quotes the offending YAML, which could hold a pasted secret.
        if let error = error as? YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                return "\(problem) at line \(mark.line), column \(mark.column)"
            default:
                break
            }
        }
        return "\(type(of: error))"
    }
}
