import BroadcastModel
import Foundation
import Kafka
import Logging
import Publishing
import Yams

/// `POST /api/v1/campaigns`: a campaign file and its recipients CSV, as `broadcast publish campaign`
/// takes them, checked by the same loader and planner (the same field and row errors), then
/// published by the same publisher.
public struct CampaignUploadRequest: Sendable, Codable {
    /// The campaign file's text (YAML, or JSON with `format: json`). Its `recipients` field names
    /// the uploaded CSV by a plain file name (e.g. `recipients.csv`); paths are refused.
    public var campaign: String
    public var format: String?
    /// The recipients CSV's text.
    public var recipients: String
    public var skipInvalid: Bool?
    public var defaultCountry: String?
    public var dryRun: Bool?
}

public struct CampaignUploadResponse: Sendable, Codable {
    public struct Issue: Sendable, Codable, Equatable {
        public var field: String
        public var message: String
    }

    public var campaignId: String?
    /// published, dry_run, refused
    public var outcome: String
    /// Problems with the campaign file itself (field by field).
    public var fieldIssues: [Issue]
    /// Bad recipient rows, with their line in the CSV (header is line 1).
    public var rowIssues: [RecipientIssue]
    public var counts: RecipientCounts?
    public var perDevice: [DeviceCount]?
    public var report: PublishReport?
    public var warnings: [String]
}

struct CampaignUpload: Sendable {
    let producer: KafkaProducer
    let topics: TopicNames
    let logger: Logger

    /// The answer and its HTTP status: 200 published or dry run, 422 refused, 403 another user's.
    func handle(_ request: CampaignUploadRequest, principal: ConsolePrincipal) async -> (status: Int, body: CampaignUploadResponse) {
        func refuse(_ status: Int = 422, id: String? = nil, fields: [CampaignUploadResponse.Issue] = [], rows: [RecipientIssue] = [], counts: RecipientCounts? = nil)
            -> (Int, CampaignUploadResponse)
        {
            (status, CampaignUploadResponse(
                campaignId: id, outcome: "refused", fieldIssues: fields, rowIssues: rows, counts: counts, perDevice: nil, report: nil,
                warnings: []))
        }
        let json = request.format?.lowercased() == "json"
        if let format = request.format, !["json", "yaml"].contains(format.lowercased()) {
            return refuse(fields: [.init(field: "format", message: "must be yaml or json, found \"\(format)\"")])
        }
        // The CSV is stored under the name the campaign gives it, inside a fresh directory: a path
        // there could make the server read some other file.
        let (fileName, nameIssue) = Self.recipientsName(in: request.campaign, json: json)
        if let nameIssue { return refuse(fields: [nameIssue]) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("broadcast-upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(request.recipients.utf8).write(to: directory.appendingPathComponent(fileName))
        } catch {
            return (500, CampaignUploadResponse(
                campaignId: nil, outcome: "refused", fieldIssues: [.init(field: "recipients", message: "could not store the upload: \(error)")],
                rowIssues: [], counts: nil, perDevice: nil, report: nil, warnings: []))
        }

        let campaign: Campaign
        do {
            campaign = try CampaignLoader.parse(request.campaign, json: json, baseDirectory: directory.path)
        } catch {
            switch error {
            case .invalidFields(let issues): return refuse(fields: issues.map { .init(field: $0.field, message: $0.message) })
            case .malformed(let reason): return refuse(fields: [.init(field: "campaign", message: reason)])
            case .unreadable(_, let reason): return refuse(fields: [.init(field: "campaign", message: reason)])
            }
        }
        guard principal.owns(campaign.userId) else {
            return refuse(403, id: campaign.id, fields: [.init(field: "userId", message: "this token may publish only campaigns of user \(principal.userId ?? "")")])
        }
        let plan: CampaignPlan
        do {
            plan = try CampaignPlanner.plan(campaign: campaign, defaultCountryCode: request.defaultCountry)
        } catch {
            switch error {
            case .campaign(let fileError): return refuse(id: campaign.id, fields: fileError.issues.map { .init(field: $0.field, message: $0.message) })
            default: return refuse(id: campaign.id, fields: [.init(field: "recipients", message: error.description)])
            }
        }
        let skipInvalid = request.skipInvalid ?? false
        if !plan.canPublish(skipInvalid: skipInvalid) {
            return refuse(id: campaign.id, rows: plan.issues, counts: plan.counts)
        }
        if request.dryRun ?? false {
            return (200, CampaignUploadResponse(
                campaignId: campaign.id, outcome: "dry_run", fieldIssues: [], rowIssues: plan.issues, counts: plan.counts,
                perDevice: plan.perDevice, report: nil, warnings: campaign.warnings))
        }
        let publisher = CampaignPublisher(producer: producer, topics: PublishTopics(messages: topics.messages, status: topics.status), logger: logger)
        do {
            let report = try await publisher.publish(plan, skipInvalid: skipInvalid)
            return (report.succeeded ? 200 : 502, CampaignUploadResponse(
                campaignId: campaign.id, outcome: report.succeeded ? "published" : "partly_published", fieldIssues: [],
                rowIssues: plan.issues, counts: plan.counts, perDevice: plan.perDevice, report: report,
                warnings: campaign.warnings + report.warnings))
        } catch {
            return (502, CampaignUploadResponse(
                campaignId: campaign.id, outcome: "refused", fieldIssues: [.init(field: "", message: error.description)],
                rowIssues: plan.issues, counts: plan.counts, perDevice: plan.perDevice, report: nil, warnings: campaign.warnings))
        }
    }

    /// The `recipients` field as a bare file name.
    static func recipientsName(in text: String, json: Bool) -> (String, CampaignUploadResponse.Issue?) {
        let root: Any?
        if json {
            root = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        } else {
            root = try? Yams.load(yaml: text)
        }
        // Unreadable text or a missing field: the loader reports it with its own words.
        guard let map = root as? [String: Any], let value = map["recipients"] as? String else { return ("recipients.csv", nil) }
        let allowed = value.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
        }
        guard allowed, !value.hasPrefix("."), !value.isEmpty, value.count <= 100 else {
            return ("", .init(
                field: "recipients",
                message: "must be a plain file name such as recipients.csv (letters, digits, '.', '_', '-'): the uploaded CSV is stored under it"))
        }
        return (value, nil)
    }
}
