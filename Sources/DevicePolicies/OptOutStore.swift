import AntiSpam
import ContactFiles
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

    /// Returns false (and stores nothing) when `phone` is not a phone number.
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

extension OptOutStore {
    /// A store over the opt-out file at `path` (empty without one), read with the rule the publisher
    /// uses (``PhoneListFile``). Strict: a worker refuses to start on a line it cannot read, since
    /// skipping it could message someone who asked to be left alone.
    public static func loading(file path: String?, defaultCountryCode: String? = nil) throws(PhoneListError) -> OptOutStore {
        guard let path else { return OptOutStore() }
        return OptOutStore(file: OptOutList(try PhoneListFile.load(path: path, defaultCountryCode: defaultCountryCode)))
    }
}
