import ContactFiles
import Foundation
/// Where the known columns of a recipients CSV are. `phone` is required; `name` and `device` are
/// optional; every other column becomes a message attribute (a template variable).
struct RecipientColumns: Sendable {
    var count: Int
    var phone: Int
    var name: Int?
    var device: Int?
    /// (column index, attribute name as written in the header)
    var attributes: [(index: Int, name: String)]

    var attributeNames: [String] { attributes.map(\.name) }

    /// Reads the header row; returns every problem with it (each blocks the whole file).
    static func parse(header: CSVRecord) -> Result<RecipientColumns, HeaderProblems> {
        var problems: [String] = []
        if let problem = header.problem { problems.append(problem) }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var seen: [String: Int] = [:]
        var phone: Int?, name: Int?, device: Int?
        var attributes: [(Int, String)] = []
        for (index, raw) in names.enumerated() {
            let folded = raw.lowercased()
            if raw.isEmpty {
                problems.append("column \(index + 1) has no name")
                continue
            }
            if let first = seen[folded] {
                problems.append("column \(index + 1) \"\(raw)\" repeats column \(first + 1)")
                continue
            }
            seen[folded] = index
            switch ContactColumn(header: raw) {
            case .phone? where phone == nil: phone = index
            case .name? where name == nil: name = index
            case .device? where device == nil: device = index
            case .phone?, .name?, .device?:
                problems.append("column \(index + 1) \"\(raw)\" names the \(ContactColumn(header: raw)?.rawValue ?? "") column again")
            case nil: attributes.append((index, raw))
            }
        }
        guard let phone else {
            problems.append("no phone column: name one \"phone\" (or mobile, msisdn, phone_number); found: \(names.joined(separator: ", "))")
            return .failure(HeaderProblems(problems: problems))
        }
        if !problems.isEmpty { return .failure(HeaderProblems(problems: problems)) }
        return .success(RecipientColumns(count: names.count, phone: phone, name: name, device: device, attributes: attributes))
    }

    struct HeaderProblems: Error {
        var problems: [String]
    }
}
