extension String {
    /// Drops ASCII spaces and tabs at both ends. Returns `self` untouched (no copy) when there are
    /// none, which is nearly every cell; Foundation's `trimmingCharacters` costs far more per row.
    var trimmedASCII: String {
        let bytes = utf8
        guard let first = bytes.first, let last = bytes.last else { return self }
        guard first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 else { return self }
        let start = bytes.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? bytes.endIndex
        let end = bytes.lastIndex { $0 != 0x20 && $0 != 0x09 }.map(bytes.index(after:)) ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
