import Kafka

/// The `broadcast.optouts` record format: key = the phone (E.164; other forms are normalised as
/// bare international digits by readers); a value (e.g. "1") opts the phone out,
/// a tombstone (no value) opts it back in. The topic is compacted, so the latest record per phone wins.
public enum OptOutRecord {
    public enum Change: Sendable, Equatable {
        case add(String)
        case remove(String)
    }

    public static func record(topic: String, phone: String, optedOut: Bool) -> ProducerRecord {
        ProducerRecord(topic: topic, key: Array(phone.utf8), value: optedOut ? Array("1".utf8) : nil)
    }

    /// nil for a record without a key (it names nobody).
    public static func change(key: String?, value: [UInt8]?) -> Change? {
        guard let phone = key?.trimmingWhitespace, !phone.isEmpty else { return nil }
        return value == nil ? .remove(phone) : .add(phone)
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var slice = self[...]
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
