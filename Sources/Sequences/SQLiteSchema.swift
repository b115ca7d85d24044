import BroadcastModel
import Foundation
import GRDB

/// Tables and migrations of the SQLite store. Migrations are append-only: never edit a shipped one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sequences, steps, enrolments") { db in
            try db.create(table: SequenceRow.databaseTableName) { t in
                t.primaryKey("id", .text)
                t.column("name", .text)
                t.column("userId", .text).notNull()
                t.column("handOver", .text)
                t.column("revision", .integer).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: StepRow.databaseTableName) { t in
                t.column("sequenceId", .text).notNull().references(SequenceRow.databaseTableName, onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("stepId", .text).notNull()
                t.column("dayOffset", .integer).notNull()
                t.column("windowStart", .text).notNull()
                t.column("windowEnd", .text).notNull()
                t.column("timeZone", .text).notNull()
                t.column("contentType", .text).notNull()
                t.column("text", .text)
                t.column("mediaUrl", .text)
                t.column("fileName", .text)
                t.column("greeting", .boolean).notNull()
                t.column("variation", .boolean).notNull()
                t.column("delayMinSeconds", .double).notNull()
                t.column("delayMaxSeconds", .double).notNull()
                t.primaryKey(["sequenceId", "position"])
            }
            try db.create(table: EnrolmentRow.databaseTableName) { t in
                // AUTOINCREMENT: ids are never reused, because they are part of message ids.
                t.autoIncrementedPrimaryKey("id")
                t.column("sequenceId", .text).notNull().references(SequenceRow.databaseTableName)
                t.column("phone", .text).notNull()
                t.column("name", .text)
                t.column("deviceId", .text).notNull()
                t.column("attributes", .text).notNull()
                t.column("enrolledAt", .datetime).notNull()
                t.column("currentStep", .integer).notNull()
                t.column("state", .text).notNull()
                    .check(sql: "state IN ('active', 'completed', 'stopped', 'handed_over')")
                t.column("stopReason", .text)
                t.column("handedOverFrom", .integer).references(EnrolmentRow.databaseTableName)
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(index: "enrolments_state", on: EnrolmentRow.databaseTableName, columns: ["state", "sequenceId"])
            try db.create(index: "enrolments_phone", on: EnrolmentRow.databaseTableName, columns: ["phone", "state"])
            // At most one active enrolment per contact and sequence, whatever the caller does.
            try db.execute(sql: """
                CREATE UNIQUE INDEX enrolments_one_active ON enrolments(sequenceId, phone) WHERE state = 'active'
                """)
        }
        migrator.registerMigration("v2: template steps") { db in
            // The step's WhatsApp template with its parameters, as JSON (content type template).
            try db.alter(table: StepRow.databaseTableName) { t in t.add(column: "template", .text) }
        }
        return migrator
    }
}

struct SequenceRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sequences"
    var id: String
    var name: String?
    var userId: String
    var handOver: String?
    var revision: Int
    var createdAt: Date
    var updatedAt: Date
}

struct StepRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sequenceSteps"
    var sequenceId: String
    var position: Int
    var stepId: String
    var dayOffset: Int
    var windowStart: String
    var windowEnd: String
    var timeZone: String
    var contentType: String
    var text: String?
    var mediaUrl: String?
    var fileName: String?
    var greeting: Bool
    var variation: Bool
    var delayMinSeconds: Double
    var delayMaxSeconds: Double
    var template: String?

    init(sequenceId: String, position: Int, step: SequenceStep) {
        self.sequenceId = sequenceId
        self.position = position
        stepId = step.id
        dayOffset = step.dayOffset
        windowStart = step.window.start.description
        windowEnd = step.window.end.description
        timeZone = step.window.timeZone
        contentType = step.content.type.rawValue
        text = step.content.text
        mediaUrl = step.content.mediaUrl
        fileName = step.content.fileName
        greeting = step.content.greeting
        variation = step.content.variation
        delayMinSeconds = step.delay.minSeconds
        delayMaxSeconds = step.delay.maxSeconds
        template = step.content.template.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    func step() throws(SequenceStoreError) -> SequenceStep {
        guard let start = TimeOfDay(windowStart), let end = TimeOfDay(windowEnd),
              let type = BroadcastMessage.Content.Kind(rawValue: contentType)
        else { throw .corrupt("step \(position) of sequence \(sequenceId)") }
        var decodedTemplate: MessageTemplate?
        if let template {
            guard let value = try? JSONDecoder().decode(MessageTemplate.self, from: Data(template.utf8)) else {
                throw .corrupt("template of step \(position) of sequence \(sequenceId)")
            }
            decodedTemplate = value
        }
        return SequenceStep(
            id: stepId, dayOffset: dayOffset,
            window: SendWindow(start: start, end: end, timeZone: timeZone),
            content: BroadcastMessage.Content(
                type: type, text: text, mediaUrl: mediaUrl, fileName: fileName, greeting: greeting, variation: variation,
                template: decodedTemplate),
            delay: BroadcastMessage.Delay(minSeconds: delayMinSeconds, maxSeconds: delayMaxSeconds))
    }
}

struct EnrolmentRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "enrolments"
    var id: Int64?
    var sequenceId: String
    var phone: String
    var name: String?
    var deviceId: String
    /// JSON object of string values.
    var attributes: String
    var enrolledAt: Date
    var currentStep: Int
    var state: String
    var stopReason: String?
    var handedOverFrom: Int64?
    var updatedAt: Date

    init(sequenceId: String, contact: Contact, enrolledAt: Date, handedOverFrom: Int64? = nil) {
        self.sequenceId = sequenceId
        phone = contact.phone
        name = contact.name
        deviceId = contact.deviceId
        attributes = Self.encode(contact.attributes)
        self.enrolledAt = enrolledAt
        currentStep = 0
        state = EnrolmentState.active.rawValue
        self.handedOverFrom = handedOverFrom
        updatedAt = enrolledAt
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var contact: Contact {
        get throws(SequenceStoreError) {
            guard let decoded = try? JSONDecoder().decode([String: String].self, from: Data(attributes.utf8)) else {
                throw .corrupt("attributes of enrolment \(id ?? -1)")
            }
            return Contact(phone: phone, name: name, deviceId: deviceId, attributes: decoded)
        }
    }

    func enrolment() throws(SequenceStoreError) -> Enrolment {
        guard let id, let state = EnrolmentState(rawValue: state) else { throw .corrupt("enrolment \(id ?? -1)") }
        return Enrolment(
            id: id, sequenceId: sequenceId, contact: try contact, enrolledAt: enrolledAt,
            currentStep: currentStep, state: state, updatedAt: updatedAt)
    }

    static func encode(_ attributes: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(attributes)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
