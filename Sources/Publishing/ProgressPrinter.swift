import Foundation
import Synchronization

/// Shows publishing progress on standard error: a redrawn bar on a terminal, a plain line every
/// few seconds otherwise (logs and CI keep readable output).
public final class ProgressPrinter: Sendable {
    public let isTerminal: Bool
    private let interval: Double
    private let state = Mutex<(lastPrint: Double, drewBar: Bool)>((-1, false))

    public init(isTerminal: Bool = isatty(STDERR_FILENO) == 1, plainInterval: Double = 5) {
        self.isTerminal = isTerminal
        interval = plainInterval
    }

    /// Feed progress here (e.g. as the publisher's `progress` callback).
    public func update(_ progress: PublishProgress) {
        let done = progress.settled >= progress.total
        let line: String? = state.withLock { state in
            let minimumGap = isTerminal ? 0.1 : interval
            guard done || state.lastPrint < 0 || progress.elapsedSeconds - state.lastPrint >= minimumGap else { return nil }
            state.lastPrint = progress.elapsedSeconds
            state.drewBar = isTerminal
            return isTerminal ? "\r\u{1B}[2K" + Self.bar(progress) + (done ? "\n" : "") : Self.plain(progress) + "\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    static func bar(_ p: PublishProgress, width: Int = 30) -> String {
        let fraction = p.total == 0 ? 1 : min(1, Double(p.settled) / Double(p.total))
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        return "[\(bar)] \(Int(fraction * 100))% \(p.settled)/\(p.total) recipients · \(rate(p))/s" + failed(p)
    }

    static func plain(_ p: PublishProgress) -> String {
        let percent = p.total == 0 ? 100 : p.settled * 100 / p.total
        return "published \(p.settled)/\(p.total) recipients (\(percent)%), \(rate(p))/s" + failed(p)
    }

    private static func rate(_ p: PublishProgress) -> Int {
        p.elapsedSeconds > 0 ? Int(Double(p.settled) / p.elapsedSeconds) : 0
    }

    private static func failed(_ p: PublishProgress) -> String {
        p.failedRecords > 0 ? ", \(p.failedRecords) records failed" : ""
    }
}
