import BroadcastModel
import Foundation
import Publishing
import Testing

@Suite struct CampaignLoaderTests {
    private func fields(_ yaml: String, json: Bool = false) throws -> [String] {
        let fixture = try CampaignFixture()
        try fixture.write("r.csv", "phone\n+60123456701\n")
        do {
            _ = try CampaignLoader.parse(yaml, json: json, baseDirectory: fixture.directory.path)
            return []
        } catch {
            return error.issues.map(\.field)
        }
    }

    @Test func loadsTheExampleCampaign() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/campaign/campaign.yaml").standardizedFileURL.path
        let campaign = try CampaignLoader.load(path: path)
        #expect(campaign.id == "year-end-sale-2026")
        #expect(campaign.content.type == .image && campaign.content.greeting && campaign.content.variation)
        #expect(campaign.devices == ["device-kl-1", "device-kl-2", "device-pj-1"])
        #expect(campaign.reroute?.afterSeconds == 1800)
        #expect(campaign.delay == .init(minSeconds: 8, maxSeconds: 25))
        #expect(campaign.recipientsPath.hasSuffix("examples/campaign/recipients.csv"))
        let plan = try CampaignPlanner.plan(campaign: campaign, defaultCountryCode: "60")
        #expect(plan.issues.isEmpty)
        #expect(plan.counts.recipients == 20 && plan.counts.pinned == 4)
    }

    @Test func rerouteGivesEveryMessageThePoolAndItsBadFieldsAreNamed() throws {
        let fixture = try CampaignFixture()
        try fixture.write("r.csv", "phone\n+60123456701\n")
        let base = """
            id: c1
            userId: u1
            name: n
            message: { type: text, text: hi }
            recipients: r.csv
            delay: { min: 1, max: 2 }
            scheduledAt: 2030-01-01T09:00:00Z

            """
        let campaign = try CampaignLoader.parse(base + "devices: [a, b, c]\nreroute: { afterMinutes: 30 }\n", json: false, baseDirectory: fixture.directory.path)
        #expect(campaign.reroute == BroadcastMessage.Reroute(afterSeconds: 1800, devices: ["a", "b", "c"]))
        let plain = try CampaignLoader.parse(base + "devices: [a, b]\n", json: false, baseDirectory: fixture.directory.path)
        #expect(plain.reroute == nil)
        #expect(try fields(base + "devices: [a, b]\nreroute: { afterMinutes: 0.5 }\n") == ["reroute.afterMinutes"])
        #expect(try fields(base + "devices: [a, b]\nreroute: {}\n") == ["reroute.afterMinutes"])
        #expect(try fields(base + "devices: [a, b]\nreroute: { after: 30 }\n").contains("reroute.after"))
        #expect(try fields(base + "devices: [a]\nreroute: { afterMinutes: 30 }\n") == ["reroute"])
    }

    @Test func maxDelayBelowMinAndMissingDevicesAreNamed() throws {
        let issues = try fields("""
            id: c1
            userId: u1
            name: n
            message: { type: text, text: hi }
            recipients: r.csv
            delay: { min: 30, max: 10 }
            scheduledAt: 2030-01-01T09:00:00Z
            """)
        #expect(issues.contains("delay.max"))
        #expect(issues.contains("devices"))
    }

    @Test func everyBadFieldIsReportedAtOnce() throws {
        let issues = try fields("""
            id: "bad id!"
            name: n
            message: { type: image, text: hi, greeting: maybe }
            recipients: missing.csv
            devices: [d1, d1]
            delay: { min: abc, max: 10 }
            scheduledAt: tomorrow
            expiresAt: 2020-01-01T00:00:00Z
            devics: [x]
            """)
        for field in ["id", "userId", "message.mediaUrl", "message.greeting", "recipients", "devices[1]", "delay.min", "scheduledAt", "devics"] {
            #expect(issues.contains(field), "expected an issue for \(field), got \(issues)")
        }
    }

    @Test func contractRulesUseCampaignFieldNames() throws {
        let issues = try fields("""
            id: c1
            userId: u1
            name: n
            message: { type: image, text: hi, mediaUrl: "ftp://x/y.png" }
            recipients: r.csv
            devices: [d1]
            delay: { min: 1, max: 2 }
            scheduledAt: 2030-01-01T09:00:00Z
            """)
        #expect(issues == ["message.mediaUrl"])
    }

    @Test func jsonIsAccepted() throws {
        let fixture = try CampaignFixture()
        try fixture.write("r.csv", "phone\n+60123456701\n")
        let path = try fixture.write("c.json", """
            {"id": "c1", "userId": "u1", "name": "n", "message": {"type": "text", "text": "Hi {name}", "greeting": true},
             "recipients": "r.csv", "devices": ["d1", "d2"], "delay": {"min": 1.5, "max": 3},
             "scheduledAt": "2030-01-01T09:00:00Z", "expiresAt": "2030-01-02T09:00:00Z"}
            """)
        let campaign = try CampaignLoader.load(path: path)
        #expect(campaign.delay.minSeconds == 1.5 && campaign.content.greeting && campaign.expiresAt != nil)
    }

    @Test func malformedYAMLIsReported() throws {
        let fixture = try CampaignFixture()
        #expect(throws: CampaignFileError.self) {
            _ = try CampaignLoader.parse("id: [unclosed", json: false, baseDirectory: fixture.directory.path)
        }
    }
}
