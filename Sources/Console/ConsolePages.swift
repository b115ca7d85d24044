import BroadcastModel
import Foundation
import Operations

/// Server-rendered HTML. A page is a shell (no data, served to anyone) whose script asks for the
/// token once, keeps it in sessionStorage and loads the page's fragment from `/ui/…` with it as a
/// bearer header, again every few seconds. Fragments are rendered here, from the same projection
/// queries as the JSON API, so the page shows exactly what the API answers.
enum ConsolePages {
    enum Page {
        case campaigns, campaign(String), sequence(String), devices, deadLetters

        var title: String {
            switch self {
            case .campaigns: "Campaigns"
            case .campaign(let id): "Campaign \(id)"
            case .sequence(let id): "Sequence \(id)"
            case .devices: "Devices"
            case .deadLetters: "Dead letters"
            }
        }

        var fragment: String {
            switch self {
            case .campaigns: "/ui/campaigns"
            case .campaign(let id): "/ui/campaigns/\(ConsolePages.pathSegment(id))"
            case .sequence(let id): "/ui/sequences/\(ConsolePages.pathSegment(id))"
            case .devices: "/ui/devices"
            case .deadLetters: "/ui/dead-letters"
            }
        }
    }

    static func shell(_ page: Page, refreshMilliseconds: Int) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>broadcast · \(escape(page.title))</title>
        <link rel="stylesheet" href="/assets/console.css">
        <script src="/assets/console.js" defer></script>
        </head>
        <body data-fragment="\(escape(page.fragment))" data-refresh="\(refreshMilliseconds)">
        <header>
          <a class="brand" href="/">broadcast</a>
          <nav><a href="/">Campaigns</a><a href="/devices">Devices</a><a href="/dead-letters">Dead letters</a><a href="/api/v1/openapi.yaml">API</a></nav>
          <span id="who" class="muted"></span>
          <button id="signout" type="button" hidden>Sign out</button>
        </header>
        <section id="login" hidden>
          <form id="login-form">
            <h1>Sign in</h1>
            <p class="muted">Paste an access token. It stays in this browser tab only (sessionStorage) and is sent as a bearer header.</p>
            <label for="token">Access token</label>
            <input type="password" id="token" name="token" autocomplete="off" spellcheck="false" required>
            <button type="submit" id="login-submit">Open console</button>
            <p class="error" id="login-error" role="alert"></p>
          </form>
        </section>
        <main id="view" aria-live="polite"><p class="muted">Loading…</p></main>
        <p id="notice" role="status" hidden></p>
        <footer><span id="updated" class="muted">not loaded yet</span></footer>
        </body>
        </html>
        """
    }

    // MARK: fragments

    static func campaignList(_ campaigns: [ScopeSummary], sequences: [ScopeSummary], principal: ConsolePrincipal) -> String {
        var html = "<section id=\"campaigns\"><h1>Campaigns</h1>"
        html += scopeTable(campaigns, kind: .campaign, empty: "No campaign in the projection yet: publish one (`broadcast publish campaign` or POST /api/v1/campaigns).")
        html += "<h2>Sequences</h2>"
        html += scopeTable(sequences, kind: .sequence, empty: "No sequence messages yet.")
        return html + "</section>"
    }

    private static func scopeTable(_ scopes: [ScopeSummary], kind: ScopeSummary.Kind, empty: String) -> String {
        guard !scopes.isEmpty else { return "<p class=\"muted\">\(escape(empty))</p>" }
        var html = """
            <table class="scopes"><thead><tr><th>\(kind == .campaign ? "Campaign" : "Sequence")</th><th>User</th><th>State</th>\
            <th class="wide">Progress</th><th class="num">Total</th><th class="num">Sent</th><th class="num">Failed</th>\
            <th class="num">Pending</th><th class="num">Finished/s</th><th class="num">Sent last min</th><th class="num">ETA</th></tr></thead><tbody>
            """
        for scope in scopes {
            let link = "/\(kind.rawValue)s/\(pathSegment(scope.id))"
            html += """
                <tr data-id="\(escape(scope.id))"><td><a href="\(escape(link))">\(escape(scope.id))</a></td><td>\(escape(scope.userId))</td>\
                <td>\(stateBadge(scope))</td><td class="wide">\(progressBar(scope.counts))</td><td class="num">\(scope.counts.total)</td>\
                <td class="num">\(scope.counts.sent)</td><td class="num">\(scope.counts.failed)</td><td class="num">\(scope.counts.pending)</td>\
                <td class="num">\(rate(scope.finishedPerSecond))</td><td class="num">\(scope.sentLastMinute)</td><td class="num">\(eta(scope.etaSeconds))</td></tr>
                """
        }
        return html + "</tbody></table>"
    }

    static func scope(_ detail: ScopeDetail, principal: ConsolePrincipal) -> String {
        let s = detail.summary
        let base = "/api/v1/\(s.kind.rawValue)s/\(pathSegment(s.id))"
        var html = """
            <section class="scope" data-kind="\(s.kind.rawValue)" data-id="\(escape(s.id))" data-state="\(state(of: s))">
            <h1>\(s.kind == .campaign ? "Campaign" : "Sequence") <code>\(escape(s.id))</code> \(stateBadge(s))</h1>
            <p class="muted">user \(escape(s.userId)) · first event \(time(s.firstAt)) · latest \(time(s.lastAt))\
            \(s.control.map { " · \($0.action.rawValue) by \(escape($0.by)) at \(time($0.at))" } ?? "")</p>
            <div class="actions">
            """
        if s.kind == .campaign && principal.role >= .operator {
            for (action, label) in [(CampaignAction.pause, "Pause"), (.resume, "Resume"), (.cancel, "Cancel")] {
                html += "<button type=\"button\" id=\"action-\(action.rawValue)\" data-action=\"\(action.rawValue)\" data-campaign=\"\(escape(s.id))\"\(action == .cancel ? " class=\"danger\"" : "")>\(label)</button>"
            }
        }
        html += """
            <button type="button" data-download="\(escape(base))/report.csv" data-filename="\(escape(ConsoleHandlers.safeFileName(s.id)))-report.csv">Report CSV</button>
            </div>
            <div class="counts" id="scope-counts">\(countTiles(s.counts))</div>
            <div class="bar-wide">\(progressBar(s.counts))</div>
            <p class="rates">finished <strong data-rate="finished">\(rate(s.finishedPerSecond))</strong>/s over the last 5 min · \
            sent in the last minute <strong data-rate="sent-minute">\(s.sentLastMinute)</strong> · ETA <strong>\(eta(s.etaSeconds))</strong></p>
            <h2>Sends over time</h2>
            \(sendChart(detail.sends))
            """
        if s.kind == .sequence || detail.steps.count > 1 || detail.steps.first?.key != "-" {
            html += "<h2>Steps</h2>" + countsTable(detail.steps, keyTitle: "Step")
        }
        html += "<h2>Devices</h2>" + countsTable(detail.devices, keyTitle: "Device")
        return html + "</section>"
    }

    static func devices(_ devices: [DeviceSummary]) -> String {
        var html = "<section id=\"devices\"><h1>Devices</h1>"
        let states = Dictionary(devices.map { ($0.state.rawValue, 1) }, uniquingKeysWith: +)
        html += "<p class=\"muted\">" + ["sending", "paused", "retired", "idle"].map { "\($0): \(states[$0] ?? 0)" }.joined(separator: " · ")
            + " — from the status events workers write and each device's safety state on broadcast.devices (operator decisions, cool-offs, the hour's sends on any worker).</p>"
        guard !devices.isEmpty else { return html + "<p class=\"muted\">No device has messages yet.</p></section>" }
        html += """
            <table><thead><tr><th>Device</th><th>State</th><th class="wide">Progress</th><th class="num">Total</th><th class="num">Sent</th>\
            <th class="num">Failed</th><th class="num">Pending</th><th class="num">Sends, last hour</th><th class="num">Inbound</th><th>Last sent</th><th>Latest</th></tr></thead><tbody>
            """
        for d in devices {
            let latest = [d.lastStatus.rawValue, d.lastReason, d.lastErrorCode].compactMap { $0 }.joined(separator: " · ")
            html += """
                <tr data-device="\(escape(d.deviceId))"><td>\(escape(d.deviceId))</td>\
                <td><span class="badge state-\(d.state.rawValue)" title="\(escape(d.stateReason.map { "\($0) at \(d.stateAt.map(Timestamp.format) ?? "")" } ?? ""))">\(d.state.rawValue)</span></td>\
                <td class="wide">\(progressBar(d.counts))</td><td class="num">\(d.counts.total)</td><td class="num">\(d.counts.sent)</td>\
                <td class="num">\(d.counts.failed)</td><td class="num">\(d.counts.pending)</td>\
                <td class="num">\(d.sendsInLastHour.map(String.init) ?? "–")\(d.stateUnreadable == nil ? "" : " <span class=\"badge state-paused\" title=\"\(escape(d.stateUnreadable ?? ""))\">state unreadable</span>")</td>\
                <td class="num">\(d.inboundMessages)</td><td>\(time(d.lastSentAt))</td>\
                <td>\(escape(latest)) <span class="muted">\(time(d.lastAt))</span></td></tr>
                """
        }
        return html + "</tbody></table></section>"
    }

    static func deadLetters(_ view: ConsoleHandlers.DeadLetterView, principal: ConsolePrincipal) -> String {
        var html = "<section id=\"dead-letters\"><h1>Dead letters</h1><p class=\"muted\">"
        html += view.byReason.isEmpty ? "None." : view.byReason.sorted { $0.key < $1.key }.map { "\(escape($0.key)): \($0.value)" }.joined(separator: " · ")
        html += "</p>"
        guard !view.deadLetters.isEmpty else { return html + "</section>" }
        html += """
            <table><thead><tr><th>At</th><th>Reason</th><th>Error</th><th>Message</th><th>Campaign</th><th>Device</th><th>Phone</th>\
            <th>Source</th><th></th></tr></thead><tbody>
            """
        for l in view.deadLetters {
            let source = l.sourceTopic.map { "\($0)[\(l.sourcePartition.map(String.init) ?? "?")]@\(l.sourceOffset.map(String.init) ?? "?")" } ?? ""
            var action = ""
            if let replayedAt = l.replayedAt {
                action = "<span class=\"muted\">replayed \(time(replayedAt))</span>"
            } else if l.isReplayable && principal.role >= .operator {
                action = "<button type=\"button\" data-replay=\"\(l.partition)/\(l.offset)\">Replay</button>"
            }
            html += """
                <tr><td>\(time(l.at))</td><td><span class="badge">\(escape(l.reason))</span></td><td class="error-text">\(escape(l.error ?? ""))</td>\
                <td><code>\(escape(l.messageId ?? "–"))</code></td><td>\(escape(l.campaignId ?? l.sequenceId ?? ""))</td>\
                <td>\(escape(l.deviceId ?? ""))</td><td>\(escape(l.recipientPhone ?? ""))</td><td class="muted">\(escape(source))</td><td>\(action)</td></tr>
                """
        }
        return html + "</tbody></table></section>"
    }

    // MARK: pieces

    static func state(of scope: ScopeSummary) -> String {
        switch scope.control?.action {
        case .pause: "paused"
        case .cancel: "cancelled"
        case .resume, nil: scope.counts.pending == 0 ? "finished" : "running"
        }
    }

    static func stateBadge(_ scope: ScopeSummary) -> String {
        let state = state(of: scope)
        return "<span class=\"badge state-\(state)\" data-state=\"\(state)\">\(state)</span>"
    }

    static func countTiles(_ counts: StatusCounts) -> String {
        var html = "<div class=\"count total\"><span class=\"label\">total</span><span class=\"value\" data-count=\"total\">\(counts.total)</span></div>"
        for status in MessageStatus.allCases {
            html += "<div class=\"count status-\(status.rawValue)\"><span class=\"label\">\(status.rawValue.replacingOccurrences(of: "_", with: " "))</span>"
                + "<span class=\"value\" data-count=\"\(status.rawValue)\">\(counts[status])</span></div>"
        }
        return html
    }

    /// A stacked bar: sent, other final states, then pending. SVG attributes rather than inline
    /// styles, so the strict Content-Security-Policy holds.
    static func progressBar(_ counts: StatusCounts) -> String {
        let total = max(1, counts.total)
        let parts: [(String, Int)] = [
            ("sent", counts.sent), ("failed", counts.failed + counts.deadLettered), ("skipped", counts.skipped + counts.expired),
            ("pending", counts.pending),
        ]
        var x = 0.0
        var rects = ""
        for (name, count) in parts where count > 0 {
            let width = Double(count) / Double(total) * 1000
            rects += "<rect class=\"seg-\(name)\" x=\"\(format(x))\" y=\"0\" width=\"\(format(width))\" height=\"12\"><title>\(name): \(count)</title></rect>"
            x += width
        }
        let percent = Int((counts.progress * 100).rounded(.down))
        return "<svg class=\"bar\" viewBox=\"0 0 1000 12\" preserveAspectRatio=\"none\" width=\"100%\" height=\"12\" role=\"img\" aria-label=\"\(percent)% finished\">"
            + "<rect class=\"seg-track\" x=\"0\" y=\"0\" width=\"1000\" height=\"12\"/>\(rects)</svg>"
    }

    static func sendChart(_ series: SendSeries) -> String {
        guard !series.points.isEmpty else { return "<p class=\"muted\" id=\"send-chart\">Nothing sent yet.</p>" }
        let width = 800.0, height = 160.0, left = 40.0, bottom = 20.0
        let peak = max(1, series.points.map(\.sent).max() ?? 1)
        let barWidth = (width - left) / Double(series.points.count)
        var bars = ""
        for (index, point) in series.points.enumerated() {
            let h = Double(point.sent) / Double(peak) * (height - bottom - 10)
            let x = left + Double(index) * barWidth
            bars += "<rect class=\"chart-bar\" x=\"\(format(x + barWidth * 0.1))\" y=\"\(format(height - bottom - h))\" width=\"\(format(max(1, barWidth * 0.8)))\" height=\"\(format(h))\">"
                + "<title>\(time(point.at)): \(point.sent) sent</title></rect>"
        }
        let total = series.points.reduce(0) { $0 + $1.sent }
        return """
            <svg id="send-chart" class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" \
            aria-label="\(total) messages sent, in \(series.bucketSeconds)-second buckets" data-total-sent="\(total)">\
            <line class="axis" x1="\(left)" y1="\(height - bottom)" x2="\(width)" y2="\(height - bottom)"/>\
            <text class="tick" x="\(left - 4)" y="14" text-anchor="end">\(peak)</text>\
            <text class="tick" x="\(left - 4)" y="\(height - bottom)" text-anchor="end">0</text>\
            \(bars)\
            <text class="tick" x="\(left)" y="\(height - 4)">\(clock(series.points.first?.at))</text>\
            <text class="tick" x="\(width)" y="\(height - 4)" text-anchor="end">\(clock(series.points.last?.at)) · \(series.bucketSeconds) s per bar</text>\
            </svg>
            """
    }

    static func countsTable(_ rows: [KeyedCounts], keyTitle: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">None.</p>" }
        var html = "<table><thead><tr><th>\(keyTitle)</th><th class=\"wide\">Progress</th><th class=\"num\">total</th>"
        for status in MessageStatus.allCases { html += "<th class=\"num\">\(status.rawValue.replacingOccurrences(of: "_", with: " "))</th>" }
        html += "</tr></thead><tbody>"
        for row in rows {
            html += "<tr><td>\(escape(row.key))</td><td class=\"wide\">\(progressBar(row.counts))</td><td class=\"num\">\(row.counts.total)</td>"
            for status in MessageStatus.allCases { html += "<td class=\"num\">\(row.counts[status])</td>" }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    static func rate(_ value: Double) -> String { String(format: value >= 10 ? "%.0f" : "%.2f", value) }

    static func eta(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        if seconds == 0 { return "done" }
        if seconds < 90 { return "\(Int(seconds.rounded())) s" }
        if seconds < 5400 { return "\(Int((seconds / 60).rounded())) min" }
        return String(format: "%.1f h", seconds / 3600)
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        return "<time datetime=\"\(Timestamp.format(date))\">\(Timestamp.format(date))</time>"
    }

    /// `HH:MM:SS` UTC, for chart labels (SVG text holds no HTML).
    static func clock(_ date: Date?) -> String {
        guard let date else { return "" }
        let text = Timestamp.format(date)
        guard text.count >= 19 else { return text }
        return String(text.dropFirst(11).prefix(8)) + " UTC"
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Ids are letters, digits, `.`, `_`, `-` by contract; anything else is percent-encoded.
    static func pathSegment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-"))) ?? id
    }
}
