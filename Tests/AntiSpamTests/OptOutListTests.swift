import BroadcastModel
import Testing
@testable import AntiSpam

@Suite struct OptOutListTests {
    @Test("numbers as people type them match the E.164 recipient")
    func normalisesLikeThePublisher() {
        let list = OptOutList(["+60 12-345 0001", "60123450002", "0060123450003", "+60123450004"])
        #expect(list.count == 4)
        for phone in ["+60123450001", "+60123450002", "+60123450003", "+60123450004"] {
            #expect(list.contains(phone), "\(phone) should be opted out")
        }
        #expect(!list.contains("+60123450005"))
    }

    @Test func insertAndRemove() {
        var list = OptOutList()
        let added = list.insert("+60123456789")
        let rejected = list.insert("call me")
        #expect(added && !rejected)
        #expect(list.contains("60123456789"))
        list.remove("+60 12 345 6789")
        #expect(!list.contains("+60123456789"))
        #expect(list.count == 0)
    }

    @Test(arguments: ["+60123456789", "+1234567", "+123456789012345"])
    func validE164(_ phone: String) { #expect(PhoneNumber.isE164(phone)) }

    @Test(arguments: ["60123456789", "+0123456789", "+123456", "+1234567890123456", "+6012 3456789", "+60-123456789", ""])
    func invalidE164(_ phone: String) { #expect(!PhoneNumber.isE164(phone)) }
}
