import BroadcastModel
import Foundation

/// A validated campaign: what to send, from whom, to which list, paced how.
public struct Campaign: Sendable, Equatable {
    /// Letters, digits, `.`, `_`, `-`; it becomes part of every message id.
    public var id: String
    public var userId: String
    public var name: String
    /// The template as written: placeholders and spintax are filled at send time.
    public var content: BroadcastMessage.Content
    /// Absolute path of the recipients CSV.
    public var recipientsPath: String
    /// Devices in the order given; unpinned recipients go round-robin in this order.
    public var devices: [String]
    public var delay: BroadcastMessage.Delay
    public var scheduledAt: Date
    public var expiresAt: Date?
    /// Things that are allowed but probably unintended (e.g. an `expiresAt` in the past).
    public var warnings: [String]
    /// For a template: each parameter as written, with its field and line, to check its `{column}`s.
    var templateSources: [CampaignTemplate.Source] = []
    /// When set, a message whose device stays paused this long moves to another of ``devices``
    /// (`reroute: { afterMinutes: N }`); nil (the default): it waits for its device.
    public var rerouteAfterSeconds: Double?

    /// What every message of the campaign carries about rerouting (nil when it may not).
    public var reroute: BroadcastMessage.Reroute? {
        rerouteAfterSeconds.map { BroadcastMessage.Reroute(afterSeconds: $0, devices: devices) }
    }

    public init(
        id: String, userId: String, name: String, content: BroadcastMessage.Content, recipientsPath: String,
        devices: [String], delay: BroadcastMessage.Delay, scheduledAt: Date, expiresAt: Date? = nil, warnings: [String] = []
    ) {
        self.id = id
        self.userId = userId
        self.name = name
        self.content = content
        self.recipientsPath = recipientsPath
        self.devices = devices
        self.delay = delay
        self.scheduledAt = scheduledAt
        self.expiresAt = expiresAt
        self.warnings = warnings
    }

    init(
        id: String, userId: String, name: String, content: BroadcastMessage.Content, recipientsPath: String,
        devices: [String], delay: BroadcastMessage.Delay, scheduledAt: Date, expiresAt: Date?, warnings: [String],
        templateSources: [CampaignTemplate.Source]
    ) {
        self.init(
            id: id, userId: userId, name: name, content: content, recipientsPath: recipientsPath, devices: devices,
            delay: delay, scheduledAt: scheduledAt, expiresAt: expiresAt, warnings: warnings)
        self.templateSources = templateSources
    }

    /// Longest campaign id: message ids (`cmp-<id>-<16 hex>`) must stay well inside the 128-character id limit.
    public static let maxIdLength = 64
}
