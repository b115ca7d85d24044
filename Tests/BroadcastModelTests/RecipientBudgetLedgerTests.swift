import Foundation
import Testing
@testable import BroadcastModel

@Suite("Recipient budget ledger")
struct RecipientBudgetLedgerTests {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)

    static func claim(_ recipient: Int, at seconds: TimeInterval, limit: Int = 3, id: String = UUID().uuidString) -> RecipientClaim {
        RecipientClaim(
            businessId: "acme", recipient: String(format: "%032x", recipient), claimId: id,
            claimedAt: start.addingTimeInterval(seconds), limit: limit, deviceId: "c1", writer: "w")
    }

    @Test("new recipients are granted up to the limit, then denied; one already counted is covered")
    func grantsUpToTheLimit() {
        var ledger = RecipientBudgetLedger()
        let verdicts = [1, 2, 3, 4, 2, 5].enumerated().map { ledger.apply(Self.claim($0.element, at: Double($0.offset))) }
        #expect(verdicts == [.granted, .granted, .granted, .denied, .covered, .denied])
        #expect(ledger.used(at: Self.start.addingTimeInterval(10)) == 3)
    }

    @Test("a recipient leaves the window 24 h after its latest claim; a covered claim moves its window on")
    func windowRolls() {
        var ledger = RecipientBudgetLedger()
        _ = ledger.apply(Self.claim(1, at: 0))
        _ = ledger.apply(Self.claim(2, at: 100))
        _ = ledger.apply(Self.claim(3, at: 200))
        #expect(ledger.apply(Self.claim(1, at: 3_600)) == .covered)  // recipient 1 now counts from 3,600 s
        #expect(ledger.nextOpening(after: Self.start.addingTimeInterval(4_000)) == Self.start.addingTimeInterval(100 + 86_400))
        #expect(ledger.apply(Self.claim(4, at: 86_400 + 50)) == .denied)  // nobody left yet
        #expect(ledger.apply(Self.claim(4, at: 86_400 + 150)) == .granted)  // recipient 2 left
        #expect(ledger.apply(Self.claim(5, at: 86_400 + 300)) == .granted)  // recipient 3 left; 1 has not
        #expect(ledger.apply(Self.claim(6, at: 86_400 + 400)) == .denied)
        #expect(ledger.apply(Self.claim(6, at: 86_400 + 3_601)) == .granted)  // recipient 1 left an hour later
    }

    @Test("replaying the same claims gives every reader the same verdicts, whatever the limit says")
    func replayIsDeterministic() {
        var claims: [RecipientClaim] = []
        for index in 0..<200 { claims.append(Self.claim(index % 37, at: Double(index * 600), limit: index < 100 ? 20 : 10)) }
        var first = RecipientBudgetLedger()
        var second = RecipientBudgetLedger()
        let a = claims.map { first.apply($0) }
        let b = claims.map { second.apply($0) }
        #expect(a == b)
        #expect(a.contains(.denied) && a.contains(.covered) && a.contains(.granted))
        // At no point more than the claim's limit are counted.
        var check = RecipientBudgetLedger()
        for claim in claims {
            _ = check.apply(claim)
            #expect(check.used(at: claim.claimedAt) <= max(claim.limit, 20))
        }
    }

    @Test("claims round-trip and a phone number in place of the hash is refused naming the field")
    func codec() throws {
        let claim = Self.claim(7, at: 0, limit: 250, id: "claim-1")
        #expect(try RecipientClaim.decodeValidated(key: claim.key, value: claim.encoded()) == claim)
        #expect(claim.key == "recipient-claim/acme/" + String(format: "%032x", 7))
        #expect(RecipientClaim.isClaimKey(claim.key) && !RecipientClaim.isClaimKey("device-1"))
        var bad = claim
        bad.recipient = "+60123456778"
        #expect { try RecipientClaim.decodeValidated(from: bad.encoded()) } throws: { error in
            (error as? RecordError)?.fields.contains("recipient") == true
        }
        #expect { try RecipientClaim.decodeValidated(key: "recipient-claim/other/x", value: claim.encoded()) } throws: { error in
            (error as? RecordError)?.fields.contains("recipient") == true
        }
    }
}
