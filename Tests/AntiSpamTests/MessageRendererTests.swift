import Foundation
import Testing
@testable import AntiSpam

@Suite struct MessageRendererTests {
    /// The old system's regex expanded `{name}` as spintax and rewrote spintax inside links.
    @Test func oldBugPlaceholderAndURLSurviveSpintax() {
        let template = "Hi {name}, {hello|hi} see https://x.io/a?b={c|d}"
        for seed in (0..<50).map({ "msg-\($0)" }) {
            let rendered = MessageRenderer.render(template: template, name: "ana", attributes: [:], seed: seed)
            #expect(rendered.text == "Hi Ana, hello see https://x.io/a?b={c|d}" || rendered.text == "Hi Ana, hi see https://x.io/a?b={c|d}")
            #expect(rendered.unfilledPlaceholders.isEmpty)
        }
    }

    @Test func wwwLinksPhonesAndCodesAreUntouched() {
        let template = "{Call|Ring} +60 12-345 6789, code ABC-1234, www.shop.my/{x|y}?p=1 or 2024"
        let text = MessageRenderer.render(template: template, name: nil, attributes: [:], seed: "m").text
        #expect(text.hasSuffix(" +60 12-345 6789, code ABC-1234, www.shop.my/{x|y}?p=1 or 2024"))
    }

    @Test func attributesFillAndUnknownsAreReported() {
        let rendered = MessageRenderer.render(
            template: "Order {order.id} for {Name}: {status} ({missing}, {missing}) {Order.ID}",
            name: nil,
            attributes: ["order.id": "A-17", "status": "{shipped|late}"],
            seed: "m"
        )
        // Values are inserted verbatim, never parsed as spintax; lookups fall back to case-insensitive.
        #expect(rendered.text == "Order A-17 for there: {shipped|late} ({missing}, {missing}) A-17")
        #expect(rendered.unfilledPlaceholders == ["missing"])
    }

    @Test func placeholderInsideURLIsPercentEncoded() {
        let rendered = MessageRenderer.render(
            template: "Track: https://t.io/o/{order}?n={name}",
            name: "José Silva",
            attributes: ["order": "A 1&2"],
            seed: "m"
        )
        #expect(rendered.text == "Track: https://t.io/o/A%201%262?n=Jos%C3%A9%20Silva")
    }

    @Test func missingNamePolicy() {
        let fallback = MessageRenderer.render(template: "Hai {name}", name: "12345", attributes: [:], seed: "m",
                                              options: RenderOptions(locale: "ms-MY"))
        #expect(fallback.text == "Hai Kak")
        let empty = MessageRenderer.render(template: "Hi {name}", name: nil, attributes: [:], seed: "m",
                                           options: RenderOptions(missingName: .empty))
        #expect(empty.text == "Hi ")
    }

    @Test func placeholdersInsideSpintaxOptionsAreFilled() {
        let texts = Set((0..<100).map {
            MessageRenderer.render(template: "{Hi {name}|Hello {name}|Hey}! www.x.io/{a|b}", name: "ANA", attributes: [:], seed: "\($0)").text
        })
        #expect(texts == ["Hi Ana! www.x.io/{a|b}", "Hello Ana! www.x.io/{a|b}", "Hey! www.x.io/{a|b}"])
    }

    @Test func nestedSpintaxPicksOnlyListedLeaves() {
        var seen: Set<String> = []
        for i in 0..<300 {
            let text = MessageRenderer.render(template: "{a|{b|c}|}", name: nil, attributes: [:], seed: "id-\(i)").text
            seen.insert(text)
        }
        #expect(seen == ["a", "b", "c", ""])
    }

    @Test func sameIdRendersTheSameText() {
        let template = "{Hi|Hello|Hey} {name}, {our {sale|offer}|the promo} {starts|begins} {today|now}!"
        let first = MessageRenderer.render(template: template, name: "Ana", attributes: [:], seed: "campaign-7:+60123")
        for _ in 0..<20 {
            #expect(MessageRenderer.render(template: template, name: "Ana", attributes: [:], seed: "campaign-7:+60123") == first)
        }
    }

    @Test func differentIdsSpreadRoughlyEvenly() {
        var counts: [String: Int] = [:]
        let runs = 3_000
        for i in 0..<runs {
            let text = MessageRenderer.render(template: "{a|b|c}", name: nil, attributes: [:], seed: "msg-\(i)").text
            counts[text, default: 0] += 1
        }
        #expect(Set(counts.keys) == ["a", "b", "c"])
        for (_, count) in counts {
            // Expected 1 000 each; ±15% is far outside normal noise (σ ≈ 26).
            #expect(count > 850 && count < 1_150)
        }
    }

    @Test func greetingPlaceholderAndPrepend() {
        let at = Fixture.date("2026-01-15T01:00:00Z")  // 09:00 in Kuala Lumpur
        let context = GreetingContext(at: at, timeZone: Fixture.kualaLumpur)
        let expected = Greeting.text(locale: "ms", name: "siti", at: at, timeZone: Fixture.kualaLumpur, seed: "m")

        let inline = MessageRenderer.render(template: "{greeting} Promo!", name: "siti", attributes: [:], seed: "m",
                                            options: RenderOptions(locale: "ms", greeting: context))
        #expect(inline.text == expected + " Promo!")

        let prepended = MessageRenderer.render(template: "Promo!", name: "siti", attributes: [:], seed: "m",
                                               options: RenderOptions(locale: "ms", greeting: context, prependGreeting: true))
        #expect(prepended.text == expected + "\nPromo!")
        #expect(expected.contains("pagi") && expected.contains("Siti"))

        let noContext = MessageRenderer.render(template: "{greeting} Promo!", name: nil, attributes: [:], seed: "m")
        #expect(noContext.unfilledPlaceholders == ["greeting"])
    }

    @Test func variationOptionKeepsURL() {
        let template = "Hello dear friend of ours here is the link https://x.io/a?b=1 okay"
        let rendered = MessageRenderer.render(template: template, name: nil, attributes: [:], seed: "m",
                                              options: RenderOptions(variation: true))
        #expect(rendered.text.contains(" https://x.io/a?b=1 "))
    }
}
