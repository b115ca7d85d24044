import BroadcastModel
import Foundation

/// Renders a snapshot as a plain-text table with progress bars, for terminals.
public enum StatusBoardRenderer {
    public static func render(_ snapshot: StatusSnapshot, width: Int = 24, maxDevices: Int = 30) -> String {
        var lines: [String] = []
        lines.append("broadcast status  \(Timestamp.formatShort(snapshot.generatedAt))  messages: \(snapshot.messages)")
        lines.append("")
        let header = pad("", 28) + pad("progress", width + 8) + counts(nil)
        lines.append(header)
        lines.append(line(for: snapshot.total, label: "TOTAL", width: width))
        if !snapshot.scopes.isEmpty {
            lines.append("")
            for row in snapshot.scopes { lines.append(line(for: row, label: "\(row.kind) \(row.id)", width: width)) }
        }
        if !snapshot.steps.isEmpty {
            lines.append("")
            for row in snapshot.steps { lines.append(line(for: row, label: "  step \(row.id)/\(row.step ?? "-")", width: width)) }
        }
        if !snapshot.devices.isEmpty {
            lines.append("")
            for row in snapshot.devices.prefix(maxDevices) { lines.append(line(for: row, label: "device \(row.id)", width: width)) }
            if snapshot.devices.count > maxDevices {
                lines.append("… \(snapshot.devices.count - maxDevices) more devices (filter with --device)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func line(for row: StatusSnapshot.Row, label: String, width: Int) -> String {
        let bar = progressBar(row.counts.progress, width: width)
        let percent = String(format: "%3.0f%%", row.counts.progress * 100)
        var text = pad(label, 28) + bar + " " + percent + "  " + counts(row.counts)
        if row.counts.pending > 0 {
            text += String(format: "  %.1f/s", row.finishedPerSecond)
            text += "  eta " + (row.etaSeconds.map(formatDuration) ?? "—")
        }
        return text
    }

    static func counts(_ counts: StatusCounts?) -> String {
        let columns: [(String, Int?)] = [
            ("queued", counts?.queued), ("proc", counts?.processing), ("sent", counts?.sent), ("retry", counts?.retrying),
            ("deliv", counts?.delivered), ("read", counts?.read),
            ("failed", counts?.failed), ("skipped", counts?.skipped), ("expired", counts?.expired), ("dlq", counts?.deadLettered),
        ]
        let numbers = columns.map { name, value in pad(value.map(String.init) ?? name, 8, right: true) }.joined()
        // Rates over what the provider accepted: a read message counts as delivered.
        let rates = counts.map { c in
            c.accepted == 0 ? pad("—", 8, right: true) + pad("—", 8, right: true)
                : pad(String(format: "%.0f%%", c.deliveredRate * 100), 8, right: true) + pad(String(format: "%.0f%%", c.readRate * 100), 8, right: true)
        } ?? (pad("deliv%", 8, right: true) + pad("read%", 8, right: true))
        return numbers + rates
    }

    public static func progressBar(_ fraction: Double, width: Int) -> String {
        let clamped = min(1, max(0, fraction))
        let filled = Int((clamped * Double(width)).rounded(.down))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "]"
    }

    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", total / 60 % 60))m"
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let visible = text.count > width ? String(text.prefix(width - 1)) + "…" : text
        let space = String(repeating: " ", count: max(0, width - visible.count))
        return right ? space + visible : visible + space
    }
}

extension Timestamp {
    /// `2026-11-28T10:00:00Z`: seconds are enough on screen.
    static func formatShort(_ date: Date) -> String {
        let full = format(date)
        return String(full.prefix(19)) + "Z"
    }
}
