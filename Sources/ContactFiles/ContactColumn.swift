import Foundation

/// The columns of a contact list that mean something to us, and the header names people give them.
///
/// One set of aliases for every reader (campaign recipients, sequence contacts, opt-out lists), so
/// a file that one command accepts means the same to every other.
public enum ContactColumn: String, Sendable, CaseIterable {
    case phone, name, device

    /// Header names as exports write them, lower-cased, spaces and dashes read as `_`.
    public var aliases: Set<String> {
        switch self {
        case .phone: ["phone", "phone_number", "phonenumber", "mobile", "mobile_number", "msisdn", "whatsapp", "wa_number"]
        case .name: ["name", "full_name", "fullname", "contact_name"]
        case .device: ["device", "device_id", "deviceid"]
        }
    }

    /// The column a header cell names, or nil for any other (an attribute column).
    public init?(header: String) {
        let folded = Self.fold(header)
        guard let match = Self.allCases.first(where: { $0.aliases.contains(folded) }) else { return nil }
        self = match
    }

    /// Lower-cased, trimmed, with spaces and dashes as underscores: "Phone Number" → "phone_number".
    public static func fold(_ header: String) -> String {
        String(header.trimmingCharacters(in: .whitespaces).lowercased().map { $0 == " " || $0 == "-" ? "_" : $0 })
    }
}
