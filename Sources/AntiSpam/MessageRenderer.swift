import Foundation

/// The outcome of rendering: the text to send and the placeholders that had no value.
public struct RenderedText: Sendable, Equatable {
    public var text: String
    /// Placeholder names left as `{name}` in `text`, in order of first appearance, without
    /// duplicates. The caller decides whether that is fatal (e.g. skip with a reason) or fine.
    public var unfilledPlaceholders: [String]

    public init(text: String, unfilledPlaceholders: [String]) {
        self.text = text
        self.unfilledPlaceholders = unfilledPlaceholders
    }
}

/// What `{name}` becomes when the recipient has no usable name.
public enum MissingNamePolicy: String, Sendable {
    /// The locale's polite address ("there", "Kak", "amigo(a)"). Default: "Hi {name}," must never
    /// become "Hi ,".
    case localeFallback
    /// An empty string, for templates written around it.
    case empty
}

/// The device-side facts a greeting needs.
public struct GreetingContext: Sendable, Equatable {
    public var at: Date
    public var timeZone: TimeZone

    public init(at: Date, timeZone: TimeZone) {
        self.at = at
        self.timeZone = timeZone
    }
}

public struct RenderOptions: Sendable, Equatable {
    /// Language for the greeting and the missing-name fallback.
    public var locale: String
    public var missingName: MissingNamePolicy
    /// When set, `{greeting}` is filled; without it `{greeting}` is reported as unfilled.
    public var greeting: GreetingContext?
    /// Put the greeting on its own line before the text (unless the template already has
    /// `{greeting}`). Needs `greeting`.
    public var prependGreeting: Bool
    /// Apply `Variation` to the final text. Off by default.
    public var variation: Bool

    public init(
        locale: String = "en",
        missingName: MissingNamePolicy = .localeFallback,
        greeting: GreetingContext? = nil,
        prependGreeting: Bool = false,
        variation: Bool = false
    ) {
        self.locale = locale
        self.missingName = missingName
        self.greeting = greeting
        self.prependGreeting = prependGreeting
        self.variation = variation
    }
}

/// Fills placeholders and resolves spintax, deterministically per message id.
///
/// Reserved placeholders (case-insensitive): `{name}` (the cleaned recipient name) and
/// `{greeting}`. Every other `{key}` is looked up in `attributes` (exact key first, then
/// case-insensitively); unknown keys stay as written and are reported.
public enum MessageRenderer {
    public static func render(
        template: String,
        name: String?,
        attributes: [String: String],
        seed: String,
        options: RenderOptions = RenderOptions()
    ) -> RenderedText {
        let nodes = TemplateParser.parse(template)
        let locale = MessageLocale(code: options.locale)
        let greeting = options.greeting.map {
            Greeting.text(locale: locale.rawValue, name: name, at: $0.at, timeZone: $0.timeZone, seed: seed)
        }
        var context = RenderContext(
            name: NameCleaner.clean(name),
            nameFallback: options.missingName == .empty ? "" : locale.nameFallback,
            greeting: greeting,
            attributes: attributes,
            rng: SeededGenerator(seed: seed, stream: "spintax")
        )
        var text = context.render(nodes)
        if options.prependGreeting, let greeting, !context.usedGreeting {
            text = text.isEmpty ? greeting : greeting + "\n" + text
        }
        if options.variation {
            text = Variation.apply(text, seed: seed)
        }
        return RenderedText(text: text, unfilledPlaceholders: context.unfilled)
    }
}

private struct RenderContext {
    let name: String?
    let nameFallback: String
    let greeting: String?
    let attributes: [String: String]
    var rng: SeededGenerator
    var unfilled: [String] = []
    var usedGreeting = false

    mutating func render(_ nodes: [TemplateNode]) -> String {
        var out = ""
        for node in nodes {
            switch node {
            case .text(let text):
                out += text
            case .placeholder(let key, let inURL):
                if let value = value(for: key) {
                    out += inURL ? Self.percentEncoded(value) : value
                } else {
                    if !unfilled.contains(key) { unfilled.append(key) }
                    out += "{" + key + "}"
                }
            case .choice(let options):
                // Only choices draw from the generator, in document order, so the same template
                // and id always make the same picks.
                let index = rng.uniform(below: options.count)
                if options.indices.contains(index) {
                    out += render(options[index])
                }
            }
        }
        return out
    }

    private mutating func value(for key: String) -> String? {
        switch key.lowercased() {
        case "name":
            return name ?? nameFallback
        case "greeting":
            if greeting != nil { usedGreeting = true }
            return greeting
        default:
            if let exact = attributes[key] { return exact }
            // Sorted so that two keys differing only in case resolve the same way every time.
            let folded = key.lowercased()
            return attributes.keys.sorted().first { $0.lowercased() == folded }.flatMap { attributes[$0] }
        }
    }

    /// Values inside a URL are percent-encoded (RFC 3986 unreserved characters kept) so a value
    /// with spaces or "&" cannot break the link.
    private static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
