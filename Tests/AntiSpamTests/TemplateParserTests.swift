import Testing
@testable import AntiSpam

@Suite struct TemplateParserTests {
    @Test func placeholderIsNotSpintax() {
        #expect(TemplateParser.parse("Hi {name}!") == [.text("Hi "), .placeholder("name", inURL: false), .text("!")])
    }

    @Test func spintaxWithEmptyOption() {
        #expect(TemplateParser.parse("{a||b}") == [.choice([[.text("a")], [], [.text("b")]])])
    }

    @Test func nestedSpintax() {
        #expect(TemplateParser.parse("{a|{b|c}}") == [.choice([[.text("a")], [.choice([[.text("b")], [.text("c")]])]])])
    }

    @Test func urlIsOpaqueButPlaceholdersInsideAreKept() {
        #expect(TemplateParser.parse("https://x.io/a?b={c|d}&u={user_id}") == [
            .text("https://x.io/a?b={c|d}&u="), .placeholder("user_id", inURL: true),
        ])
    }

    @Test func urlInsideSpintaxOptionEndsAtBar() {
        #expect(TemplateParser.parse("{see https://a.io/{x|y}|call}") == [
            .choice([[.text("see https://a.io/{x|y}")], [.text("call")]]),
        ])
    }

    @Test(arguments: ["{", "}", "{a|b", "a|b}", "{{{{", "}}}{", "{a|{b}", "{}", "{ }", "{1}", "{hello world}", "{\"k\": 1}"])
    func unbalancedOrNonTemplateBracesStayLiteral(_ template: String) {
        #expect(MessageRenderer.render(template: template, name: nil, attributes: [:], seed: "s").text == template)
    }

    @Test func unclosedOuterGroupKeepsInnerSpintax() {
        #expect(TemplateParser.parse("{a {b|c}") == [.text("{a "), .choice([[.text("b")], [.text("c")]])])
    }

    @Test func hostileInputDoesNotBlowUp() {
        let template = String(repeating: "{", count: 3_000) + String(repeating: "a|", count: 500)
        let rendered = MessageRenderer.render(template: template, name: nil, attributes: [:], seed: "s")
        #expect(rendered.text == template)
        let deep = String(repeating: "{a|", count: 100) + String(repeating: "}", count: 100)
        _ = MessageRenderer.render(template: deep, name: nil, attributes: [:], seed: "s")
        let mixed = String(repeating: "{x|", count: 2_000) + "}" + String(repeating: "{y}", count: 1_000)
        _ = MessageRenderer.render(template: mixed, name: nil, attributes: [:], seed: "s")
    }
}
