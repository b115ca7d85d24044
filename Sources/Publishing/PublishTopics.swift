/// The two topics a publisher writes. The caller decides them (the CLI applies `--topic-prefix`).
public struct PublishTopics: Sendable, Equatable {
    public var messages: String
    public var status: String

    public init(messages: String, status: String) {
        self.messages = messages
        self.status = status
    }

    /// The project's default names behind an optional prefix.
    public init(prefix: String = "") {
        self.init(messages: prefix + "broadcast.messages", status: prefix + "broadcast.status")
    }
}
