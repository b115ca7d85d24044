import BroadcastModel
import Foundation

/// Turns a parsed file into a ``SequenceDefinition``, reporting every broken rule with its field.
public enum SequenceValidator {
    /// Sequence and step ids end up inside message ids (`seq-<sequence>-<enrolment>-<step>`), which
    /// must stay within 128 characters, so both are short and limited to URL-safe characters.
    public static let maxIdLength = 64
    /// About ten years: a larger offset is a typo.
    public static let maxDayOffset = 3650

    static func validate(_ raw: RawSequence) throws(SequenceDefinitionError) -> SequenceDefinition {
        var issues: [FieldIssue] = []
        func fail(_ field: String, _ message: String) { issues.append(FieldIssue(field: field, message: message)) }

        let id = raw.id ?? ""
        if let problem = idProblem(raw.id) { fail("id", problem) }
        if (raw.userId ?? "").isEmpty { fail("userId", "is required: the owner copied to every message") }
        if let handOver = raw.handOver {
            if let problem = idProblem(handOver) { fail("handOver", problem) }
            if handOver == id { fail("handOver", "must name another sequence, not \"\(id)\" itself") }
        }
        if let zone = raw.timeZone, TimeZone(identifier: zone) == nil {
            fail("timeZone", "\"\(zone)\" is not an IANA time zone such as Asia/Kuala_Lumpur")
        }

        let rawSteps = raw.steps ?? []
        if rawSteps.isEmpty { fail("steps", "at least one step is required") }
        var steps: [SequenceStep] = []
        var seenIds: [String: Int] = [:]
        var previousOffset = 0
        for (index, rawStep) in rawSteps.enumerated() {
            let at = "steps[\(index)]"
            let stepId = rawStep.id ?? "step-\(index + 1)"
            if rawStep.id != nil, let problem = idProblem(stepId) { fail("\(at).id", problem) }
            if let first = seenIds[stepId] { fail("\(at).id", "\"\(stepId)\" is already used by steps[\(first)]") }
            seenIds[stepId] = seenIds[stepId] ?? index

            var dayOffset = 0
            if let offset = rawStep.dayOffset {
                dayOffset = offset
                if !(0...maxDayOffset).contains(offset) {
                    fail("\(at).dayOffset", "must be between 0 and \(maxDayOffset), got \(offset)")
                } else if offset < previousOffset {
                    fail("\(at).dayOffset", "is \(offset) but the step before is on day \(previousOffset); steps are listed in send order")
                }
                previousOffset = max(previousOffset, offset)
            } else {
                fail("\(at).dayOffset", "is required: days after the enrolment day (0 = that day)")
            }

            let window = resolveWindow(step: rawStep, top: raw, at: at, fail: fail)
            let delay = resolveDelay(rawStep.delay ?? raw.delay, at: at, fail: fail)
            let content = resolveContent(rawStep.content, at: at, fail: fail)
            if let window, let delay, let content {
                issues += messageIssues(content: content, delay: delay, at: at)
                steps.append(SequenceStep(id: stepId, dayOffset: dayOffset, window: window, content: content, delay: delay))
            }
        }
        guard issues.isEmpty, let userId = raw.userId else { throw .invalid(issues) }
        return SequenceDefinition(id: id, name: raw.name, userId: userId, steps: steps, handOver: raw.handOver)
    }

    /// Nil when `value` is a valid sequence or step id, else what is wrong with it.
    public static func idProblem(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return "is required" }
        guard value.count <= maxIdLength else { return "is \(value.count) characters long; the limit is \(maxIdLength)" }
        let allowed = value.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0))
        }
        guard allowed, value.first != "-", value.first != "." else {
            return "\"\(value)\" may only use letters, digits, '-', '_' and '.', and must start with a letter or digit"
        }
        return nil
    }

    private static func resolveWindow(
        step: RawStep, top: RawSequence, at: String, fail: (String, String) -> Void
    ) -> SendWindow? {
        guard let raw = step.window ?? top.window else {
            fail("\(at).window", "is required (here or at the top level): start and end as HH:MM")
            return nil
        }
        let field = step.window != nil ? "\(at).window" : "window"
        let start = time(raw.start, "\(field).start", fail)
        let end = time(raw.end, "\(field).end", fail)
        let zoneName = raw.timeZone ?? step.timeZone ?? top.timeZone
        guard let zoneName else {
            fail("\(at).timeZone", "is required (on the step, its window or the top level), e.g. Asia/Kuala_Lumpur")
            return nil
        }
        if TimeZone(identifier: zoneName) == nil {
            fail("\(at).timeZone", "\"\(zoneName)\" is not an IANA time zone such as America/New_York")
            return nil
        }
        guard let start, let end else { return nil }
        guard start < end else {
            fail("\(field).end", "\(end) must be after start \(start); windows cannot span midnight")
            return nil
        }
        return SendWindow(start: start, end: end, timeZone: zoneName)
    }

    private static func time(_ text: String?, _ field: String, _ fail: (String, String) -> Void) -> TimeOfDay? {
        guard let text else {
            fail(field, "is required, as HH:MM")
            return nil
        }
        guard let value = TimeOfDay(text) else {
            fail(field, "\"\(text)\" is not a time of day; use HH:MM between 00:00 and 23:59 (quote it in YAML)")
            return nil
        }
        return value
    }

    private static func resolveDelay(_ raw: RawDelay?, at: String, fail: (String, String) -> Void) -> BroadcastMessage.Delay? {
        guard let raw else {
            fail("\(at).delay", "is required (here or at the top level): minSeconds and maxSeconds")
            return nil
        }
        guard let min = raw.minSeconds, let max = raw.maxSeconds else {
            fail("\(at).delay", "needs both minSeconds and maxSeconds")
            return nil
        }
        return BroadcastMessage.Delay(minSeconds: min, maxSeconds: max)
    }

    private static func resolveContent(_ raw: RawContent?, at: String, fail: (String, String) -> Void) -> BroadcastMessage.Content? {
        guard let raw else {
            fail("\(at).content", "is required: type and text (or mediaUrl)")
            return nil
        }
        let typeName = raw.type ?? "text"
        guard let type = BroadcastMessage.Content.Kind(rawValue: typeName) else {
            let kinds = BroadcastMessage.Content.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            fail("\(at).content.type", "\"\(typeName)\" is not one of \(kinds)")
            return nil
        }
        return BroadcastMessage.Content(
            type: type, text: raw.text, mediaUrl: raw.mediaUrl, fileName: raw.fileName,
            greeting: raw.greeting ?? false, variation: raw.variation ?? false, template: raw.template)
    }

    /// Applies the message contract's own content and delay rules, so a defined step never yields
    /// a message the worker would dead-letter.
    private static func messageIssues(content: BroadcastMessage.Content, delay: BroadcastMessage.Delay, at: String) -> [FieldIssue] {
        let probe = BroadcastMessage(
            id: "probe", userId: "probe", deviceId: "probe", source: .sequence, sequenceId: "probe", sequenceStepId: "probe",
            recipient: .init(phone: "+10000000000"), content: content, delay: delay,
            scheduledAt: Date(timeIntervalSince1970: 0), createdAt: Date(timeIntervalSince1970: 0))
        do {
            try probe.validate()
            return []
        } catch {
            return error.issues
                .filter { $0.field.hasPrefix("content") || $0.field.hasPrefix("delay") }
                .map { FieldIssue(field: "\(at).\($0.field)", message: $0.message) }
        }
    }
}
