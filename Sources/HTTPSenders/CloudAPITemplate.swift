import BroadcastModel
import Senders

/// The `template` member of a Cloud API send: `{name, language: {code}, components: [...]}` with
/// parameters in Meta's shape (`{"type": "image", "image": {"link": …}}`, buttons with
/// `sub_type` and a string `index`).
struct CloudAPITemplate: Encodable {
    struct Language: Encodable { var code: String }

    struct Link: Encodable {
        var link: String
        var filename: String?
    }

    struct Parameter: Encodable {
        var type: String
        var text: String?
        var payload: String?
        var image: Link?
        var video: Link?
        var document: Link?
    }

    struct Component: Encodable {
        var type: String
        var sub_type: String?
        var index: String?
        var parameters: [Parameter]
    }

    var name: String
    var language: Language
    var components: [Component]?

    init(_ message: OutgoingMessage) throws(SendFailure) {
        guard let template = message.template else {
            throw .permanent(code: "invalid_message", message: "template message \(message.messageId) has no template", pausesDevice: false)
        }
        name = template.name
        language = Language(code: template.language)
        var components: [Component] = []
        for component in template.components {
            var parameters: [Parameter] = []
            for parameter in component.parameters {
                parameters.append(try Self.parameter(parameter, messageId: message.messageId))
            }
            components.append(Component(
                type: component.type.rawValue, sub_type: component.subType?.rawValue,
                index: component.index.map(String.init), parameters: parameters))
        }
        self.components = components.isEmpty ? nil : components
    }

    private static func parameter(_ p: MessageTemplate.Parameter, messageId: String) throws(SendFailure) -> Parameter {
        func link() throws(SendFailure) -> Link {
            guard let url = p.mediaUrl, url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw .permanent(
                    code: "invalid_message",
                    message: "template \(p.type.rawValue) parameter of \(messageId) needs an http(s) link after filling",
                    pausesDevice: false)
            }
            return Link(link: url, filename: p.type == .document ? p.fileName.nonEmpty : nil)
        }
        switch p.type {
        case .text: return Parameter(type: "text", text: p.text ?? "")
        case .payload: return Parameter(type: "payload", payload: p.payload ?? "")
        case .image: return Parameter(type: "image", image: try link())
        case .video: return Parameter(type: "video", video: try link())
        case .document: return Parameter(type: "document", document: try link())
        }
    }
}
