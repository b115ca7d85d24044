import ContactFiles
import BroadcastModel
import Foundation

/// What became of one CSV row.
enum RowOutcome: Sendable {
    case accepted(PlannedRecipient)
    case invalid(RecipientIssue)
    case duplicate
    case optedOut
    case blank
}

/// Turns CSV rows into recipients: checks, normalises, drops duplicates and opt-outs, assigns a
/// device and derives the message id. Pure and deterministic: the validation pass and the publish
/// pass each run a fresh pipeline over the same file and get the same answers.
struct RecipientPipeline: Sendable {
    let campaignId: String
    let columns: RecipientColumns
    let optOut: OptOutSet
    let defaultCountryCode: String?
    private var seen: Set<UInt64> = []
    private var assigner: DeviceAssigner

    init(campaign: Campaign, columns: RecipientColumns, optOut: OptOutSet, defaultCountryCode: String?) {
        campaignId = campaign.id
        self.columns = columns
        self.optOut = optOut
        self.defaultCountryCode = defaultCountryCode
        assigner = DeviceAssigner(devices: campaign.devices)
    }

    /// The checks alone: enough for the validation pass, which needs counts and devices, not records.
    mutating func classify(_ record: CSVRecord) -> Classification {
        if record.isBlank { return .blank }
        if let problem = record.problem { return .invalid(RecipientIssue(line: record.line, reason: problem)) }
        let fields = record.fields
        guard fields.count == columns.count else {
            return .invalid(RecipientIssue(line: record.line, reason: "has \(fields.count) field\(fields.count == 1 ? "" : "s"), the header has \(columns.count) (an unquoted comma?)"))
        }

        let rawPhone = fields[columns.phone]
        var reasons: [String] = []
        // Most lists hold clean E.164 already; the byte check is far cheaper than normalising.
        let phone = PhoneNumber.isE164(rawPhone) ? rawPhone : PhoneNumber.normalize(rawPhone, defaultCountryCode: defaultCountryCode)
        if phone == nil {
            reasons.append(phoneProblem(rawPhone))
        }
        var pinned: String?
        if let index = columns.device {
            let device = fields[index].trimmedASCII
            if !device.isEmpty {
                if assigner.isKnown(device) {
                    pinned = device
                } else {
                    reasons.append("device \"\(device)\" is not one of the campaign's devices (\(assigner.devices.joined(separator: ", ")))")
                }
            }
        }
        guard reasons.isEmpty, let phone else {
            return .invalid(RecipientIssue(line: record.line, reason: reasons.joined(separator: "; ")))
        }

        let key = PhoneKey.make(phone)
        guard seen.insert(key).inserted else { return .duplicate }
        if optOut.contains(key: key) { return .optedOut }
        return .accepted(phone: phone, deviceId: assigner.assign(pinned: pinned), pinned: pinned != nil)
    }

    /// The checks, then the whole recipient as it will be published.
    mutating func process(_ record: CSVRecord) -> RowOutcome {
        switch classify(record) {
        case .blank: return .blank
        case .invalid(let issue): return .invalid(issue)
        case .duplicate: return .duplicate
        case .optedOut: return .optedOut
        case .accepted(let phone, let deviceId, let pinned):
            let row = acceptedRow(record, phone: phone, deviceId: deviceId)
            var attributes: [String: String] = [:]
            for (index, column) in columns.attributes.enumerated() {
                if let value = row.attribute(index) { attributes[column.name] = value }
            }
            return .accepted(PlannedRecipient(
                line: record.line, phone: phone, name: row.name, deviceId: deviceId, pinned: pinned,
                attributes: attributes.isEmpty ? nil : attributes, messageId: row.messageId))
        }
    }

    /// The checks, then what publishing needs, without building an attribute dictionary per row:
    /// nil for rows that are not published.
    mutating func accept(_ record: CSVRecord) -> AcceptedRow? {
        guard case .accepted(let phone, let deviceId, _) = classify(record) else { return nil }
        return acceptedRow(record, phone: phone, deviceId: deviceId)
    }

    private func acceptedRow(_ record: CSVRecord, phone: String, deviceId: String) -> AcceptedRow {
        let name = columns.name.map { record.fields[$0].trimmedASCII }.flatMap { $0.isEmpty ? nil : $0 }
        return AcceptedRow(
            fields: record.fields, attributeColumns: columns.attributes, phone: phone, name: name, deviceId: deviceId,
            messageId: MessageID.make(campaignId: campaignId, phone: phone))
    }

    enum Classification {
        case accepted(phone: String, deviceId: String, pinned: Bool)
        case invalid(RecipientIssue)
        case duplicate
        case optedOut
        case blank
    }

    private func phoneProblem(_ raw: String) -> String {
        let trimmed = raw.trimmedASCII
        if trimmed.isEmpty { return "phone is empty" }
        let shown = PhoneNumber.masked(trimmed)
        if defaultCountryCode == nil, trimmed.hasPrefix("0"), !trimmed.hasPrefix("00") {
            return "phone \"\(shown)\" is a local number: pass --default-country (e.g. 60) or write it with +country code"
        }
        return "phone \"\(shown)\" is not a phone number (E.164 needs 7 to 15 digits after the country code's +)"
    }
}

/// An accepted row as publishing reads it: the raw fields stay in place and attributes are read
/// from them on demand.
struct AcceptedRow {
    let fields: [String]
    let attributeColumns: [(index: Int, name: String)]
    let phone: String
    let name: String?
    let deviceId: String
    let messageId: String

    /// The value of attribute `index` (in header order); an empty cell is an absent value, so the
    /// renderer decides (e.g. reports it unfilled).
    func attribute(_ index: Int) -> String? {
        let value = fields[attributeColumns[index].index]
        return value.isEmpty ? nil : value
    }
}
