import Foundation

/// Reads a CSV file record by record in fixed-size pieces, so a file of a million rows never sits
/// in memory whole.
public struct CSVFileReader: ~Copyable {
    public static let chunkSize = 1 << 20

    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private var parser = CSVParser()
    private var pending: [CSVRecord] = []
    private var pendingIndex = 0
    private var buffer: [UInt8]
    private var finished = false

    public init(path: String) throws(CSVError) {
        guard let file = fopen(path, "rb") else {
            throw CSVError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        self.file = file
        self.path = path
        buffer = [UInt8](repeating: 0, count: Self.chunkSize)
    }

    deinit { fclose(file) }

    /// The next record, or nil at the end of the file.
    public mutating func next() throws(CSVError) -> CSVRecord? {
        while pendingIndex == pending.count {
            guard !finished else { return nil }
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            try fill()
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }

    private mutating func fill() throws(CSVError) {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 {
            if ferror(file) != 0 { throw CSVError(path: path, reason: "read failed: \(String(cString: strerror(errno)))") }
            finished = true
            var records: [CSVRecord] = []
            parser.finish { records.append($0) }
            pending = records
            return
        }
        // Work on locals: the closure must not touch `self` while the buffer is borrowed.
        var records = pending
        var parser = self.parser
        self.parser = CSVParser()
        buffer.withUnsafeBufferPointer { bytes in
            parser.feed(UnsafeBufferPointer(rebasing: bytes[0..<count])) { records.append($0) }
        }
        self.parser = parser
        pending = records
    }
}
