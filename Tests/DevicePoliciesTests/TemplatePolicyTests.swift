import BroadcastModel
import BroadcastTesting
import DevicePolicies
import Foundation
import Senders
import Testing
import WorkerRuntime

@Suite struct TemplatePolicyTests {
    static let daytime = Fixture.at("2025-03-10T03:00:00Z")  // 11:00 in Kuala Lumpur

    @Test func aTemplateIsFilledButNeverGreetedOrSpun() throws {
        var message = Fixture.message(name: "aisha binti ali", attributes: ["plan": "Gold"])
        message.content = .template(MessageTemplate(name: "renewal", language: "ms", components: [
            .init(type: .body, parameters: [.text("{name}"), .text("{plan}"), .text("{Hi|Hello}")]),
        ]))
        let decision = try Fixture.policy().decide(message, attempt: 0, now: Self.daytime)
        guard case .send(let outgoing) = decision else {
            Issue.record("expected a send, got \(decision)")
            return
        }
        #expect(outgoing.kind == .template && outgoing.text == nil)
        // The recipient's name as given (not cleaned into a greeting), the column, spintax untouched.
        #expect(outgoing.template?.components[0].parameters.map(\.text) == ["aisha binti ali", "Gold", "{Hi|Hello}"])
    }

    @Test func providerOptOutGoesToTheStoreAndThePublisher() throws {
        let reported = Locked<[String]>([])
        let store = OptOutStore()
        let policy = AntiSpamPolicy(optOuts: store, onProviderOptOut: { phone in reported.withLock { $0.append(phone) } })
        let message = Fixture.message(phone: "+60123456700")
        let failure = SendFailure.permanent(code: "131050", message: "user_stopped_marketing: ...", pausesDevice: false)
        #expect(policy.didFail(message, failure: failure, at: Self.daytime) == nil)
        #expect(store.contains("+60123456700"))
        #expect(reported.value == ["+60123456700"])
        #expect(policy.decide(message, attempt: 0, now: Self.daytime) == .skip(reason: "opt_out"))
        // Other permanent failures opt nobody out.
        _ = policy.didFail(Fixture.message(phone: "+60123456701"), failure: .permanent(code: "131026", message: "x", pausesDevice: false), at: Self.daytime)
        #expect(!store.contains("+60123456701") && reported.value.count == 1)
    }
}
