// Greeting phrases per locale and part of the day. Several variants per bucket so consecutive
// messages from one device do not all open with the same words.

/// One greeting, with and without a name. Stored as text around the name (not a format string)
/// so a name can never be mistaken for a format directive.
public struct GreetingVariant: Sendable, Equatable {
    public var beforeName: String
    public var afterName: String
    /// Used when the recipient has no usable name.
    public var anonymous: String

    public init(_ beforeName: String, _ afterName: String, anonymous: String) {
        self.beforeName = beforeName
        self.afterName = afterName
        self.anonymous = anonymous
    }

    public func text(name: String?) -> String {
        guard let name else { return anonymous }
        return beforeName + name + afterName
    }
}

public enum GreetingCatalog {
    public static func variants(locale: MessageLocale, period: DayPeriod) -> [GreetingVariant] {
        switch locale {
        case .en: english(period)
        case .ms: malay(period)
        case .id: indonesian(period)
        case .pt: portuguese(period)
        case .es: spanish(period)
        }
    }

    private static func english(_ period: DayPeriod) -> [GreetingVariant] {
        switch period {
        case .morning: [
            GreetingVariant("Good morning, ", "!", anonymous: "Good morning!"),
            GreetingVariant("Morning, ", "!", anonymous: "Morning!"),
            GreetingVariant("Hi ", ", good morning!", anonymous: "Hi, good morning!"),
        ]
        case .afternoon: [
            GreetingVariant("Good afternoon, ", "!", anonymous: "Good afternoon!"),
            GreetingVariant("Hi ", ", good afternoon!", anonymous: "Hi, good afternoon!"),
            GreetingVariant("Hello ", ", hope your day is going well!", anonymous: "Hello, hope your day is going well!"),
        ]
        case .evening: [
            GreetingVariant("Good evening, ", "!", anonymous: "Good evening!"),
            GreetingVariant("Hi ", ", good evening!", anonymous: "Hi, good evening!"),
            GreetingVariant("Hello ", ", hope you had a good day!", anonymous: "Hello, hope you had a good day!"),
        ]
        // "Good night" is a farewell in English, so late greetings stay neutral.
        case .night: [
            GreetingVariant("Hi ", "!", anonymous: "Hi there!"),
            GreetingVariant("Hello ", "!", anonymous: "Hello!"),
            GreetingVariant("Hi ", ", sorry for the late message!", anonymous: "Hi, sorry for the late message!"),
        ]
        }
    }

    private static func malay(_ period: DayPeriod) -> [GreetingVariant] {
        switch period {
        case .morning: [
            GreetingVariant("Selamat pagi ", "!", anonymous: "Selamat pagi Kak!"),
            GreetingVariant("Hai ", ", selamat pagi!", anonymous: "Hai Kak, selamat pagi!"),
            GreetingVariant("Salam ", ", selamat pagi!", anonymous: "Salam, selamat pagi!"),
        ]
        case .afternoon: [
            GreetingVariant("Selamat petang ", "!", anonymous: "Selamat petang Kak!"),
            GreetingVariant("Hai ", ", selamat petang!", anonymous: "Hai Kak, selamat petang!"),
            GreetingVariant("Salam ", ", selamat petang!", anonymous: "Salam, selamat petang!"),
        ]
        case .evening: [
            GreetingVariant("Selamat malam ", "!", anonymous: "Selamat malam Kak!"),
            GreetingVariant("Hai ", ", selamat malam!", anonymous: "Hai Kak, selamat malam!"),
            GreetingVariant("Salam ", ", selamat malam!", anonymous: "Salam, selamat malam!"),
        ]
        case .night: [
            GreetingVariant("Hai ", "!", anonymous: "Hai Kak!"),
            GreetingVariant("Salam ", "!", anonymous: "Salam Kak!"),
            GreetingVariant("Maaf mengganggu ", ", selamat malam!", anonymous: "Maaf mengganggu, selamat malam!"),
        ]
        }
    }

    private static func indonesian(_ period: DayPeriod) -> [GreetingVariant] {
        switch period {
        case .morning: [
            GreetingVariant("Selamat pagi ", "!", anonymous: "Selamat pagi Kak!"),
            GreetingVariant("Halo ", ", selamat pagi!", anonymous: "Halo Kak, selamat pagi!"),
            GreetingVariant("Pagi ", "!", anonymous: "Pagi Kak!"),
        ]
        case .afternoon: [
            GreetingVariant("Selamat siang ", "!", anonymous: "Selamat siang Kak!"),
            GreetingVariant("Halo ", ", selamat siang!", anonymous: "Halo Kak, selamat siang!"),
            GreetingVariant("Siang ", "!", anonymous: "Siang Kak!"),
        ]
        case .evening: [
            GreetingVariant("Selamat malam ", "!", anonymous: "Selamat malam Kak!"),
            GreetingVariant("Halo ", ", selamat malam!", anonymous: "Halo Kak, selamat malam!"),
            GreetingVariant("Malam ", "!", anonymous: "Malam Kak!"),
        ]
        case .night: [
            GreetingVariant("Halo ", "!", anonymous: "Halo Kak!"),
            GreetingVariant("Hai ", "!", anonymous: "Hai Kak!"),
            GreetingVariant("Maaf mengganggu malam-malam, ", "!", anonymous: "Maaf mengganggu malam-malam, Kak!"),
        ]
        }
    }

    private static func portuguese(_ period: DayPeriod) -> [GreetingVariant] {
        switch period {
        case .morning: [
            GreetingVariant("Bom dia, ", "!", anonymous: "Bom dia!"),
            GreetingVariant("Olá ", ", bom dia!", anonymous: "Olá, bom dia!"),
            GreetingVariant("Oi ", ", bom dia!", anonymous: "Oi, bom dia!"),
        ]
        case .afternoon: [
            GreetingVariant("Boa tarde, ", "!", anonymous: "Boa tarde!"),
            GreetingVariant("Olá ", ", boa tarde!", anonymous: "Olá, boa tarde!"),
            GreetingVariant("Oi ", ", boa tarde!", anonymous: "Oi, boa tarde!"),
        ]
        case .evening, .night: [
            GreetingVariant("Boa noite, ", "!", anonymous: "Boa noite!"),
            GreetingVariant("Olá ", ", boa noite!", anonymous: "Olá, boa noite!"),
            GreetingVariant("Oi ", ", boa noite!", anonymous: "Oi, boa noite!"),
        ]
        }
    }

    private static func spanish(_ period: DayPeriod) -> [GreetingVariant] {
        switch period {
        case .morning: [
            GreetingVariant("¡Buenos días, ", "!", anonymous: "¡Buenos días!"),
            GreetingVariant("¡Hola ", ", buenos días!", anonymous: "¡Hola, buenos días!"),
            GreetingVariant("Hola ", ", ¿qué tal tu mañana?", anonymous: "Hola, ¿qué tal tu mañana?"),
        ]
        case .afternoon: [
            GreetingVariant("¡Buenas tardes, ", "!", anonymous: "¡Buenas tardes!"),
            GreetingVariant("¡Hola ", ", buenas tardes!", anonymous: "¡Hola, buenas tardes!"),
            GreetingVariant("Hola ", ", ¿qué tal tu día?", anonymous: "Hola, ¿qué tal tu día?"),
        ]
        case .evening, .night: [
            GreetingVariant("¡Buenas noches, ", "!", anonymous: "¡Buenas noches!"),
            GreetingVariant("¡Hola ", ", buenas noches!", anonymous: "¡Hola, buenas noches!"),
            GreetingVariant("Hola ", ", ¿qué tal?", anonymous: "Hola, ¿qué tal?"),
        ]
        }
    }
}
