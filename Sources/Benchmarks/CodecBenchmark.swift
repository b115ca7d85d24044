import BroadcastModel
import Foundation

/// Throughput of the message codec, as `broadcast bench` reports it.
public struct CodecBenchmarkResult: Codable, Sendable, Equatable {
    public var records: Int
    public var encodePerSecond: Double
    /// ``MessageBatchEncoder`` writing the same record into a reused buffer, as the campaign
    /// publisher does (shared members encoded once).
    public var batchEncodePerSecond: Double
    public var decodePerSecond: Double
    /// `decode` plus `validate`, what a worker does per record.
    public var decodeValidatePerSecond: Double
    /// Foundation's `JSONDecoder` on the same bytes, for comparison (fewer records).
    public var foundationDecodePerSecond: Double
    public var bytesPerRecord: Int
}

/// Encodes and decodes a typical campaign record many times and reports records per second.
public enum CodecBenchmark {
    /// A campaign text of about 200 characters to a named recipient with three attributes.
    public static func sampleMessage(index: Int = 0) -> BroadcastMessage {
        let text = "Hi {name}! Our year-end sale starts this Friday: 30% off every plan for loyal customers "
            + "like you. Reply STOP to opt out, or tap https://example.com/sale to see the offers — see you! 🎉"
        return BroadcastMessage(
            id: "cmp-2026-11-sale:+60123456\(String(format: "%03d", index % 1000))", userId: "user-42",
            deviceId: "device-7", source: .campaign, campaignId: "cmp-2026-11-sale",
            recipient: .init(phone: "+60123456778", name: "Aisyah binti Rahman"),
            content: .init(type: .text, text: text, greeting: true),
            delay: .init(minSeconds: 8, maxSeconds: 25.5),
            scheduledAt: Timestamp.date(milliseconds: 1_795_860_000_000),
            createdAt: Timestamp.date(milliseconds: 1_795_856_400_123),
            attributes: ["city": "Kuala Lumpur", "plan": "Pro", "customerSince": "2021"])
    }

    public static func run(records: Int) -> CodecBenchmarkResult {
        let count = max(records, 1)
        let message = sampleMessage()
        let clock = ContinuousClock()

        var totalBytes = 0
        let encodeTime = clock.measure {
            for _ in 0..<count { totalBytes += message.encoded().count }
        }
        let bytes = message.encoded()

        let attributeNames = ["city", "plan", "customerSince"]
        let batchEncoder = MessageBatchEncoder(shared: message, attributeNames: attributeNames)
        let values = attributeNames.map { message.attributes?[$0] }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(bytes.count * 1_000)
        var batchBytes = 0
        let batchTime = clock.measure {
            for index in 0..<count {
                if index % 1_000 == 0 {
                    batchBytes += buffer.count
                    buffer.removeAll(keepingCapacity: true)
                }
                batchEncoder.encode(id: message.id, deviceId: message.deviceId, recipient: message.recipient, into: &buffer) { values[$0] }
            }
        }
        batchBytes += buffer.count
        precondition(batchBytes == totalBytes, "the batch encoder and the codec disagree on the record")

        // Summing a decoded field keeps the optimiser from dropping the work.
        var check = 0
        let decodeTime = clock.measure {
            for _ in 0..<count { check += (try? BroadcastMessage.decode(from: bytes))?.delay.maxSeconds == 25.5 ? 1 : 0 }
        }
        let validateTime = clock.measure {
            for _ in 0..<count { check += (try? BroadcastMessage.decodeValidated(from: bytes)) == nil ? 0 : 1 }
        }
        let foundationCount = max(count / 4, 1)
        let data = Data(bytes)
        let decoder = JSONDecoder()
        let foundationTime = clock.measure {
            for _ in 0..<foundationCount { check += (try? decoder.decode(BroadcastMessage.self, from: data)) == nil ? 0 : 1 }
        }
        precondition(check == 2 * count + foundationCount, "the benchmark record failed to decode")

        return CodecBenchmarkResult(
            records: count,
            encodePerSecond: rate(count, encodeTime),
            batchEncodePerSecond: rate(count, batchTime),
            decodePerSecond: rate(count, decodeTime),
            decodeValidatePerSecond: rate(count, validateTime),
            foundationDecodePerSecond: rate(foundationCount, foundationTime),
            bytesPerRecord: totalBytes / count)
    }

    private static func rate(_ count: Int, _ duration: Duration) -> Double {
        let seconds = duration.seconds
        return seconds > 0 ? Double(count) / seconds : 0
    }
}
