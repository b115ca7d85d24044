import ContactFiles
import BroadcastModel
import Foundation
import Publishing
import Testing

@Suite struct PlannerTests {
    static let badCSV = """
        phone,name,city,device
        +60123456701,Aisyah,KL,
        not-a-phone,Bad One,KL,
        +60123456702,"Tan, Wei",Penang,
        +60123456703,Pinned Wrong,KL,dev-zzz
        +60123456704,Too,Many,Fields,Here
        ,Empty Phone,KL,
        +60123456705,Last,Ipoh,

        """
    static let cityText = "Hi {name}, {city} store sale!"

    @Test func everyBadRowIsReportedWithLineAndReason() throws {
        let fixture = try CampaignFixture()
        let plan = try fixture.plan(try fixture.campaign(csv: Self.badCSV, text: Self.cityText))
        #expect(plan.issues.map(\.line) == [3, 5, 6, 7])
        #expect(plan.issues[0].reason.contains("not a phone number"))
        #expect(plan.issues[1].reason.contains("dev-zzz"))
        #expect(plan.issues[2].reason.contains("has 5 fields"))
        #expect(plan.issues[3].reason.contains("phone is empty"))
        #expect(plan.counts.rows == 7 && plan.counts.invalid == 4 && plan.counts.recipients == 3)
        #expect(!plan.canPublish(skipInvalid: false) && plan.canPublish(skipInvalid: true))
        // Reasons never carry a whole phone number.
        #expect(!plan.issues.contains { $0.reason.contains("60123456703") })
    }

    @Test func localNumbersNeedACountry() throws {
        let fixture = try CampaignFixture()
        let path = try fixture.campaign(csv: "phone\n0123456701\n")
        #expect(try fixture.plan(path, country: nil).issues.first?.reason.contains("--default-country") == true)
        #expect(try fixture.plan(path, country: "60").recipients().map(\.phone) == ["+60123456701"])
    }

    @Test func duplicatesAreDroppedAfterNormalising() throws {
        let fixture = try CampaignFixture()
        let plan = try fixture.plan(try fixture.campaign(csv: "phone,name\n+60123456701,A\n012-345 6701,A again\n0060123456701,A thrice\n+60123456702,B\n"))
        #expect(plan.counts.duplicates == 2 && plan.counts.recipients == 2)
        #expect(try plan.recipients().map(\.name) == ["A", "B"])
    }

    @Test func optOutIsHonoured() throws {
        let fixture = try CampaignFixture()
        let optOutPath = try fixture.write("optout.txt", "# opted out\nphone\n012 345 6702\n\n")
        let optOut = try OptOutSet.load(path: optOutPath, defaultCountryCode: "60")
        let plan = try fixture.plan(try fixture.campaign(csv: "phone\n+60123456701\n+60123456702\n+60123456703\n"), optOut: optOut)
        #expect(plan.counts.optedOut == 1 && plan.counts.recipients == 2)
        #expect(try !plan.recipients().contains { $0.phone == "+60123456702" })
    }

    @Test func unreadableOptOutLinesAreErrors() throws {
        let fixture = try CampaignFixture()
        let path = try fixture.write("optout.txt", "+60123456701\nwho?\n")
        #expect(throws: PhoneListError.invalidLines(path: path, [PhoneListIssue(line: 2, masked: "w•••")])) {
            _ = try OptOutSet.load(path: path, defaultCountryCode: "60")
        }
    }

    @Test func assignmentAndIdsAreDeterministicAndEven() throws {
        let fixture = try CampaignFixture()
        var csv = "phone,device\n"
        for index in 0..<101 { csv += "+6012\(3_000_000 + index),\(index % 10 == 0 ? "dev-c" : "")\n" }
        let path = try fixture.campaign(csv: csv)
        let first = try fixture.plan(path).recipients()
        let second = try fixture.plan(path).recipients()
        #expect(first == second)
        #expect(Set(first.map(\.messageId)).count == 101)
        #expect(first.allSatisfy { $0.messageId.hasPrefix("cmp-test-cmp-") })

        let pinned = first.filter(\.pinned)
        #expect(pinned.count == 11 && pinned.allSatisfy { $0.deviceId == "dev-c" })
        let unpinned = Dictionary(grouping: first.filter { !$0.pinned }, by: \.deviceId).mapValues(\.count)
        #expect(unpinned.keys.sorted() == ["dev-a", "dev-b", "dev-c"])
        #expect((unpinned.values.max() ?? 0) - (unpinned.values.min() ?? 0) <= 1)
    }

    @Test func messageIdsDependOnCampaignAndPhoneOnly() {
        #expect(MessageID.make(campaignId: "c", phone: "+60123456701") == MessageID.make(campaignId: "c", phone: "+60123456701"))
        #expect(MessageID.make(campaignId: "c", phone: "+60123456701") != MessageID.make(campaignId: "d", phone: "+60123456701"))
        // FNV-1a is fixed: this value must never change, or re-runs would publish new ids.
        #expect(MessageID.make(campaignId: "c", phone: "+60123456701") == "cmp-c-\(StableHash.fnv1aHex("c\u{0}+60123456701"))")
        #expect(StableHash.fnv1a("") == 0xcbf2_9ce4_8422_2325 && StableHash.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
    }

    @Test func placeholdersWithoutAColumnAreCampaignErrors() throws {
        let fixture = try CampaignFixture()
        let path = try fixture.campaign(csv: "phone,name\n+60123456701,A\n", text: "Hi {name}, see {coupon} {a|b}")
        #expect {
            _ = try fixture.plan(path)
        } throws: { error in
            guard case .campaign(let inner) = error as? PublishError else { return false }
            return inner.issues.map(\.field) == ["message.text"] && inner.issues[0].message.contains("{coupon}")
        }
    }

    @Test func headerWithoutPhoneIsACampaignError() throws {
        let fixture = try CampaignFixture()
        let path = try fixture.campaign(csv: "telephone,name\n+60123456701,A\n")
        #expect(throws: PublishError.self) { _ = try fixture.plan(path) }
    }

    @Test("the header aliases the sequence contact import accepts work here too")
    func sharedHeaderAliases() throws {
        let fixture = try CampaignFixture()
        let plan = try fixture.plan(try fixture.campaign(csv: "MSISDN,Full Name\n+60123456701,Aisha\n"))
        #expect(plan.counts.recipients == 1)
        #expect(try plan.recipients().map(\.name) == ["Aisha"])
    }
}
