/// Spreads recipients over devices: pinned rows keep their device, the others go round-robin in
/// file order over the campaign's device list. The same file and options give the same assignment,
/// and unpinned counts per device differ by at most one.
///
/// Round-robin (not hashing) because an even spread is what paces a campaign: every device sends
/// at the same rate, so the busiest device decides when the campaign ends.
struct DeviceAssigner: Sendable {
    let devices: [String]
    private let known: Set<String>
    private var next = 0

    init(devices: [String]) {
        self.devices = devices
        known = Set(devices)
    }

    func isKnown(_ device: String) -> Bool { known.contains(device) }

    /// The device for the next accepted recipient; call only for rows that will be published.
    mutating func assign(pinned: String?) -> String {
        if let pinned { return pinned }
        defer { next = (next + 1) % devices.count }
        return devices[next]
    }
}
