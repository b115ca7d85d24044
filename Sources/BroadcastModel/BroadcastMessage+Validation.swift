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
        try c.finish()
    }
}
