/// The limits validation applies; the JSON Schemas under `schemas/` state the same numbers.
/// Lengths count Unicode scalars, as JSON Schema's `maxLength` does.
public enum RecordLimits {
    /// Ids: `id`, `userId`, `deviceId`, campaign and sequence ids, `messageId`.
    public static let maxIdLength = 128
    /// WhatsApp's limit on a text body; captions share it.
    public static let maxTextLength = 4096
    public static let maxMediaURLLength = 2048
    public static let maxFileNameLength = 255
    /// A day: a longer gap between two sends of one device is a configuration mistake.
    public static let maxDelaySeconds = 86_400.0
}

/// Collects every broken rule instead of stopping at the first.
struct IssueCollector {
    var issues: [FieldIssue] = []

    mutating func check(_ ok: Bool, _ field: String, _ message: @autoclosure () -> String) {
        if !ok { issues.append(FieldIssue(field: field, message: message())) }
    }

    /// An id: required (when `required`), non-empty, at most ``RecordLimits/maxIdLength``.
    mutating func id(_ value: String?, _ field: String, required: Bool = true, because: String = "") {
        guard let value else {
            check(!required, field, "is required" + because)
            return
        }
        check(!value.isEmpty, field, "must not be empty")
        maxLength(value, RecordLimits.maxIdLength, field)
    }

    mutating func maxLength(_ value: String?, _ limit: Int, _ field: String) {
        // Counting scalars walks the string; a short enough UTF-8 length settles it for free.
        guard let value, value.utf8.count > limit else { return }
        let count = value.unicodeScalars.count
        check(count <= limit, field, "is \(count) characters long; the limit is \(limit)")
    }

    func finish() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues: issues) }
    }
}

/// URL rule: `http://` or `https://` (lower case), a non-empty host part, and no spaces or
/// control characters anywhere — the schema's `pattern` states the same.
enum URLRule {
    static func isHTTP(_ url: String) -> Bool {
        let utf8 = url.utf8
        let rest: Substring.UTF8View
        if utf8.starts(with: "https://".utf8) {
            rest = url.utf8.dropFirst(8)
        } else if utf8.starts(with: "http://".utf8) {
            rest = url.utf8.dropFirst(7)
        } else {
            return false
        }
        guard let first = rest.first, !isSpaceOrControl(first),
              first != UInt8(ascii: "/"), first != UInt8(ascii: "?"), first != UInt8(ascii: "#")
        else { return false }
        return !rest.contains(where: isSpaceOrControl)
    }

    private static func isSpaceOrControl(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == 0x7F
    }
}
