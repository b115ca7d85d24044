import Foundation
import HTTPSenders
import Testing

@Suite("Devices file: business accounts")
struct BusinessAccountsTests {
    static let environment = ["WA_TOKEN": "EAAG-env-secret"]
    static func cloud(_ id: String, business: String?) -> String {
        "  - id: \(id)\n    sender: whatsapp-cloud\n    phoneNumberId: \"1\"\n    tokenEnv: WA_TOKEN\n"
            + (business.map { "    business: \($0)\n" } ?? "")
    }

    @Test("businesses with Meta's tiers, a custom limit and unlimited; numbers name theirs")
    func parsesBusinesses() throws {
        let text = """
            businesses:
              - { id: acme-waba, messagingLimit: 2000 }
              - { id: trial, messagingLimit: 12 }
              - { id: big, messagingLimit: unlimited }
            devices:

            """ + Self.cloud("c1", business: "acme-waba") + Self.cloud("c2", business: "acme-waba") + Self.cloud("c3", business: nil)
        let file = try DevicesFile.parse(text, environment: Self.environment)
        #expect(file.businesses == [
            BusinessAccount(id: "acme-waba", uniqueRecipientsPerDay: 2000), BusinessAccount(id: "trial", uniqueRecipientsPerDay: 12),
            BusinessAccount(id: "big", uniqueRecipientsPerDay: nil),
        ])
        #expect(file.devices.map(\.business) == ["acme-waba", "acme-waba", nil])
    }

    @Test("a device naming an unlisted business is refused naming the device and field")
    func unknownBusiness() {
        let text = "businesses:\n  - { id: acme, messagingLimit: 250 }\ndevices:\n" + Self.cloud("c1", business: "acme-typo")
        #expect {
            _ = try DevicesFile.parse(text, file: "devices.yaml", environment: Self.environment)
        } throws: { error in
            guard let error = error as? DevicesFileError else { return false }
            return error.deviceId == "c1" && error.field == "business" && error.problem.contains("acme-typo")
                && error.description.hasPrefix("devices.yaml: device 'c1' (devices[0]), field 'business'")
        }
    }

    @Test("bad limits, duplicate ids and a business on a gateway device are refused", arguments: [
        ("businesses:\n  - { id: acme, messagingLimit: 0 }\n", "messagingLimit", "business 'acme' (businesses[0])"),
        ("businesses:\n  - { id: acme, messagingLimit: lots }\n", "messagingLimit", "Meta's tiers"),
        ("businesses:\n  - { id: acme }\n", "messagingLimit", "unique recipients"),
        ("businesses:\n  - { id: acme, messagingLimit: 250 }\n  - { id: acme, messagingLimit: 2000 }\n", "id", "listed twice"),
        ("businesses:\n  - { id: a/b, messagingLimit: 250 }\n", "id", "'/'"),
        ("businesses:\n  - { id: acme, tier: 250 }\n", "tier", "unknown field"),
        ("businesses:\n  - { id: acme, messagingLimit: 250 }\ndevices:\n  - { id: g1, sender: gateway, baseURL: \"http://gw:1\", instance: a, apiKeyEnv: WA_TOKEN, business: acme }\n",
         "business", "does not apply"),
    ])
    func refused(text: String, field: String, words: String) {
        do {
            let file = try DevicesFile.parse(text, file: "devices.yaml", environment: Self.environment)
            Issue.record("expected a refusal, got \(file.businesses)")
        } catch {
            #expect(error.field == field, "\(error)")
            #expect(error.description.contains(words), "\(error)")
        }
    }
}
