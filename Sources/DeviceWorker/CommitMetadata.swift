import Foundation

/// Encodes which offsets above a committed offset are already done, for Kafka's commit metadata.
///
/// Layout before base64: `"D"`, version `2`, a flags byte, varint(base), then pairs varint(skip),
/// varint(run) walking upward from `base` (skip offsets not known done, then `run` done offsets),
/// then a 4-byte FNV-1a checksum. Version 1 (no flags byte) is still read. Flag `handOver` says the
/// owner wrote this commit as it gave the partition up: nothing it did is missing from it, so the
/// next owner need not wait for more. The base is repeated so metadata that no longer belongs to the
/// committed offset (offsets reset by an operator, another tool's commit) is rejected, and the
/// checksum rejects strings that merely look like base64: wrongly trusted metadata would skip
/// records, which is loss, so anything doubtful is ignored.
public enum CommitMetadata {
    static let magic: UInt8 = 0x44
    static let version: UInt8 = 2
    static let checksumSize = 4
    static let handOverFlag: UInt8 = 0x01

    /// Done intervals (sorted, non-overlapping, each `>= base`) decoded from `metadata`, or nil if
    /// it is empty, malformed, or written for another base offset.
    public static func decode(_ metadata: String, base: Int64) -> [ClosedRange<Int64>]? {
        decodeAll(metadata, base: base)?.intervals
    }

    /// True when `metadata` was written for `base` by an owner giving the partition up
    /// (`OffsetTracker.handOverCommit()`): its commit is complete.
    public static func isHandOver(_ metadata: String, base: Int64) -> Bool {
        decodeAll(metadata, base: base)?.handOver ?? false
    }

    private static func decodeAll(_ metadata: String, base: Int64) -> (intervals: [ClosedRange<Int64>], handOver: Bool)? {
        guard !metadata.isEmpty, let data = Data(base64Encoded: metadata) else { return nil }
        let bytes = [UInt8](data)
        guard bytes.count >= 3 + checksumSize else { return nil }
        let body = bytes[..<(bytes.count - checksumSize)]
        let stored = bytes[(bytes.count - checksumSize)...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard stored == fnv1a(body), body[body.startIndex] == magic else { return nil }
        let written = body[body.startIndex + 1]
        guard written == 1 || (written == version && body.count >= 4) else { return nil }
        let flags = written == 1 ? 0 : body[body.startIndex + 2]
        var reader = VarintReader(bytes: body, position: body.startIndex + (written == 1 ? 2 : 3))
        guard let encodedBase = reader.next(), encodedBase == UInt64(bitPattern: base), base >= 0 else { return nil }
        var intervals: [ClosedRange<Int64>] = []
        var position = base
        while !reader.isAtEnd {
            guard let skip = reader.next(), let run = reader.next(), run >= 1,
                  let start = add(position, skip), let end = add(start, run - 1),
                  let next = add(end, 1)
            else { return nil }
            intervals.append(start...end)
            position = next
        }
        return (intervals, flags & handOverFlag != 0)
    }

    private static func add(_ value: Int64, _ delta: UInt64) -> Int64? {
        guard delta <= UInt64(Int64.max) else { return nil }
        let (sum, overflow) = value.addingReportingOverflow(Int64(delta))
        return overflow ? nil : sum
    }

    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        return hash
    }
}

/// Builds commit metadata incrementally from the lowest done offset up and stops as soon as the
/// next interval would not fit in `byteLimit` (base64 characters), so a truncated result always
/// describes a prefix of the done set: it may forget done offsets (re-processed later) but never
/// claims one that is not done.
struct CommitMetadataWriter {
    private var bytes: [UInt8]
    private var position: Int64
    private var pending: ClosedRange<Int64>?
    private let maxRawBytes: Int
    private let handOver: Bool
    private(set) var isFull = false
    private(set) var intervalCount = 0

    /// - Parameter handOver: mark the commit as its owner's last (see `CommitMetadata`).
    init(base: Int64, byteLimit: Int, handOver: Bool = false) {
        // base64 turns every 3 bytes into 4 characters.
        maxRawBytes = Swift.max(0, byteLimit) / 4 * 3
        self.handOver = handOver
        bytes = [CommitMetadata.magic, CommitMetadata.version, handOver ? CommitMetadata.handOverFlag : 0]
        appendVarint(UInt64(bitPattern: base), to: &bytes)
        position = base
        isFull = bytes.count + CommitMetadata.checksumSize > maxRawBytes
    }

    /// Adds the next done interval (must be above the previous one); adjacent intervals merge.
    /// Returns false once the metadata is full: callers should stop feeding it.
    mutating func append(_ interval: ClosedRange<Int64>) -> Bool {
        guard !isFull else { return false }
        if let current = pending {
            if interval.lowerBound <= current.upperBound &+ 1 {
                pending = current.lowerBound...Swift.max(current.upperBound, interval.upperBound)
                return true
            }
            flush(current)
        }
        pending = interval
        return !isFull
    }

    /// The base64 metadata; empty when no done interval fits and it is no hand-over (nothing
    /// worth remembering).
    mutating func finish() -> String {
        if let current = pending { flush(current) }
        pending = nil
        guard intervalCount > 0 || handOver else { return "" }
        var output = bytes
        let checksum = CommitMetadata.fnv1a(bytes)
        output += [UInt8(checksum >> 24), UInt8(truncatingIfNeeded: checksum >> 16),
                   UInt8(truncatingIfNeeded: checksum >> 8), UInt8(truncatingIfNeeded: checksum)]
        return Data(output).base64EncodedString()
    }

    private mutating func flush(_ interval: ClosedRange<Int64>) {
        pending = nil
        guard !isFull, interval.lowerBound >= position else { return }
        var pair: [UInt8] = []
        appendVarint(UInt64(interval.lowerBound - position), to: &pair)
        appendVarint(UInt64(interval.upperBound - interval.lowerBound + 1), to: &pair)
        guard bytes.count + pair.count + CommitMetadata.checksumSize <= maxRawBytes else {
            isFull = true
            return
        }
        bytes += pair
        position = interval.upperBound + 1
        intervalCount += 1
    }
}

/// LEB128 unsigned varint.
func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    var rest = value
    while rest >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
        rest >>= 7
    }
    bytes.append(UInt8(rest))
}

struct VarintReader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    var isAtEnd: Bool { position >= bytes.endIndex }

    /// Next varint, or nil if truncated or longer than 64 bits.
    mutating func next() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.endIndex {
            let byte = bytes[position]
            position += 1
            guard shift < 64, shift < 63 || byte <= 1 else { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
