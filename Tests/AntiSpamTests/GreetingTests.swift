import Foundation
import Testing
@testable import AntiSpam

@Suite struct GreetingTests {
    /// 03:00 UTC is 11:00 in Kuala Lumpur (UTC+8) and 22:00 the previous day in New York (EST).
    @Test func sameInstantDependsOnDeviceTimeZone() {
        let instant = Fixture.date("2026-01-15T03:00:00Z")
        #expect(DayPeriod.at(instant, timeZone: Fixture.kualaLumpur) == .morning)
        #expect(DayPeriod.at(instant, timeZone: Fixture.newYork) == .night)

        let kl = Greeting.text(locale: "en", name: "john", at: instant, timeZone: Fixture.kualaLumpur, seed: "m1")
        let ny = Greeting.text(locale: "en", name: "john", at: instant, timeZone: Fixture.newYork, seed: "m1")
        let morning = GreetingCatalog.variants(locale: .en, period: .morning).map { $0.text(name: "John") }
        let night = GreetingCatalog.variants(locale: .en, period: .night).map { $0.text(name: "John") }
        #expect(morning.contains(kl))
        #expect(night.contains(ny))
    }

    @Test(arguments: [(4, DayPeriod.night), (5, .morning), (11, .morning), (12, .afternoon), (17, .afternoon),
                      (18, .evening), (21, .evening), (22, .night), (0, .night)])
    func hourBoundaries(hour: Int, period: DayPeriod) {
        #expect(DayPeriod(hour: hour) == period)
    }

    @Test func localesAndFallback() {
        let morning = Fixture.date("2026-01-15T09:00:00Z")
        for (code, locale) in [("pt-BR", MessageLocale.pt), ("es", .es), ("id", .id), ("ms_MY", .ms)] {
            let expected = GreetingCatalog.variants(locale: locale, period: .morning).map { $0.text(name: "Ana") }
            let texts = (0..<30).map { Greeting.text(locale: code, name: "ana", at: morning, timeZone: Fixture.utc, seed: "\($0)") }
            #expect(texts.allSatisfy { expected.contains($0) })
        }
        #expect(GreetingCatalog.variants(locale: .pt, period: .morning)[0].text(name: "Ana") == "Bom dia, Ana!")
        let unknown = Greeting.text(locale: "xx", name: nil, at: morning, timeZone: Fixture.utc, seed: "s")
        #expect(GreetingCatalog.variants(locale: .en, period: .morning).map(\.anonymous).contains(unknown))
    }

    @Test func seedPicksAmongSeveralVariants() {
        let at = Fixture.date("2026-01-15T14:00:00Z")
        let texts = Set((0..<100).map { Greeting.text(locale: "en", name: "Ana", at: at, timeZone: Fixture.utc, seed: "m\($0)") })
        #expect(texts.count == 3)
        #expect(Greeting.text(locale: "en", name: "Ana", at: at, timeZone: Fixture.utc, seed: "x")
            == Greeting.text(locale: "en", name: "Ana", at: at, timeZone: Fixture.utc, seed: "x"))
    }

    @Test func nameFallbacks() {
        #expect(MessageLocale(code: "ms").nameFallback == "Kak")
        #expect(MessageLocale(code: "in").nameFallback == "Kak")
        #expect(MessageLocale(code: "EN-us").nameFallback == "there")
        #expect(MessageLocale(code: "").rawValue == "en")
    }
}
