import BroadcastModel
import ContactFiles
import Foundation

/// Reads a contacts CSV: a header row naming `phone`, optionally `name` and `device`; every other
/// column becomes an attribute (template variable) under its header name.
///
/// Bad rows do not stop the import: they are reported with their line numbers, and the good rows
/// are returned so the caller decides whether to enrol them.
public struct ContactImport: Sendable {
    /// The device for rows without one (`--device`); required when the file has no device column.
    public var defaultDeviceId: String?
    /// Country code for local numbers such as `012-345 6778` (e.g. `60`); nil takes bare digits as international.
    public var defaultCountryCode: String?

    public init(defaultDeviceId: String? = nil, defaultCountryCode: String? = nil) {
        self.defaultDeviceId = defaultDeviceId
        self.defaultCountryCode = defaultCountryCode
    }

    public struct RowProblem: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public struct Parsed: Equatable, Sendable {
        public var contacts: [Contact]
        public var problems: [RowProblem]
    }

    /// Parses the file. Throws only when the file as a whole is unusable (no header, no phone column,
    /// no device source, broken quoting).
    public func parse(_ text: String) throws(ContactImportError) -> Parsed {
        let rows = CSVParser.records(in: text).filter { !$0.isBlank }
        guard let header = rows.first else { throw .empty }
        if let problem = header.problem { throw .malformed("line \(header.line): \(problem)") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let columns = names.map(ContactColumn.init(header:))
        guard let phoneColumn = columns.firstIndex(of: .phone) else {
            throw .missingColumn("the header (line \(header.line)) has no phone column; name one \"phone\" (or mobile, msisdn, phone_number)")
        }
        let nameColumn = columns.firstIndex(of: .name)
        let deviceColumn = columns.firstIndex(of: .device)
        if deviceColumn == nil && defaultDeviceId == nil {
            throw .missingColumn("no device column and no --device: every contact needs the device that sends to it")
        }
        let special = Set([phoneColumn, nameColumn, deviceColumn].compactMap { $0 })

        var contacts: [Contact] = []
        var problems: [RowProblem] = []
        var firstLineOfPhone: [String: Int] = [:]
        for row in rows.dropFirst() {
            func problem(_ message: String) { problems.append(RowProblem(line: row.line, message: message)) }
            if let malformed = row.problem {
                problem(malformed)
                continue
            }
            guard row.fields.count == names.count else {
                problem("has \(row.fields.count) fields but the header has \(names.count)")
                continue
            }
            let rawPhone = row.fields[phoneColumn].trimmingCharacters(in: .whitespaces)
            guard !rawPhone.isEmpty else {
                problem("phone is empty")
                continue
            }
            guard let phone = PhoneNumber.normalize(rawPhone, defaultCountryCode: defaultCountryCode) else {
                let hint = defaultCountryCode == nil && rawPhone.hasPrefix("0") ? " (a local number: pass --country-code)" : ""
                problem("phone \"\(PhoneNumber.masked(rawPhone))\" is not a valid number\(hint)")
                continue
            }
            if let first = firstLineOfPhone[phone] {
                problem("phone \(PhoneNumber.masked(phone)) repeats line \(first)")
                continue
            }
            let rowDevice = deviceColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
            guard let device = rowDevice.isEmpty ? defaultDeviceId : rowDevice else {
                problem("device is empty and no --device was given")
                continue
            }
            guard device.unicodeScalars.count <= RecordLimits.maxIdLength else {
                problem("device id is longer than \(RecordLimits.maxIdLength) characters")
                continue
            }
            let name = nameColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            var attributes: [String: String] = [:]
            for (index, value) in row.fields.enumerated() where !special.contains(index) && !value.isEmpty && !names[index].isEmpty {
                attributes[names[index]] = value
            }
            firstLineOfPhone[phone] = row.line
            contacts.append(Contact(phone: phone, name: name, deviceId: device, attributes: attributes))
        }
        return Parsed(contacts: contacts, problems: problems)
    }
}

/// Why a contacts file could not be read at all.
public enum ContactImportError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(String)
    case malformed(String)
    case empty
    case missingColumn(String)

    public var description: String {
        switch self {
        case .unreadable(let reason): "contacts file unreadable: \(reason)"
        case .malformed(let reason): "contacts file is not valid CSV: \(reason)"
        case .empty: "contacts file is empty: expected a header row such as phone,name,device"
        case .missingColumn(let reason): "contacts file: \(reason)"
        }
    }
}
