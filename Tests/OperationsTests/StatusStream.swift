import BroadcastModel
import Foundation
@testable import Operations

/// A generated status stream: each message's life with retries, then duplicated events, replays
/// of the same events, and everything shuffled (deterministically) so events arrive out of order.
struct StatusStream {
    var events: [StatusEvent] = []
    /// The status each message must end with.
    var expected: [String: MessageStatus] = [:]
    var expectedMessages: [String: StatusEvent] = [:]

    static let base = Date(timeIntervalSince1970: 1_800_000_000)

    init(messages: Int, seed: UInt64 = 7) {
        var random = SeededRandom(seed: seed)
        let finals: [MessageStatus] = [.sent, .sent, .sent, .failed, .skipped, .expired, .deadLettered]
        for index in 0..<messages {
            let id = "m-\(index)"
            let device = "dev-\(index % 4)"
            let inSequence = index % 3 == 0
            func event(_ status: MessageStatus, _ second: Double, attempt: Int = 0) -> StatusEvent {
                StatusEvent(
                    messageId: id, userId: "u1", deviceId: device,
                    campaignId: inSequence ? nil : "cmp-\(index % 2)",
                    sequenceId: inSequence ? "seq-1" : nil, sequenceStepId: inSequence ? "step-\(index % 2)" : nil,
                    recipientPhone: "+6012345\(String(format: "%04d", index))", status: status, attempt: attempt,
                    at: Self.base.addingTimeInterval(Double(index) + second),
                    providerMessageId: status == .sent ? "wamid.\(index)" : nil)
            }
            var life = [event(.queued, 0), event(.processing, 1, attempt: 1)]
            if index % 5 == 0 {
                life += [event(.retrying, 2, attempt: 1), event(.processing, 3, attempt: 2)]
            }
            let final: MessageStatus?
            if index % 11 == 10 {
                final = nil  // still in flight: latest is processing
            } else {
                final = finals[index % finals.count]
            }
            if let final {
                // Every fourth final shares its millisecond with `processing`: rank must decide.
                let at: Double = index % 4 == 1 ? 3 : 4
                if at == 3 { life.append(event(.processing, 3, attempt: 2)) }
                life.append(event(final, at, attempt: 2))
            }
            expected[id] = final ?? .processing
            expectedMessages[id] = life.last
            events += life
            // Duplicates (a worker re-sent its status after a rebalance) and a replay of the whole life.
            if index % 2 == 0, let last = life.last { events.append(last) }
            if index % 7 == 0 { events += life }
        }
        events.shuffle(using: &random)
    }

    func expectedCounts(where include: (StatusEvent) -> Bool = { _ in true }) -> StatusCounts {
        var counts = StatusCounts()
        for (id, status) in expected where expectedMessages[id].map(include) ?? false { counts[status] += 1 }
        return counts
    }
}

struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
