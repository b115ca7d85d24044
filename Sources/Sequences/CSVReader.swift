/// A small RFC 4180 reader: quoted fields (with `""` for a quote, and line breaks inside quotes),
/// LF or CRLF line ends, a leading UTF-8 BOM. Internal: the campaign publisher has its own.
struct CSVReader {
    struct Row: Equatable {
        /// 1-based line of the file where the row starts, for error messages.
        var line: Int
        var fields: [String]
    }

    enum Failure: Error, Equatable, CustomStringConvertible {
        case unterminatedQuote(line: Int)
        case characterAfterQuote(line: Int)

        var description: String {
            switch self {
            case .unterminatedQuote(let line): "line \(line): a quoted field is never closed"
            case .characterAfterQuote(let line): "line \(line): text after a closing quote; double the quote (\"\") to write one inside a field"
            }
        }
    }

    /// Every row, blank lines skipped.
    static func rows(_ text: String) throws(Failure) -> [Row] {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }

        var rows: [Row] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var rowLine = 1
        var inQuotes = false
        var quoteClosed = false  // just after the closing quote of a field
        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endRow() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            // A line with nothing on it is not a row.
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(Row(line: rowLine, fields: fields)) }
            fields = []
        }

        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.append("\"")
                    } else {
                        inQuotes = false
                        quoteClosed = true
                        pending = next
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case ",":
                fields.append(String(field))
                field = String.UnicodeScalarView()
                quoteClosed = false
            case "\r", "\n":
                if c == "\r" {
                    let next = iterator.next()
                    if next != "\n" { pending = next }
                }
                endRow()
                quoteClosed = false
                line += 1
                rowLine = line
            case "\"" where field.isEmpty && !quoteClosed:
                inQuotes = true
            default:
                if quoteClosed { throw .characterAfterQuote(line: line) }
                field.append(c)
            }
        }
        if inQuotes { throw .unterminatedQuote(line: rowLine) }
        if !field.isEmpty || !fields.isEmpty || quoteClosed { endRow() }
        return rows
    }
}
