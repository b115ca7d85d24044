import Foundation

/// Rendered views (JSON bodies, HTML fragments) kept for a short time and computed once however
/// many readers ask at the same moment. Fifty browsers polling a campaign page then cost one set of
/// projection queries per `ttl`, not fifty, so readers never crowd out the follower's writes.
///
/// Once a view exists, a reader after `ttl` gets the last rendering at once while one refresh runs
/// behind it (stale-while-revalidate): a page is then at most `ttl` plus one rendering old, and no
/// reader waits on the projection except the very first. Keys include the token's scope (user and
/// phone masking), so one user's view is never served to another.
actor ViewCache {
    private struct Entry {
        var value: [UInt8]?
        var refreshing: Task<[UInt8], any Error>?
        var renderedAt: ContinuousClock.Instant
    }

    let ttl: Duration
    private var entries: [String: Entry] = [:]
    private var lastSweep = ContinuousClock.now

    init(ttl: Duration) {
        self.ttl = ttl
    }

    func bytes(_ key: String, compute: @escaping @Sendable () async throws -> [UInt8]) async throws -> [UInt8] {
        guard ttl > .zero else { return try await compute() }
        let now = ContinuousClock.now
        sweep(now)
        var entry = entries[key] ?? Entry(value: nil, refreshing: nil, renderedAt: now)
        if let value = entry.value, now - entry.renderedAt < ttl { return value }
        if entry.refreshing == nil {
            entry.refreshing = Task { try await compute() }
            entries[key] = entry
            let refreshing = entry.refreshing
            Task { await self.settle(key, refreshing) }
        }
        if let value = entry.value { return value }
        // Nothing rendered yet: wait for the first rendering (shared with everybody else asking).
        guard let refreshing = entry.refreshing else { return try await compute() }
        return try await refreshing.value
    }

    /// Stores a finished refresh; a failed one is dropped so the next reader tries again.
    private func settle(_ key: String, _ task: Task<[UInt8], any Error>?) async {
        guard let task else { return }
        let result = await task.result
        guard var entry = entries[key] else { return }
        entry.refreshing = nil
        if case .success(let value) = result {
            entry.value = value
            entry.renderedAt = .now
        }
        entries[key] = entry
    }

    /// Forgets views nobody asked for in a while.
    private func sweep(_ now: ContinuousClock.Instant) {
        guard now - lastSweep > ttl * 100 else { return }
        entries = entries.filter { now - $0.value.renderedAt < ttl * 100 || $0.value.refreshing != nil }
        lastSweep = now
    }
}
