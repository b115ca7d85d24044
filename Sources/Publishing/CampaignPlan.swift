import ContactFiles
import BroadcastModel
import Foundation

/// Row counts of a recipients file.
public struct RecipientCounts: Sendable, Equatable, Codable {
    /// Data rows read (blank lines not counted).
    public var rows = 0
    /// Rows that passed every check (recipients + duplicates + optedOut).
    public var valid = 0
    public var invalid = 0
    public var duplicates = 0
    public var optedOut = 0
    /// Recipients that will be published: valid, first of their phone, not opted out.
    public var recipients = 0
    /// Of `recipients`, those whose `device` column chose the device.
    public var pinned = 0

    public init() {}
}

/// The result of the validation pass: everything known before anything is published.
public struct CampaignPlan: Sendable {
    public var campaign: Campaign
    public var counts: RecipientCounts
    /// Every invalid row with its line and reason, in file order.
    public var issues: [RecipientIssue]
    /// Recipients per device, in the campaign's device order.
    public var perDevice: [DeviceCount]
    public var defaultCountryCode: String?
    let optOut: OptOutSet
    let columns: RecipientColumns
    let fingerprint: FileFingerprint

    /// True when publishing may go ahead under the `skipInvalid` choice.
    public func canPublish(skipInvalid: Bool) -> Bool { issues.isEmpty || skipInvalid }

    func makePipeline() -> RecipientPipeline {
        RecipientPipeline(campaign: campaign, columns: columns, optOut: optOut, defaultCountryCode: defaultCountryCode)
    }
}

/// Size and modification time: enough to notice a file edited between the two passes.
struct FileFingerprint: Sendable, Equatable {
    var size: UInt64
    var modified: Date?

    init(path: String) throws(PublishError) {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
            modified = attributes[.modificationDate] as? Date
        } catch {
            throw .recipientsFile(CSVError(path: path, reason: error.localizedDescription))
        }
    }
}

/// The validation pass: reads the whole recipients file once, without keeping rows, and reports
/// every bad row.
public enum CampaignPlanner {
    public static func plan(campaign: Campaign, optOut: OptOutSet = OptOutSet(), defaultCountryCode: String? = nil) throws(PublishError) -> CampaignPlan {
        let path = campaign.recipientsPath
        let fingerprint = try FileFingerprint(path: path)
        var reader: CSVFileReader
        do { reader = try CSVFileReader(path: path) } catch { throw .recipientsFile(error) }
        let columns = try readHeader(&reader, campaign: campaign)

        var pipeline = RecipientPipeline(campaign: campaign, columns: columns, optOut: optOut, defaultCountryCode: defaultCountryCode)
        var counts = RecipientCounts()
        var issues: [RecipientIssue] = []
        var perDevice = Dictionary(uniqueKeysWithValues: campaign.devices.map { ($0, 0) })
        while let record = try next(&reader) {
            let outcome = pipeline.classify(record)
            if case .blank = outcome { continue }
            counts.rows += 1
            switch outcome {
            case .blank: break
            case .invalid(let issue): counts.invalid += 1; issues.append(issue)
            case .duplicate: counts.valid += 1; counts.duplicates += 1
            case .optedOut: counts.valid += 1; counts.optedOut += 1
            case .accepted(_, let deviceId, let pinned):
                counts.valid += 1
                counts.recipients += 1
                if pinned { counts.pinned += 1 }
                perDevice[deviceId, default: 0] += 1
            }
        }
        return CampaignPlan(
            campaign: campaign, counts: counts, issues: issues,
            perDevice: campaign.devices.map { DeviceCount(device: $0, recipients: perDevice[$0] ?? 0) },
            defaultCountryCode: defaultCountryCode, optOut: optOut, columns: columns, fingerprint: fingerprint)
    }

    /// Reads and checks the header row; header problems and template placeholders no column can
    /// fill are campaign errors (they would break every message), not row errors.
    static func readHeader(_ reader: inout CSVFileReader, campaign: Campaign) throws(PublishError) -> RecipientColumns {
        var header: CSVRecord?
        while let record = try next(&reader) {
            if !record.isBlank { header = record; break }
        }
        guard let header else {
            throw .campaign(.invalidFields([FieldIssue(field: "recipients", message: "\(campaign.recipientsPath) is empty: it needs a header row with a phone column")]))
        }
        let columns: RecipientColumns
        switch RecipientColumns.parse(header: header) {
        case .success(let parsed): columns = parsed
        case .failure(let problems):
            throw .campaign(.invalidFields(problems.problems.map {
                FieldIssue(field: "recipients", message: "header (line \(header.line)): \($0)")
            }))
        }
        let unknown = TemplatePlaceholders.unknown(in: campaign.content.text ?? "", columns: columns.attributeNames)
        if !unknown.isEmpty {
            let available = (["name", "greeting"] + columns.attributeNames).joined(separator: ", ")
            throw .campaign(.invalidFields(unknown.map {
                FieldIssue(field: "message.text", message: "placeholder {\($0)} has no column in the recipients file (available: \(available))")
            }))
        }
        let unknownInTemplate = CampaignTemplate.unknownColumns(campaign.templateSources, columns: columns.attributeNames)
        if !unknownInTemplate.isEmpty {
            let available = (["name"] + columns.attributeNames).joined(separator: ", ")
            throw .campaign(.invalidFields(unknownInTemplate.map { found in
                let line = found.source.line.map { " (line \($0))" } ?? ""
                return FieldIssue(
                    field: found.source.field,
                    message: "template parameter {\(found.placeholder)} has no column in the recipients file\(line) (available: \(available))")
            }))
        }
        return columns
    }

    static func next(_ reader: inout CSVFileReader) throws(PublishError) -> CSVRecord? {
        do { return try reader.next() } catch { throw .recipientsFile(error) }
    }
}

extension CampaignPlan {
    /// Reads the file again and calls `body` with each recipient as it would be published, in file
    /// order (for a dry run listing, an export of the assignment, or tests).
    public func forEachRecipient(_ body: (PlannedRecipient) throws -> Void) throws {
        var reader = try CSVFileReader(path: campaign.recipientsPath)
        _ = try CampaignPlanner.readHeader(&reader, campaign: campaign)
        var pipeline = makePipeline()
        while let record = try reader.next() {
            if case .accepted(let recipient) = pipeline.process(record) { try body(recipient) }
        }
    }
}
