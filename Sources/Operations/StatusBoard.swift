import BroadcastModel
import Foundation

/// Aggregates status events into counts per campaign (or sequence), sequence step and device.
///
/// Counts are by message: each message id keeps only its latest status (see `StatusEntry.supersedes`),
/// so duplicate events, retries, replays and events arriving out of order never count twice.
/// A pure value: no I/O, no clock (the caller passes `now` to `snapshot`).
public struct StatusBoard: Sendable {
    /// Which events the board takes in; the rest are ignored.
    public struct Filter: Sendable, Equatable {
        public var campaignId: String?
        public var sequenceId: String?
        public var deviceId: String?
        /// Events before this time are ignored (`--since`).
        public var since: Date?

        public init(campaignId: String? = nil, sequenceId: String? = nil, deviceId: String? = nil, since: Date? = nil) {
            self.campaignId = campaignId
            self.sequenceId = sequenceId
            self.deviceId = deviceId
            self.since = since
        }

        public func accepts(_ entry: StatusEntry) -> Bool {
            if let campaignId, entry.campaignId != campaignId { return false }
            if let sequenceId, entry.sequenceId != sequenceId { return false }
            if let deviceId, entry.deviceId != deviceId { return false }
            if let since, entry.at < since { return false }
            return true
        }
    }

    /// What a message belongs to: a campaign, a sequence, or neither (sent through the API).
    public struct Scope: Sendable, Hashable, Codable, Comparable {
        public var kind: String
        public var id: String

        public static func of(_ entry: StatusEntry) -> Scope {
            if let campaignId = entry.campaignId { return Scope(kind: "campaign", id: campaignId) }
            if let sequenceId = entry.sequenceId { return Scope(kind: "sequence", id: sequenceId) }
            return Scope(kind: "direct", id: "-")
        }

        public static func < (lhs: Scope, rhs: Scope) -> Bool { (lhs.kind, lhs.id) < (rhs.kind, rhs.id) }
    }

    struct StepKey: Hashable {
        var sequenceId: String
        var stepId: String
    }

    public let filter: Filter
    /// How far back the finish rate looks.
    public let rateWindow: TimeInterval

    private var latest: [String: StatusEntry] = [:]
    private var scopes: [Scope: StatusCounts] = [:]
    private var steps: [StepKey: StatusCounts] = [:]
    private var devices: [String: StatusCounts] = [:]
    private var completions: [Scope: RateWindow] = [:]
    private var deviceCompletions: [String: RateWindow] = [:]
    private var allCompletions = RateWindow()

    public init(filter: Filter = Filter(), rateWindow: TimeInterval = 300) {
        self.filter = filter
        self.rateWindow = rateWindow
    }

    /// Messages the board knows.
    public var messageCount: Int { latest.count }

    /// The status the board holds for a message.
    public func latestEntry(for messageId: String) -> StatusEntry? { latest[messageId] }

    /// Takes in one event; returns true when it changed the message's status.
    @discardableResult
    public mutating func apply(_ entry: StatusEntry) -> Bool {
        let previous = latest[entry.messageId]
        var entry = entry
        if let previous {
            entry.inheritOrigin(from: previous)
            guard entry.supersedes(previous) else {
                // A late `sent` may name the campaign a receipt that came first could not.
                var upgraded = previous
                upgraded.inheritOrigin(from: entry)
                guard upgraded != previous, filter.accepts(upgraded) else { return false }
                move(previous, by: -1)
                latest[entry.messageId] = upgraded
                move(upgraded, by: 1)
                return true
            }
        }
        guard filter.accepts(entry) else { return false }
        if let previous { move(previous, by: -1) }
        latest[entry.messageId] = entry
        move(entry, by: 1)
        // A message that just became final counts towards the rate once per change, not per duplicate.
        if entry.status.isFinal, previous?.status.isFinal != true {
            completions[Scope.of(entry), default: RateWindow()].record(entry.at, window: rateWindow)
            deviceCompletions[entry.deviceId, default: RateWindow()].record(entry.at, window: rateWindow)
            allCompletions.record(entry.at, window: rateWindow)
        }
        return true
    }

    public mutating func apply(_ event: StatusEvent) { apply(StatusEntry(event)) }

    private mutating func move(_ entry: StatusEntry, by delta: Int) {
        scopes[Scope.of(entry), default: StatusCounts()][entry.status] += delta
        devices[entry.deviceId, default: StatusCounts()][entry.status] += delta
        if let sequenceId = entry.sequenceId, let stepId = entry.sequenceStepId {
            steps[StepKey(sequenceId: sequenceId, stepId: stepId), default: StatusCounts()][entry.status] += delta
        }
    }

    /// The board as rows, with finish rates and ETAs measured at `now`.
    public func snapshot(now: Date) -> StatusSnapshot {
        let window = rateWindow
        func row(kind: String, id: String, step: String? = nil, counts: StatusCounts, rate: RateWindow?) -> StatusSnapshot.Row {
            let perSecond = rate?.perSecond(now: now, window: window) ?? 0
            return StatusSnapshot.Row(
                kind: kind, id: id, step: step, counts: counts, finishedPerSecond: perSecond,
                etaSeconds: StatusSnapshot.eta(pending: counts.pending, perSecond: perSecond))
        }
        let scopeRows = scopes.filter { $0.value.total > 0 }.sorted { $0.key < $1.key }.map {
            row(kind: $0.key.kind, id: $0.key.id, counts: $0.value, rate: completions[$0.key])
        }
        let stepRows = steps.filter { $0.value.total > 0 }
            .sorted { ($0.key.sequenceId, $0.key.stepId) < ($1.key.sequenceId, $1.key.stepId) }
            .map { row(kind: "step", id: $0.key.sequenceId, step: $0.key.stepId, counts: $0.value, rate: nil) }
        let deviceRows = devices.filter { $0.value.total > 0 }.sorted { $0.key < $1.key }.map {
            row(kind: "device", id: $0.key, counts: $0.value, rate: deviceCompletions[$0.key])
        }
        let totals = scopes.values.reduce(StatusCounts(), +)
        return StatusSnapshot(
            generatedAt: now, messages: latest.count,
            total: row(kind: "total", id: "all", counts: totals, rate: allCompletions),
            scopes: scopeRows, steps: stepRows, devices: deviceRows)
    }
}

/// Times at which messages finished, kept for one rate window.
struct RateWindow: Sendable {
    private var times: [Date] = []
    private var newest = Date.distantPast
    private var pruneAt = 64

    mutating func record(_ time: Date, window: TimeInterval) {
        times.append(time)
        newest = max(newest, time)
        // Events can arrive out of order, so prune by the newest seen, and only now and then.
        if times.count >= pruneAt {
            let cutoff = newest.addingTimeInterval(-window)
            times.removeAll { $0 < cutoff }
            pruneAt = max(64, times.count * 2)
        }
    }

    /// Finished messages per second over the window ending at `now`.
    func perSecond(now: Date, window: TimeInterval) -> Double {
        let start = now.addingTimeInterval(-window)
        var count = 0
        var earliest = now
        for time in times where time >= start && time <= now {
            count += 1
            earliest = min(earliest, time)
        }
        guard count > 0 else { return 0 }
        // From the first finish seen in the window: a run that started a minute ago is not averaged over five.
        let span = max(1, now.timeIntervalSince(earliest))
        return Double(count) / span
    }
}
