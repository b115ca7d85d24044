import Foundation

/// A dedicated OS thread for librdkafka's blocking calls, so they never occupy Swift's cooperative pool.
public final class ServiceThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let thread: Thread

    /// Starts `body` at once on a thread of its own.
    public init(name: String, body: @escaping @Sendable () -> Void) {
        let finished = self.finished
        thread = Thread {
            body()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Blocks the calling thread until `body` returned. Call once.
    public func join() {
        finished.wait()
    }

    /// Blocks the calling thread until `body` returned or `limit` passed; returns whether it returned.
    /// Call once, unless it timed out.
    public func join(within limit: Duration) -> Bool {
        finished.wait(timeout: .now() + .milliseconds(Int(limit.milliseconds))) == .success
    }
}

/// Runs a blocking librdkafka call on a Dispatch thread and resumes the caller when it returns.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
    let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            do throws(KafkaError) {
                continuation.resume(returning: .success(try work()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
    }
    return try result.get()
}
