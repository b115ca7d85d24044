import Foundation

/// Field readers shared by the record decoders. Every optional reader treats `null` as absent,
/// so required fields that are `null` are reported as missing.
extension JSONScanner {
    mutating func optionalString(_ path: String) throws(RecordError) -> String? {
        try skipNull() ? nil : string(path)
    }

    mutating func optionalBool(_ path: String) throws(RecordError) -> Bool? {
        try skipNull() ? nil : bool(path)
    }

    mutating func optionalDouble(_ path: String) throws(RecordError) -> Double? {
        try skipNull() ? nil : double(path)
    }

    mutating func optionalInt64(_ path: String) throws(RecordError) -> Int64? {
        try skipNull() ? nil : int64(path)
    }

    mutating func optionalInt32(_ path: String) throws(RecordError) -> Int32? {
        guard let value = try optionalInt64(path) else { return nil }
        guard let narrow = Int32(exactly: value) else {
            throw RecordError.invalidValue(field: path, reason: "\(value) does not fit a 32-bit integer")
        }
        return narrow
    }

    mutating func optionalEnum<E: RawRepresentable & CaseIterable>(_ path: String, _: E.Type) throws(RecordError) -> E?
    where E.RawValue == String {
        guard let raw = try optionalString(path) else { return nil }
        guard let value = E(rawValue: raw) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw RecordError.invalidValue(field: path, reason: "\"\(raw)\" is not one of \(allowed)")
        }
        return value
    }

    mutating func optionalDate(_ path: String) throws(RecordError) -> Date? {
        guard let text = try optionalString(path) else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw RecordError.invalidValue(
                field: path, reason: "\"\(text)\" is not an RFC 3339 timestamp like 2026-11-28T10:00:00Z")
        }
        return date
    }

    /// Reads an object whose members are all strings.
    mutating func optionalStringMap(_ path: String) throws(RecordError) -> [String: String]? {
        if try skipNull() { return nil }
        try beginObject(path)
        var map: [String: String] = [:]
        var first = true
        while let key = try nextKey(&first) {
            map[key] = try string(path + "." + key)
        }
        return map
    }

    /// Reads an array of objects; `read` gets the element's path (`path[i]`) and the scanner past its `{`.
    mutating func optionalArray<T>(
        _ path: String, _ read: (inout JSONScanner, String) throws(RecordError) -> T
    ) throws(RecordError) -> [T]? {
        if try skipNull() { return nil }
        try beginArray(path)
        var items: [T] = []
        var first = true
        while try nextElement(&first) {
            let itemPath = "\(path)[\(items.count)]"
            try beginObject(itemPath)
            items.append(try read(&self, itemPath))
        }
        return items
    }

    /// Reads a nested object, handing each member name to `member`, which must consume the value.
    mutating func optionalObject<T>(
        _ path: String, _ read: (inout JSONScanner) throws(RecordError) -> T
    ) throws(RecordError) -> T? {
        if try skipNull() { return nil }
        try beginObject(path)
        return try read(&self)
    }
}

/// Helpers for turning collected fields into a record.
enum RecordDecoding {
    static func required<T>(_ value: T?, _ field: String) throws(RecordError) -> T {
        guard let value else { throw RecordError.missingField(field) }
        return value
    }

    /// Runs `read` over the bytes. When it fails, bad syntax anywhere in the input is reported
    /// first, then a foreign `schema` (other fields mean nothing under another contract).
    static func decode<T>(
        _ bytes: UnsafeRawBufferPointer, schema expected: String,
        _ read: (inout JSONScanner) throws(RecordError) -> T
    ) throws(RecordError) -> T {
        do {
            var scanner = JSONScanner(bytes)
            let value = try read(&scanner)
            try scanner.end()
            return value
        } catch {
            if case .malformed = error { throw error }
            // Error path only: a second pass over the input.
            var syntax = JSONScanner(bytes)
            try syntax.skipValue()
            try syntax.end()
            switch error {
            case .missingField, .wrongType, .invalidValue:
                let found = JSONScanner.topLevelString("schema", in: bytes)
                if found != expected { throw .unsupportedSchema(found: found, expected: expected) }
                throw error
            case .malformed, .unsupportedSchema, .invalid:
                throw error
            }
        }
    }

    static func decode<T>(
        _ bytes: [UInt8], schema: String, _ read: (inout JSONScanner) throws(RecordError) -> T
    ) throws(RecordError) -> T {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(RecordError) in try decode(raw, schema: schema, read) }
        }.get()
    }

    static func decode<T>(
        _ data: Data, schema: String, _ read: (inout JSONScanner) throws(RecordError) -> T
    ) throws(RecordError) -> T {
        try data.withUnsafeBytes { raw in
            Result { () throws(RecordError) in try decode(raw, schema: schema, read) }
        }.get()
    }
}
