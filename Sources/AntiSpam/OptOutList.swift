import BroadcastModel

/// Phones (E.164) that must never be messaged. Checked before every send.
///
/// Every phone goes through ``PhoneNumber/normalize(_:defaultCountryCode:)``, the rule the publisher
/// and every list reader share, so "+60 12-345 6701" and "60123456701" are the same person here too.
/// Files are read by `ContactFiles.PhoneListFile`.
public struct OptOutList: Sendable, Equatable {
    public private(set) var phones: Set<String>

    public init<S: Sequence>(_ phones: S) where S.Element == String {
        self.phones = Set(phones.compactMap(Self.normalized))
    }

    public init() { phones = [] }

    public var count: Int { phones.count }

    public func contains(_ phone: String) -> Bool {
        Self.normalized(phone).map(phones.contains) ?? false
    }

    /// Adds a phone; returns false when it is not a phone number (nothing is stored then).
    @discardableResult
    public mutating func insert(_ phone: String) -> Bool {
        guard let phone = Self.normalized(phone) else { return false }
        phones.insert(phone)
        return true
    }

    public mutating func remove(_ phone: String) {
        if let phone = Self.normalized(phone) { phones.remove(phone) }
    }

    /// Bare digits are read as international (the topic and files carry no country of their own).
    private static func normalized(_ phone: String) -> String? {
        PhoneNumber.isE164(phone) ? phone : PhoneNumber.normalize(phone, defaultCountryCode: nil)
    }
}
