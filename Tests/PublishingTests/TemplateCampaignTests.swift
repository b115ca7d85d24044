import BroadcastModel
import Foundation
import Publishing
import Testing

@Suite struct TemplateCampaignTests {
    static func campaignFile(body: String = #"["{name}", "{plan}"]"#, extraMessage: String = "") -> String {
        """
        id: tpl-cmp
        userId: user-1
        name: Template campaign
        message:
          type: template
          template:
            name: renewal_reminder
            language: ms
            header: { type: image, mediaUrl: "https://cdn.example.com/renewal.jpg" }
            body: \(body)
            buttons:
              - { type: url, index: 0, text: "{order_id}" }
              - { type: quick_reply, index: 1, payload: stop-promotions }
        \(extraMessage)
        recipients: recipients.csv
        devices: [dev-a]
        delay: { min: 5, max: 10 }
        scheduledAt: 2030-01-01T09:00:00Z
        """
    }

    @Test func aTemplateCampaignLoadsWithItsParameters() throws {
        let fixture = try CampaignFixture()
        try fixture.write("recipients.csv", "phone,name,plan,order_id\n+60123456701,Aisyah,Gold,A-1\n")
        let campaign = try CampaignLoader.load(path: try fixture.write("campaign.yaml", Self.campaignFile()))
        let template = try #require(campaign.content.template)
        #expect(campaign.content.type == .template && campaign.content.text == nil && !campaign.content.greeting)
        #expect(template.name == "renewal_reminder" && template.language == "ms")
        #expect(template.components.map(\.type) == [.header, .body, .button, .button])
        #expect(template.components[1].parameters.map(\.text) == ["{name}", "{plan}"])
        #expect(template.components[3].subType == .quickReply && template.components[3].index == 1)
        let plan = try CampaignPlanner.plan(campaign: campaign)
        #expect(plan.counts.recipients == 1)
    }

    @Test func aParameterNamingAMissingColumnIsRefusedWithFieldAndLine() throws {
        let fixture = try CampaignFixture()
        try fixture.write("recipients.csv", "phone,name,order_id\n+60123456701,Aisyah,A-1\n")
        let campaign = try CampaignLoader.load(path: try fixture.write("campaign.yaml", Self.campaignFile()))
        do {
            _ = try CampaignPlanner.plan(campaign: campaign)
            Issue.record("a template parameter without its column was accepted")
        } catch {
            guard case .campaign(.invalidFields(let issues)) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(issues.map(\.field) == ["message.template.body[1]"])
            #expect(issues[0].message.contains("{plan}") && issues[0].message.contains("line 10"), "\(issues[0].message)")
        }
    }

    @Test func textFieldsBesideATemplateAreRefused() throws {
        let fixture = try CampaignFixture()
        try fixture.write("recipients.csv", "phone\n+60123456701\n")
        let file = Self.campaignFile().replacingOccurrences(of: "  type: template\n", with: "  type: template\n  text: \"Hi {name}\"\n  greeting: true\n")
        #expect {
            _ = try CampaignLoader.load(path: try fixture.write("campaign.yaml", file))
        } throws: { error in
            guard case CampaignFileError.invalidFields(let issues) = error else { return false }
            return Set(issues.map(\.field)) == ["message.text", "message.greeting"]
        }
        let badName = Self.campaignFile().replacingOccurrences(of: "name: renewal_reminder", with: "name: Renewal Reminder")
        #expect {
            _ = try CampaignLoader.load(path: try fixture.write("campaign.yaml", badName))
        } throws: { error in
            guard case CampaignFileError.invalidFields(let issues) = error else { return false }
            return issues.map(\.field) == ["message.template.name"]
        }
    }
}

@Suite struct TemplatesFileTests {
    static let file = """
        templates:
          - name: renewal_reminder
            language: ms
            status: APPROVED
            parameters: { header: 1, body: 2, buttons: 2 }
          - name: renewal_reminder
            language: en
            status: PAUSED
            parameters: { header: 1, body: 2, buttons: 2 }
        """

    static func template(language: String = "ms", body: Int = 2) -> MessageTemplate {
        MessageTemplate(name: "renewal_reminder", language: language, components: [
            .init(type: .header, parameters: [.init(type: .image, mediaUrl: "https://x.example/a.jpg")]),
            .init(type: .body, parameters: (0..<body).map { .text("{p\($0)}") }),
            .init(type: .button, subType: .url, index: 0, parameters: [.text("x")]),
            .init(type: .button, subType: .quickReply, index: 1, parameters: [.init(type: .payload, payload: "y")]),
        ])
    }

    @Test func approvedWithTheRightCountsPasses() throws {
        let templates = try TemplatesFile.parse(Self.file, json: false)
        #expect(templates.problems(with: Self.template()).isEmpty)
    }

    @Test func notApprovedWrongCountOrUnknownIsRefusedNamingTheField() throws {
        let templates = try TemplatesFile.parse(Self.file, json: false)
        let paused = templates.problems(with: Self.template(language: "en"))
        #expect(paused.map(\.field) == ["message.template.name"] && paused[0].message.contains("PAUSED"))
        let wrong = templates.problems(with: Self.template(body: 1))
        #expect(wrong.map(\.field) == ["message.template.body"] && wrong[0].message.contains("takes 2"))
        let unknown = templates.problems(with: MessageTemplate(name: "nope", language: "ms"))
        #expect(unknown.map(\.field) == ["message.template.name"])
        #expect(throws: CampaignFileError.self) { try TemplatesFile.parse("templates:\n  - name: x\n", json: false) }
    }
}
