import BroadcastModel
import ContactFiles

/// Phones that must not receive the campaign, kept as 64-bit keys so that a million-row campaign
/// checks each recipient without building a string set.
public struct OptOutSet: Sendable {
    private var keys: Set<UInt64> = []

    public init() {}

    public init<S: Sequence>(phones: S) where S.Element == String {
        for phone in phones { keys.insert(PhoneKey.make(phone)) }
    }

    public var count: Int { keys.count }

    public func contains(e164 phone: String) -> Bool { keys.contains(PhoneKey.make(phone)) }

    func contains(key: UInt64) -> Bool { keys.contains(key) }

    /// Reads an opt-out list with the rule every reader shares (``PhoneListFile``); a line that is
    /// not a phone refuses the whole list.
    public static func load(path: String, defaultCountryCode: String?) throws(PhoneListError) -> OptOutSet {
        OptOutSet(phones: try PhoneListFile.load(path: path, defaultCountryCode: defaultCountryCode))
    }
}
