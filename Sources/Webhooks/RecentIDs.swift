/// A bounded set of recently published event identities, oldest forgotten first.
///
/// What the bound guarantees: a duplicate delivery of any of the last `capacity` distinct events
/// is recognised and publishes nothing. An older duplicate is published again, but as the same
/// record (event identity and content are derived from the webhook alone: message id, status,
/// Meta's timestamp), which the status consumers' ordering rule treats as a no-op replay.
struct RecentIDs {
    let capacity: Int
    private var members: Set<String> = []
    private var order: [String] = []
    private var head = 0

    init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        members.reserveCapacity(capacity)
        order.reserveCapacity(capacity)
    }

    var count: Int { members.count }

    func contains(_ id: String) -> Bool { members.contains(id) }

    /// Remembers `id`; returns false when it was already known.
    @discardableResult
    mutating func insert(_ id: String) -> Bool {
        guard members.insert(id).inserted else { return false }
        if order.count < capacity {
            order.append(id)
        } else {
            members.remove(order[head])
            order[head] = id
            head = (head + 1) % capacity
        }
        return true
    }
}
