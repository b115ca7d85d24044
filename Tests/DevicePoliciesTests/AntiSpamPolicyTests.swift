import AntiSpam
import BroadcastModel
import DevicePolicies
import Foundation
import Senders
import Testing
import WorkerRuntime

@Suite("AntiSpamPolicy decisions at fixed instants")
struct AntiSpamPolicyTests {
    /// 10:00 in Kuala Lumpur: inside the send window.
    let daytime = Fixture.at("2025-03-10T02:00:00Z")

    @Test("an opted-out phone is skipped with opt_out, whatever the device's state")
    func optOutSkips() throws {
        let optOuts = OptOutStore()
        optOuts.add("+60123450001")
        let policy = try Fixture.policy(optOuts: optOuts)
        let night = Fixture.at("2025-03-10T15:00:00Z")  // 23:00 KL: quiet hours too; opt-out wins
        #expect(policy.decide(Fixture.message(phone: "+60123450001"), attempt: 0, now: night) == .skip(reason: "opt_out"))
        #expect(policy.decide(Fixture.message(phone: "+60123450001"), attempt: 0, now: daytime) == .skip(reason: "opt_out"))
        // Lifted through the topic: sent again.
        optOuts.remove("+60123450001")
        #expect(policy.decide(Fixture.message(phone: "+60123450001"), attempt: 0, now: daytime).outgoing != nil)
    }

    @Test("an opt-out from the file is not lifted by a topic removal")
    func fileOptOutStays() {
        let store = OptOutStore(file: OptOutList(["+60123450002"]))
        store.remove("+60123450002")
        #expect(store.contains("+60123450002"))
        #expect(!store.add("0123"))
    }

    @Test("quiet hours hold until the window opens on the device's clock")
    func quietHoursHold() throws {
        let policy = try Fixture.policy()
        // 22:00 in Kuala Lumpur (14:00 UTC): quiet until 08:00 local = 00:00 UTC next day.
        let decision = policy.decide(Fixture.message(), attempt: 0, now: Fixture.at("2025-03-10T14:00:00Z"))
        #expect(decision == .hold(until: Fixture.at("2025-03-11T00:00:00Z"), reason: "quiet_hours"))
        // A device without quiet hours (default profile, UTC) sends at the same instant.
        let other = policy.decide(Fixture.message(device: "elsewhere"), attempt: 0, now: Fixture.at("2025-03-10T14:00:00Z"))
        #expect(other.outgoing != nil)
    }

    @Test("the hourly cap holds until the oldest send of the hour ages out")
    func capHold() throws {
        let policy = try Fixture.policy()
        for (index, offset) in [0.0, 60].enumerated() {
            let now = daytime.addingTimeInterval(offset)
            let message = Fixture.message(id: "m-\(index)")
            #expect(policy.decide(message, attempt: 0, now: now).outgoing != nil)
            policy.didSend(message, at: now)
        }
        let decision = policy.decide(Fixture.message(id: "m-2"), attempt: 0, now: daytime.addingTimeInterval(120))
        #expect(decision == .hold(until: daytime.addingTimeInterval(3_600), reason: "hourly_cap"))
        #expect(policy.decide(Fixture.message(id: "m-2"), attempt: 0, now: daytime.addingTimeInterval(3_600)).outgoing != nil)
        #expect(policy.status(of: "kl", at: daytime.addingTimeInterval(120))?.sendsInLastHour == 2)
    }

    @Test("a ban-like failure pauses the device; it holds with device_paused, then resumes after the cool-off")
    func banLikePauses() throws {
        let policy = try Fixture.policy(coolOff: 600)
        let first = Fixture.message(id: "m-1")
        #expect(policy.decide(first, attempt: 0, now: daytime).outgoing != nil)
        let pauseEnd = policy.didFail(first, failure: Fixture.banLike, at: daytime)
        #expect(pauseEnd == daytime.addingTimeInterval(600))

        let next = Fixture.message(id: "m-2")
        let held = policy.decide(next, attempt: 0, now: daytime.addingTimeInterval(1))
        #expect(held == .hold(until: daytime.addingTimeInterval(600), reason: "device_paused"))
        #expect(policy.status(of: "kl", at: daytime.addingTimeInterval(1))?.pauseReason == "131048")
        // Another device is not affected.
        #expect(policy.decide(Fixture.message(id: "m-3", device: "other"), attempt: 0, now: daytime.addingTimeInterval(1)).outgoing != nil)
        // After the cool-off the device sends again.
        #expect(policy.decide(next, attempt: 0, now: daytime.addingTimeInterval(600)).outgoing != nil)
    }

    @Test("a failure that does not pause returns no pause end")
    func ordinaryFailures() throws {
        let policy = try Fixture.policy()
        let message = Fixture.message()
        let retryable = SendFailure.retryable(code: "130429", message: "rate", retryAfterSeconds: nil)
        let permanent = SendFailure.permanent(code: "131026", message: "undeliverable", pausesDevice: false)
        #expect(policy.didFail(message, failure: retryable, at: daytime) == nil)
        #expect(policy.didFail(message, failure: permanent, at: daytime) == nil)
        #expect(policy.decide(message, attempt: 1, now: daytime).outgoing != nil)
    }

    @Test("rendering fills the name and attributes and resolves spintax")
    func rendersPlaceholders() throws {
        let policy = try Fixture.policy()
        let outgoing = try #require(policy.decide(Fixture.message(), attempt: 0, now: daytime).outgoing)
        let text = try #require(outgoing.text)
        #expect(text.hasPrefix("Hi Aisha, your code is X42. "))
        #expect(["Thanks!", "Thank you!", "Cheers!"].contains { text.hasSuffix(" " + $0) })
        #expect(outgoing.recipientPhone == "+60123456789")
        #expect(outgoing.messageId == "m-1")
        #expect(outgoing.typingDelayMilliseconds == nil)
    }

    @Test("the greeting uses the device's time zone and locale")
    func greetingInDeviceZone() throws {
        let policy = try Fixture.policy()
        // 01:30 UTC is 09:30 in Kuala Lumpur (morning) but night in UTC.
        let now = Fixture.at("2025-03-10T01:30:00Z")
        let kl = try #require(policy.decide(Fixture.message(id: "g-1", greeting: true), attempt: 0, now: now).outgoing?.text)
        let expected = Greeting.text(locale: "ms", name: "aisha", at: now, timeZone: Fixture.kualaLumpur, seed: "g-1")
        #expect(kl.hasPrefix(expected + "\n"))
        #expect(kl.lowercased().contains("pagi"))

        let utc = try #require(policy.decide(Fixture.message(id: "g-1", device: "utc", greeting: true), attempt: 0, now: now).outgoing?.text)
        let night = Greeting.text(locale: "en", name: "aisha", at: now, timeZone: .gmt, seed: "g-1")
        #expect(utc.hasPrefix(night + "\n"))
        #expect(!utc.lowercased().contains("morning"))
    }

    @Test("a retry renders exactly the same text, in this process and in another")
    func sameTextOnRetry() throws {
        let message = Fixture.message(id: "r-1", text: "{Hello|Hi|Hey} {name}! {Our|The} sale {ends|closes} soon.", greeting: true, variation: true)
        let policy = try Fixture.policy()
        let first = try #require(policy.decide(message, attempt: 0, now: daytime).outgoing)
        _ = policy.didFail(message, failure: .retryable(code: "131000", message: "try again", retryAfterSeconds: nil), at: daytime)
        let retry = try #require(policy.decide(message, attempt: 1, now: daytime.addingTimeInterval(30)).outgoing)
        #expect(retry == first)
        // Another worker (after a hand-over) renders the same text from the message id alone.
        let other = try #require(try Fixture.policy().decide(message, attempt: 2, now: daytime.addingTimeInterval(60)).outgoing)
        #expect(other.text == first.text)
        // A different message id may pick differently, but is rendered deterministically too.
        let sibling = Fixture.message(id: "r-2", text: message.content.text, greeting: true, variation: true)
        #expect(policy.decide(sibling, attempt: 0, now: daytime).outgoing?.text == (try Fixture.policy()).decide(sibling, attempt: 0, now: daytime).outgoing?.text)
    }

    @Test("a missing name falls back to the locale's polite address; unfilled placeholders are sent or skipped by configuration")
    func missingValues() throws {
        let policy = try Fixture.policy()
        let message = Fixture.message(name: nil, text: "Hi {name}, {unknown}", attributes: nil)
        #expect(policy.decide(message, attempt: 0, now: daytime).outgoing?.text == "Hi Kak, {unknown}")

        let strict = AntiSpamPolicy(configuration: .init(skipUnfilledPlaceholders: true))
        #expect(strict.decide(message, attempt: 0, now: daytime) == .skip(reason: "unfilled_placeholder"))
    }

    @Test("an invalid phone is skipped with invalid_phone")
    func invalidPhone() throws {
        let policy = try Fixture.policy()
        #expect(policy.decide(Fixture.message(phone: "0123"), attempt: 0, now: daytime) == .skip(reason: "invalid_phone"))
    }

    @Test("media keep their URL and get a rendered caption")
    func mediaCaption() throws {
        let policy = AntiSpamPolicy()
        var message = Fixture.message(text: "For {name}")
        message.content = .init(type: .image, text: "For {name}", mediaUrl: "https://example.com/a.jpg")
        let outgoing = try #require(policy.decide(message, attempt: 0, now: daytime).outgoing)
        #expect(outgoing.text == "For Aisha")
        #expect(outgoing.mediaUrl == "https://example.com/a.jpg")
        #expect(outgoing.kind == .image)
    }

    @Test("decisions are safe from many tasks at once")
    func concurrentUse() async throws {
        let policy = try Fixture.policy()
        let now = daytime
        await withTaskGroup(of: Void.self) { group in
            for device in 0..<16 {
                group.addTask {
                    for index in 0..<50 {
                        let message = Fixture.message(id: "c-\(device)-\(index)", device: "d\(device)")
                        if policy.decide(message, attempt: 0, now: now).outgoing != nil {
                            policy.didSend(message, at: now)
                        }
                    }
                }
            }
        }
        for device in 0..<16 {
            #expect(policy.status(of: "d\(device)", at: now)?.sendsInLastHour == 50)
        }
    }
}
