import BroadcastModel
import Foundation
import Kafka

/// One record's answer from `POST /api/v1/messages`.
public struct IntakeResult: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        /// Published to the messages topic and acknowledged by Kafka.
        case accepted
        /// Breaks a rule of the record contract (or the token's scope); not published.
        case refused
        /// Valid, but Kafka did not acknowledge it; safe to send again (the id is the idempotency key).
        case failed
    }

    public struct Issue: Sendable, Equatable, Codable {
        public var field: String
        public var reason: String
    }

    /// Position in the request (0 for a single record).
    public var index: Int
    public var id: String?
    public var outcome: Outcome
    public var issues: [Issue]
    public var partition: Int32?
    public var offset: Int64?
}

public struct IntakeResponse: Sendable, Equatable, Codable {
    public var accepted: Int
    public var refused: Int
    public var failed: Int
    public var results: [IntakeResult]
}

/// Why a request body cannot be read as records at all.
struct IntakeBodyError: Error {
    var message: String
}

/// `POST /api/v1/messages`: one `BroadcastMessage` JSON object or an array of them. Each record is
/// checked by exactly the decoder and rules the worker runs (`decodeValidated`), then published to
/// the messages topic keyed by its device id with the schema header, with a `queued` status event
/// keyed by message id, as the campaign publisher does.
struct MessageIntake: Sendable {
    static let maxRecords = 1_000

    let producer: KafkaProducer
    let topics: TopicNames

    /// Splits the body into one JSON value per record (bytes as they came, element by element).
    static func records(in body: [UInt8]) throws(IntakeBodyError) -> [Data] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw IntakeBodyError(message: "the body is not JSON: send one BroadcastMessage object or an array of them")
        }
        let elements: [Any]
        if let array = parsed as? [Any] {
            elements = array
        } else {
            elements = [parsed]
        }
        guard !elements.isEmpty else { throw IntakeBodyError(message: "the array is empty: send at least one record") }
        guard elements.count <= maxRecords else {
            throw IntakeBodyError(message: "\(elements.count) records in one request; the limit is \(maxRecords): split the batch")
        }
        return elements.map { element in
            guard JSONSerialization.isValidJSONObject(element), let data = try? JSONSerialization.data(withJSONObject: element) else {
                // Not an object: let the record decoder say so in its own words.
                return Data("\(element is String ? "\"…\"" : "0")".utf8)
            }
            return data
        }
    }

    /// Validates and publishes; returns one result per record, in request order.
    func submit(_ records: [Data], principal: ConsolePrincipal, now: Date = Date()) async -> IntakeResponse {
        var results: [IntakeResult] = []
        var valid: [(index: Int, message: BroadcastMessage)] = []
        var seenIds: Set<String> = []
        for (index, data) in records.enumerated() {
            do throws(RecordError) {
                let message = try BroadcastMessage.decodeValidated(from: data)
                if !principal.owns(message.userId) {
                    results.append(refused(index, message.id, [.init(field: "userId", reason: "this token may enqueue only messages of user \(principal.userId ?? "")")]))
                } else if !seenIds.insert(message.id).inserted {
                    results.append(refused(index, message.id, [.init(field: "id", reason: "appears twice in this request")]))
                } else {
                    valid.append((index, message))
                    results.append(IntakeResult(index: index, id: message.id, outcome: .accepted, issues: [], partition: nil, offset: nil))
                }
            } catch {
                results.append(refused(index, nil, Self.issues(of: error)))
            }
        }
        if !valid.isEmpty {
            var outgoing: [ProducerRecord] = []
            outgoing.reserveCapacity(valid.count * 2)
            for (_, message) in valid {
                outgoing.append(ProducerRecord(
                    topic: topics.messages, key: Array(message.deviceId.utf8), value: message.encoded(),
                    headers: [KafkaHeader(RecordSchema.messageHeader)]))
                outgoing.append(ProducerRecord(
                    topic: topics.status, key: Array(message.id.utf8), value: StatusEvent(for: message, status: .queued, at: now).encoded(),
                    headers: [KafkaHeader(RecordSchema.statusHeader)]))
            }
            let reports: [Result<DeliveryReport, KafkaError>]
            do {
                reports = try await producer.send(outgoing)
            } catch {
                reports = Array(repeating: .failure(error), count: outgoing.count)
            }
            for (position, item) in valid.enumerated() {
                switch reports[position * 2] {
                case .success(let report):
                    results[item.index].partition = report.partition
                    results[item.index].offset = report.offset
                case .failure(let error):
                    results[item.index].outcome = .failed
                    results[item.index].issues = [.init(field: "", reason: "Kafka did not acknowledge the record: \(error.name): \(error.message)")]
                }
            }
        }
        return IntakeResponse(
            accepted: results.count { $0.outcome == .accepted }, refused: results.count { $0.outcome == .refused },
            failed: results.count { $0.outcome == .failed }, results: results)
    }

    private func refused(_ index: Int, _ id: String?, _ issues: [IntakeResult.Issue]) -> IntakeResult {
        IntakeResult(index: index, id: id, outcome: .refused, issues: issues, partition: nil, offset: nil)
    }

    /// Every broken rule with its field; a decode error names one field (or none for bad JSON).
    static func issues(of error: RecordError) -> [IntakeResult.Issue] {
        switch error {
        case .invalid(let validation):
            return validation.issues.map { .init(field: $0.field, reason: $0.message) }
        case .missingField(let field):
            return [.init(field: field, reason: "required field is missing")]
        case .wrongType(let field, let expected):
            return [.init(field: field, reason: field.isEmpty ? "the record must be a JSON \(expected)" : "expected a JSON \(expected)")]
        case .invalidValue(let field, let reason):
            return [.init(field: field, reason: reason)]
        case .unsupportedSchema:
            return [.init(field: "schema", reason: error.description.replacingOccurrences(of: "schema: ", with: ""))]
        case .malformed:
            return [.init(field: "", reason: error.description)]
        }
    }
}
