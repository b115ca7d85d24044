import Dispatch
import Foundation

/// Resolves once SIGINT or SIGTERM arrives; the default handlers are replaced so the process can shut down cleanly.
enum TerminationSignal {
    static func wait() async -> Int32 {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        return await withCheckedContinuation { continuation in
            let queue = DispatchQueue(label: "signals")
            let resumed = ResumeOnce(continuation)
            let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { resumed.resume(number) }
                source.resume()
                return source
            }
            resumed.keep(sources)
        }
    }
}

/// Resumes a continuation the first time only, and keeps the signal sources alive meanwhile.
private final class ResumeOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<Int32, Never>?
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()

    init(_ continuation: CheckedContinuation<Int32, Never>) { self.continuation = continuation }

    func keep(_ sources: [DispatchSourceSignal]) { lock.withLock { self.sources = sources } }

    func resume(_ signal: Int32) {
        let continuation = lock.withLock {
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume(returning: signal)
    }
}
