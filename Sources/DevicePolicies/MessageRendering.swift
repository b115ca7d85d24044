import AntiSpam
import BroadcastModel
import Foundation

/// Renders a message's text for one device: placeholders from the recipient's name and the
/// attributes, spintax seeded by the message id (so every attempt picks the same), the greeting in
/// the device's time zone and locale, and optional variation.
enum MessageRendering {
    static func render(
        _ message: BroadcastMessage, policy: DeviceSendPolicy, missingName: MissingNamePolicy, now: Date
    ) -> RenderedText? {
        let content = message.content
        // A media message without a caption stays without one; a text message gets at least the greeting.
        guard content.text != nil || (content.greeting && content.type == .text) else { return nil }
        let options = RenderOptions(
            locale: policy.locale,
            missingName: missingName,
            greeting: content.greeting ? GreetingContext(at: now, timeZone: policy.timeZone) : nil,
            prependGreeting: content.greeting,
            variation: content.variation
        )
        return MessageRenderer.render(
            template: content.text ?? "", name: message.recipient.name, attributes: message.attributes ?? [:],
            seed: message.id, options: options
        )
    }
}
