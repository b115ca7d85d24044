import Foundation

extension BroadcastMessage {
    /// Checks every rule of the `broadcast.message.v1` contract and reports all that fail.
    public func validate() throws(ValidationError) {
        var c = IssueCollector()
        c.id(id, "id")
        c.id(userId, "userId")
        c.id(deviceId, "deviceId")
        c.id(campaignId, "campaignId", required: source == .campaign, because: " when source is campaign")
        c.id(sequenceId, "sequenceId", required: source == .sequence, because: " when source is sequence")
        c.id(sequenceStepId, "sequenceStepId", required: source == .sequence, because: " when source is sequence")

        c.check(PhoneNumber.isE164(recipient.phone), "recipient.phone",
                "\"\(PhoneNumber.masked(recipient.phone))\" is not E.164: '+' then 7 to 15 digits, the first not 0")

        if content.type == .text {
            c.check(!(content.text ?? "").isEmpty, "content.text", "is required and must not be empty for text messages")
        }
        c.maxLength(content.text, RecordLimits.maxTextLength, "content.text")
        if let url = content.mediaUrl {
            c.check(URLRule.isHTTP(url), "content.mediaUrl", "must be an http:// or https:// URL without spaces")
            c.maxLength(url, RecordLimits.maxMediaURLLength, "content.mediaUrl")
        } else {
            c.check(!content.type.isMedia, "content.mediaUrl", "is required for \(content.type.rawValue) messages")
        }
        c.maxLength(content.fileName, RecordLimits.maxFileNameLength, "content.fileName")
        if content.type == .template {
            if let template = content.template {
                template.validate(&c, path: "content.template")
            } else {
                c.check(false, "content.template", "is required for template messages")
            }
            // The template's text is Meta's, approved as written: nothing may be added to it.
            c.check(content.text == nil, "content.text", "must be absent for template messages (the text is the approved template's)")
            c.check(content.mediaUrl == nil, "content.mediaUrl", "must be absent for template messages; give media as a header parameter")
            c.check(!content.greeting, "content.greeting", "must be false for template messages: an approved template is never greeted")
            c.check(!content.variation, "content.variation", "must be false for template messages: an approved template is never varied")
        } else {
            c.check(content.template == nil, "content.template", "is only allowed when content.type is template")
        }

        let limit = RecordLimits.maxDelaySeconds
        c.check(delay.minSeconds >= 0 && delay.minSeconds <= limit, "delay.minSeconds",
                "must be between 0 and \(Int(limit)) seconds")
        c.check(delay.maxSeconds >= 0 && delay.maxSeconds <= limit, "delay.maxSeconds",
                "must be between 0 and \(Int(limit)) seconds")
        c.check(delay.minSeconds <= delay.maxSeconds, "delay",
                "minSeconds (\(delay.minSeconds)) must not exceed maxSeconds (\(delay.maxSeconds))")

        if let expiresAt {
            c.check(expiresAt > scheduledAt, "expiresAt", "must be after scheduledAt")
        }
        if let reroute {
            let range = Reroute.afterSecondsRange
            c.check(range.contains(reroute.afterSeconds), "reroute.afterSeconds",
                    "must be between \(Int(range.lowerBound)) and \(Int(range.upperBound)) seconds")
            c.check(!reroute.devices.isEmpty && reroute.devices.count <= Reroute.maxDevices, "reroute.devices",
                    "must name 1 to \(Reroute.maxDevices) devices")
            for (index, device) in reroute.devices.enumerated() { c.id(device, "reroute.devices[\(index)]") }
        }
        try c.finish()
    }
}
