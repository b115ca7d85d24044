import Foundation

/// Opening line chosen by locale, local time of day on the device, and the message id.
public enum Greeting {
    /// A greeting such as "Good morning, John!".
    ///
    /// - Parameters:
    ///   - locale: language code ("en", "ms", "id", "pt", "es", also "pt-BR"); unknown → English.
    ///   - name: raw recipient name; cleaned with `NameCleaner`. No usable name → a nameless variant.
    ///   - at: the send instant; the period is taken on the clock of `timeZone` (the DEVICE's zone,
    ///     since the recipient's is unknown and devices usually serve their own country).
    ///   - seed: the message id, so a retry greets identically.
    public static func text(locale: String, name: String?, at date: Date, timeZone: TimeZone, seed: String) -> String {
        let period = DayPeriod.at(date, timeZone: timeZone)
        let variants = GreetingCatalog.variants(locale: MessageLocale(code: locale), period: period)
        var rng = SeededGenerator(seed: seed, stream: "greeting")
        let index = rng.uniform(below: variants.count)
        guard variants.indices.contains(index) else { return "" }
        return variants[index].text(name: NameCleaner.clean(name))
    }
}
