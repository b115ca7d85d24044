extension CSVParser {
    /// Every record of a text already in memory (small files: contact lists, opt-out lists).
    public static func records(in text: String) -> [CSVRecord] {
        var parser = CSVParser()
        var records: [CSVRecord] = []
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { parser.feed(UnsafeBufferPointer($0)) { records.append($0) } }
        parser.finish { records.append($0) }
        return records
    }
}
