import AntiSpam
import BroadcastModel
import Foundation
import Synchronization

/// The phones that must not be messaged, shared by every send task of a worker.
///
/// Two sources kept apart: the file given at start (fixed) and the opt-out topic (adds and
/// removes). A removal on the topic undoes only the topic's own entry, never a line of the file.
public final class OptOutStore: Sendable {
    private struct State {
        var file: OptOutList
        var live: OptOutList
    }

    private let state: Mutex<State>

    public init(file: OptOutList = OptOutList()) {
        state = Mutex(State(file: file, live: OptOutList()))
    }

    /// Checked before every send: a short lock, no I/O.
    public func contains(_ phone: String) -> Bool {
        state.withLock { $0.file.contains(phone) || $0.live.contains(phone) }
    }

    /// Returns false (and stores nothing) when `phone` is not E.164.
    @discardableResult
    public func add(_ phone: String) -> Bool {
        state.withLock { $0.live.insert(phone) }
    }

    public func remove(_ phone: String) {
        state.withLock { $0.live.remove(phone) }
    }

    /// Phones from both sources (a phone in both counts once).
    public var count: Int {
        state.withLock { $0.file.phones.union($0.live.phones).count }
    }
}

/// Reading an opt-out file failed as a whole (bad lines are warnings, not errors).
public struct OptOutFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String {
        "cannot read opt-out file \(path) (\(reason)); fix the path or leave --opt-out out"
    }
}

public enum OptOutFile {
    /// Lenient: valid lines are kept and bad ones returned as issues, so that one typo does not stop
    /// every device; the caller logs the issues (they may be people who asked to be left alone).
    public static func load(path: String) throws(OptOutFileError) -> (list: OptOutList, issues: [OptOutLineIssue]) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw OptOutFileError(path: path, reason: (error as NSError).localizedDescription)
        }
        return OptOutList.parse(text)
    }
}

extension OptOutLineIssue {
    /// For logs: the line number and a masked form of what was there (it may be a mistyped phone).
    public var maskedDescription: String {
        "line \(line): \"\(BroadcastModel.PhoneNumber.masked(content))\" is not an E.164 phone number (expected + and 7–15 digits)"
    }
}

extension OptOutStore {
    /// A store over the opt-out file at `path` (empty without one), with the file's bad lines
    /// described for logs (masked).
    public static func loading(file path: String?) throws(OptOutFileError) -> (store: OptOutStore, issues: [String]) {
        guard let path else { return (OptOutStore(), []) }
        let loaded = try OptOutFile.load(path: path)
        return (OptOutStore(file: loaded.list), loaded.issues.map(\.maskedDescription))
    }
}
