import Foundation
import HTTPSenders
import Senders
import Testing

@Suite("Devices file")
struct DevicesFileTests {
    static let example = """
        defaults: { sender: simulated, timeZone: UTC, locale: en }
        devices:
          - id: dev-001
            sender: whatsapp-cloud
            phoneNumberId: "109876543210"
            tokenEnv: WA_TOKEN_DEV001        # or tokenFile
            baseURL: https://graph.facebook.com   # default
            apiVersion: v21.0                     # default
            timeZone: Asia/Kuala_Lumpur
            locale: ms
            caps: { hourly: 80, daily: 800, warmup: { start: 20, growth: 1.5 } }
            quietHours: { from: "21:00", to: "08:00" }
          - id: dev-002
            sender: gateway
            baseURL: http://gateway.internal:8080
            instance: sales-2
            apiKeyEnv: GATEWAY_KEY
        """
    static let environment = ["WA_TOKEN_DEV001": "EAAG-secret-token-value\n", "GATEWAY_KEY": "gw-secret-api-key"]

    @Test("the example parses into value types, with env var secrets resolved")
    func example() throws {
        let file = try DevicesFile.parse(Self.example, environment: Self.environment)
        #expect(file.defaults.sender == .simulated)
        #expect(file.defaults.timeZone.identifier == "UTC" || file.defaults.timeZone.identifier == "GMT")
        #expect(file.devices.map(\.id) == ["dev-001", "dev-002"])

        let cloud = try #require(file.device("dev-001"))
        #expect(cloud.sender == .whatsappCloud(.init(
            phoneNumberId: "109876543210", accessToken: "EAAG-secret-token-value",
            baseURL: "https://graph.facebook.com", apiVersion: "v21.0"
        )))
        #expect(cloud.timeZone.identifier == "Asia/Kuala_Lumpur")
        #expect(cloud.locale == "ms")
        #expect(cloud.caps == DeviceCaps(hourly: 80, daily: 800, warmup: .init(start: 20, growth: 1.5)))
        #expect(cloud.quietHours?.from.description == "21:00")
        #expect(cloud.quietHours?.to.description == "08:00")

        let gateway = try #require(file.device("dev-002"))
        #expect(gateway.sender == .gateway(.init(baseURL: "http://gateway.internal:8080", instance: "sales-2", apiKey: "gw-secret-api-key")))
        // Left out: the defaults apply.
        #expect(gateway.timeZone == file.defaults.timeZone)
        #expect(gateway.locale == "en")
        #expect(gateway.caps == nil)
        #expect(gateway.quietHours == nil)
    }

    @Test("defaults for baseURL and apiVersion; unquoted numeric phoneNumberId")
    func cloudDefaults() throws {
        let file = try DevicesFile.parse(
            "devices:\n  - { id: d1, sender: whatsapp-cloud, phoneNumberId: 109876543210, tokenEnv: T }",
            environment: ["T": "tok"]
        )
        guard case .whatsappCloud(let configuration) = file.devices.first?.sender else {
            Issue.record("expected a whatsapp-cloud device")
            return
        }
        #expect(configuration.baseURL == "https://graph.facebook.com")
        #expect(configuration.apiVersion == CloudAPISender.Configuration.defaultAPIVersion)
        #expect(configuration.phoneNumberId == "109876543210")
    }

    @Test("JSON is accepted")
    func json() throws {
        let text = #"""
            {"defaults": {"sender": "simulated", "timeZone": "Europe/Lisbon", "locale": "pt-BR"},
             "devices": [{"id": "dev-009", "sender": "gateway", "baseURL": "https://gw.example.com/", "instance": "x", "apiKeyEnv": "K",
                          "caps": {"daily": 100}, "quietHours": {"from": "22:30", "to": "7:00"}},
                         {"id": "dev-010"}]}
            """#
        let file = try DevicesFile.parse(text, environment: ["K": "key"])
        #expect(file.devices.count == 2)
        #expect(file.devices[0].caps == DeviceCaps(daily: 100))
        #expect(file.devices[0].quietHours?.to.description == "07:00")
        #expect(file.devices[0].sender == .gateway(.init(baseURL: "https://gw.example.com", instance: "x", apiKey: "key")))
        #expect(file.devices[1].sender == .simulated)
        #expect(file.devices[1].locale == "pt-BR")
        #expect(file.devices[1].timeZone.identifier == "Europe/Lisbon")
    }

    @Test("load reads a file and resolves tokenFile next to it")
    func loadWithTokenFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("devices-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "  file-token-123\n".write(to: folder.appendingPathComponent("dev-001.token"), atomically: true, encoding: .utf8)
        let yaml = "devices:\n  - id: dev-001\n    sender: whatsapp-cloud\n    phoneNumberId: \"1\"\n    tokenFile: dev-001.token\n"
        let path = folder.appendingPathComponent("devices.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)

        let file = try DevicesFile.load(path: path, environment: [:])
        guard case .whatsappCloud(let configuration) = file.devices.first?.sender else {
            Issue.record("expected a whatsapp-cloud device")
            return
        }
        #expect(configuration.accessToken == "file-token-123")
    }

    @Test("a missing file is refused with its path")
    func missingFile() {
        #expect {
            _ = try DevicesFile.load(path: "/nonexistent/devices.yaml", environment: [:])
        } throws: { error in
            let error = error as? DevicesFileError
            return error?.scope == .file && error?.description.contains("/nonexistent/devices.yaml") == true
        }
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var device: String
        var expectedId: String?
        var expectedIndex: Int = 0
        var field: String
        var message: String

        var testDescription: String { name }
    }

    static let cloud = "id: d1\n    sender: whatsapp-cloud\n    phoneNumberId: \"123\"\n    tokenEnv: WA_TOKEN_DEV001"

    static let badCases: [BadCase] = [
        BadCase(name: "unknown sender", device: "id: d1\n    sender: telegram", expectedId: "d1", field: "sender", message: "unknown sender 'telegram'"),
        BadCase(name: "missing phoneNumberId", device: "id: d1\n    sender: whatsapp-cloud\n    tokenEnv: WA_TOKEN_DEV001", expectedId: "d1", field: "phoneNumberId", message: "is missing"),
        BadCase(name: "phone number instead of its id", device: "id: d1\n    sender: whatsapp-cloud\n    phoneNumberId: \"+60123\"\n    tokenEnv: WA_TOKEN_DEV001", expectedId: "d1", field: "phoneNumberId", message: "not a numeric"),
        BadCase(name: "token env var not set", device: "id: d1\n    sender: whatsapp-cloud\n    phoneNumberId: \"1\"\n    tokenEnv: NOT_SET_ANYWHERE", expectedId: "d1", field: "tokenEnv", message: "NOT_SET_ANYWHERE is not set"),
        BadCase(name: "token env var empty", device: "id: d1\n    sender: whatsapp-cloud\n    phoneNumberId: \"1\"\n    tokenEnv: EMPTY", expectedId: "d1", field: "tokenEnv", message: "EMPTY is empty"),
        BadCase(name: "no token at all", device: "id: d1\n    sender: whatsapp-cloud\n    phoneNumberId: \"1\"", expectedId: "d1", field: "tokenEnv", message: "tokenFile"),
        BadCase(name: "unreadable tokenFile", device: "id: d1\n    sender: whatsapp-cloud\n    phoneNumberId: \"1\"\n    tokenFile: /nonexistent/token", expectedId: "d1", field: "tokenFile", message: "cannot read /nonexistent/token"),
        BadCase(name: "inline token", device: "id: d1\n    sender: whatsapp-cloud\n    phoneNumberId: \"1\"\n    token: EAAG-inline-secret", expectedId: "d1", field: "token", message: "secrets do not belong"),
        BadCase(name: "bad time zone", device: cloud + "\n    timeZone: Mars/Olympus", expectedId: "d1", field: "timeZone", message: "Mars/Olympus"),
        BadCase(name: "bad HH:mm", device: cloud + "\n    quietHours: { from: \"25:00\", to: \"08:00\" }", expectedId: "d1", field: "quietHours.from", message: "HH:mm"),
        BadCase(name: "quiet hours missing to", device: cloud + "\n    quietHours: { from: \"21:00\" }", expectedId: "d1", field: "quietHours.to", message: "is missing"),
        BadCase(name: "empty quiet window", device: cloud + "\n    quietHours: { from: \"21:00\", to: \"21:00\" }", expectedId: "d1", field: "quietHours.to", message: "equals from"),
        BadCase(name: "negative hourly cap", device: cloud + "\n    caps: { hourly: -5 }", expectedId: "d1", field: "caps.hourly", message: "at least 1"),
        BadCase(name: "non-numeric daily cap", device: cloud + "\n    caps: { daily: lots }", expectedId: "d1", field: "caps.daily", message: "not a whole number"),
        BadCase(name: "shrinking warm-up", device: cloud + "\n    caps: { warmup: { start: 10, growth: 0.5 } }", expectedId: "d1", field: "caps.warmup.growth", message: "≥ 1"),
        BadCase(name: "bad locale", device: cloud + "\n    locale: \"english please\"", expectedId: "d1", field: "locale", message: "language code"),
        BadCase(name: "typo in a field name", device: cloud + "\n    quietHour: { from: \"21:00\", to: \"08:00\" }", expectedId: "d1", field: "quietHour", message: "unknown field"),
        BadCase(name: "gateway field on a cloud device", device: cloud + "\n    instance: sales-2", expectedId: "d1", field: "instance", message: "does not apply"),
        BadCase(name: "gateway without instance", device: "id: g1\n    sender: gateway\n    baseURL: http://gw:8080\n    apiKeyEnv: GATEWAY_KEY", expectedId: "g1", field: "instance", message: "is missing"),
        BadCase(name: "gateway without baseURL", device: "id: g1\n    sender: gateway\n    instance: a\n    apiKeyEnv: GATEWAY_KEY", expectedId: "g1", field: "baseURL", message: "is missing"),
        BadCase(name: "gateway with a bad baseURL", device: "id: g1\n    sender: gateway\n    baseURL: gateway.internal\n    instance: a\n    apiKeyEnv: GATEWAY_KEY", expectedId: "g1", field: "baseURL", message: "not an http(s) URL"),
        BadCase(name: "device without id", device: "sender: simulated", expectedId: nil, field: "id", message: "is missing"),
    ]

    @Test("a bad field is refused naming the device and the field", arguments: badCases)
    func badField(_ bad: BadCase) {
        let text = "devices:\n  - " + bad.device + "\n"
        let environment = ["WA_TOKEN_DEV001": "EAAG-env-secret", "GATEWAY_KEY": "gw-env-secret", "EMPTY": "  "]
        do {
            let file = try DevicesFile.parse(text, file: "devices.yaml", environment: environment)
            Issue.record("expected \(bad.name) to be refused, got \(file.devices)")
        } catch {
            #expect(error.deviceId == bad.expectedId)
            #expect(error.deviceIndex == bad.expectedIndex)
            #expect(error.field == bad.field)
            #expect(error.problem.contains(bad.message), "\(error)")
            // The message names the place and never carries a secret.
            #expect(error.description.hasPrefix("devices.yaml: "))
            #expect(error.description.contains("'\(bad.field)'"))
            for secret in ["EAAG-env-secret", "gw-env-secret", "EAAG-inline-secret"] {
                #expect(!error.description.contains(secret))
            }
        }
    }

    @Test("the second device is named by id and index")
    func secondDevice() {
        let text = "devices:\n  - id: ok\n  - id: dev-007\n    timeZone: Nowhere/City\n"
        #expect {
            _ = try DevicesFile.parse(text, environment: [:])
        } throws: { error in
            guard let error = error as? DevicesFileError else { return false }
            return error.scope == .device(index: 1, id: "dev-007") && error.field == "timeZone"
                && error.description.contains("device 'dev-007' (devices[1]), field 'timeZone'")
        }
    }

    @Test("duplicate ids are refused")
    func duplicateIds() {
        #expect {
            _ = try DevicesFile.parse("devices:\n  - id: a\n  - id: b\n  - id: a\n", environment: [:])
        } throws: { error in
            let error = error as? DevicesFileError
            return error?.deviceIndex == 2 && error?.field == "id" && error?.problem.contains("devices[0]") == true
        }
    }

    @Test("bad defaults and bad syntax are refused")
    func defaultsAndSyntax() {
        #expect {
            _ = try DevicesFile.parse("defaults: { sender: carrier-pigeon }\ndevices: []\n", environment: [:])
        } throws: { error in
            let error = error as? DevicesFileError
            return error?.scope == .defaults && error?.field == "sender"
        }
        #expect {
            _ = try DevicesFile.parse("devices: [ { id: a \n", environment: [:])
        } throws: { error in
            let error = error as? DevicesFileError
            return error?.scope == .file && error?.problem.contains("line") == true
        }
        #expect {
            _ = try DevicesFile.parse("device:\n  - id: a\n", environment: [:])
        } throws: { error in
            (error as? DevicesFileError)?.field == "device"
        }
    }

    @Test("the sample file in examples/ parses")
    func sampleFile() throws {
        // Tests/SendersTests/<this file> → the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("examples/devices.yaml").path
        let file = try DevicesFile.load(path: path, environment: Self.environment)
        #expect(file.devices.map(\.id) == ["dev-001", "dev-002", "dev-003"])
        #expect(file.device("dev-003")?.sender == .simulated)
    }
}
