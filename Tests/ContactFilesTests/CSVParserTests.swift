import ContactFiles
import Testing

private func parse(_ text: String, pieceSize: Int? = nil) -> [CSVRecord] {
    var parser = CSVParser()
    var records: [CSVRecord] = []
    let bytes = Array(text.utf8)
    let size = pieceSize ?? max(bytes.count, 1)
    var start = 0
    while start < bytes.count {
        let end = min(start + size, bytes.count)
        bytes[start..<end].withUnsafeBufferPointer { parser.feed($0) { records.append($0) } }
        start = end
    }
    parser.finish { records.append($0) }
    return records
}

@Suite struct CSVParserTests {
    @Test func plainRowsWithLineNumbers() {
        let records = parse("phone,name\n+601,A\n+602,B\n")
        #expect(records.map(\.fields) == [["phone", "name"], ["+601", "A"], ["+602", "B"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    @Test func quotedFieldsWithCommasQuotesAndNewlines() {
        let records = parse("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\r\nlines\",z\r\nlast,row")
        #expect(records.map(\.fields) == [["a", "b"], ["x, y", "say \"hi\""], ["two\r\nlines", "z"], ["last", "row"]])
        // The record after a two-line field starts two lines later.
        #expect(records.map(\.line) == [1, 2, 3, 5])
        #expect(records.allSatisfy { $0.problem == nil })
    }

    @Test func byteOrderMarkAndBareCR() {
        let records = parse("\u{FEFF}phone\r+601\r+602")
        #expect(records.map(\.fields) == [["phone"], ["+601"], ["+602"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    @Test func sameResultWhateverThePieceSize() {
        let text = "\u{FEFF}h1,h2\r\n\"a\"\"b\",\"c\r\nd\"\r\n,\r\n\"é\",ü\n"
        let whole = parse(text)
        for size in 1...5 { #expect(parse(text, pieceSize: size) == whole) }
        #expect(whole.map(\.fields) == [["h1", "h2"], ["a\"b", "c\r\nd"], ["", ""], ["é", "ü"]])
    }

    @Test func aFieldPastTheLimitIsCutAndReportedWhateverThePieceSize() {
        let long = String(repeating: "x", count: CSVParser.maxFieldBytes + 10)
        let text = "a,b\n\"\(long)\n\(long),end"  // the quote never closes
        for size in [7, 4_096, 1 << 20] {
            let records = parse(text, pieceSize: size)
            #expect(records.count == 2)
            #expect(records.last?.fields.first?.utf8.count == CSVParser.maxFieldBytes)
            #expect(records.last?.problem?.contains("longer than") == true)
        }
        let plain = parse("\(long),b\n", pieceSize: 1_000)
        #expect(plain.first?.fields.first?.utf8.count == CSVParser.maxFieldBytes)
        #expect(plain.first?.fields.last == "b")
    }

    @Test func emptyFieldsAndBlankLines() {
        let records = parse("a,,c\n\n,\n")
        #expect(records.map(\.fields) == [["a", "", "c"], [""], ["", ""]])
        #expect(records[1].isBlank && records[2].isBlank)
    }

    @Test func unterminatedQuoteAndTextAfterQuoteAreReported() {
        let records = parse("a,\"b\"x\nc,\"never closed\n")
        #expect(records[0].problem?.contains("after the closing quote") == true)
        #expect(records[1].problem?.contains("never closes") == true)
        #expect(records[1].line == 2)
    }

    @Test func strayQuoteInUnquotedFieldIsKept() {
        #expect(parse("Lim \"JJ\" Chee,1\n")[0].fields == ["Lim \"JJ\" Chee", "1"])
    }

    @Test func invalidUTF8IsReported() {
        var parser = CSVParser()
        var records: [CSVRecord] = []
        [UInt8(ascii: "a"), 0xFF, UInt8(ascii: "\n")].withUnsafeBufferPointer { parser.feed($0) { records.append($0) } }
        #expect(records.first?.problem?.contains("UTF-8") == true)
    }
}
