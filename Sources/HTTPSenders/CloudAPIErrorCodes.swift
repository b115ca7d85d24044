/// What a WhatsApp Cloud API error code means for the worker. The single place where codes are
/// classified; see Meta's "WhatsApp error codes" reference (Cloud API, Graph API envelope).
///
/// Meta asks integrators to key on `error.code` (not `error_subcode`, deprecated since v16, nor the
/// HTTP status). Codes missing here fall back to the HTTP status in `CloudAPISender`.
public enum CloudAPIErrorClass: Sendable, Equatable {
    /// Wait and try the same message again. `minimumRetryAfterSeconds` is used when the answer
    /// carries no `Retry-After` header.
    case retryable(minimumRetryAfterSeconds: Double?)
    /// This message will not go through; the device may go on with the next one.
    case permanent
    /// Ban-like, quality or account problem: every further send from this device would fail or
    /// hurt the number's standing, so the device pauses until an operator looks.
    case pausesDevice
    /// Configuration or token error (expired token, missing permission, deleted number): the message
    /// is not at fault, so the device is parked and its message held rather than failed.
    case parksDevice
}

public enum CloudAPIErrorCodes {
    public static func classify(_ code: Int) -> CloudAPIErrorClass? {
        if let known = table[code] { return known }
        // 200–299: API permission not granted or removed (token lost the whatsapp_business_messaging scope).
        if (200...299).contains(code) { return .parksDevice }
        // 132xxx: template errors (unknown, paused, wrong parameters): this message cannot go.
        if (132_000...132_999).contains(code) { return .permanent }
        return nil
    }

    /// Short names for codes an operator acts on differently (template problems, opt-outs).
    public static func name(of code: Int) -> String? {
        switch code {
        case 131050: "user_stopped_marketing"
        case 132000: "template_param_count_mismatch"
        case 132001: "template_does_not_exist"
        case 132005: "template_hydrated_text_too_long"
        case 132007: "template_format_policy_violated"
        case 132012: "template_param_format_mismatch"
        case 132015: "template_paused"
        case 132016: "template_disabled"
        case 132068: "template_flow_blocked"
        case 132069: "template_flow_throttled"
        case 132_000...132_999: "template_error"
        default: nil
        }
    }

    /// 131050: the user stopped marketing messages from this business: the phone is opted out.
    public static let userStoppedMarketing = 131050

    static let table: [Int: CloudAPIErrorClass] = [
        // — Throttling: the same message will go through later.
        4: .retryable(minimumRetryAfterSeconds: nil),          // API Too Many Calls: app-level Graph call rate limit
        80007: .retryable(minimumRetryAfterSeconds: nil),      // Rate limit issues: WhatsApp Business Account rate limit
        130429: .retryable(minimumRetryAfterSeconds: nil),     // Rate limit hit: per-number throughput (default 80 msg/s)
        131056: .retryable(minimumRetryAfterSeconds: 6),       // (Business, Consumer) pair rate limit: ~1 msg / 6 s to one recipient
        131057: .retryable(minimumRetryAfterSeconds: 60),      // Account in maintenance mode (e.g. throughput upgrade); clears by itself
        // — Provider trouble: temporary by definition.
        1: .retryable(minimumRetryAfterSeconds: nil),          // API Unknown: invalid request or possible server error
        2: .retryable(minimumRetryAfterSeconds: nil),          // API Service: temporary downtime or overload
        131000: .retryable(minimumRetryAfterSeconds: nil),     // Something went wrong: unknown error, "try again"
        131016: .retryable(minimumRetryAfterSeconds: nil),     // Service unavailable
        // — This message or recipient: drop it, keep the device going.
        100: .permanent,                                       // Invalid parameter (unsupported field, or `to` not a WhatsApp number)
        131008: .permanent,                                    // Required parameter is missing
        131009: .permanent,                                    // Parameter value is not valid
        131021: .permanent,                                    // Recipient cannot be the sender
        131026: .permanent,                                    // Message undeliverable: not on WhatsApp, old client, ToS not accepted
        131047: .permanent,                                    // Re-engagement message: >24 h since the user last wrote; needs a template
        131049: .permanent,                                    // Meta chose not to deliver: per-user marketing limit (ecosystem protection)
        131050: .permanent,                                    // User stopped marketing messages: the worker's policy opts the phone out
        131051: .permanent,                                    // Unsupported message type
        131052: .permanent,                                    // Media download error: the mediaUrl could not be fetched
        131053: .permanent,                                    // Media upload error: unsupported or broken media file
        130472: .permanent,                                    // User's number is part of an experiment
        130497: .permanent,                                    // Business account restricted from messaging users in this country
        // — The device (number / account / token) is unusable or under enforcement: pause it.
        0: .parksDevice,                                      // AuthException: token expired, invalidated or app access removed
        3: .parksDevice,                                      // API Method: capability or permission issue
        10: .parksDevice,                                     // Permission denied
        33: .parksDevice,                                     // Parameter value is not valid: the business phone number was deleted
        190: .parksDevice,                                    // Access token has expired: every send fails until it is replaced
        368: .pausesDevice,                                    // Temporarily blocked for policies violations
        131031: .pausesDevice,                                 // Business account has been locked (policy, or 2-step PIN mismatch)
        131042: .pausesDevice,                                 // Business eligibility / payment issue
        131045: .pausesDevice,                                 // Incorrect certificate: phone number not registered
        131048: .pausesDevice,                                 // Spam rate limit hit: too many messages blocked or flagged as spam
        133010: .pausesDevice,                                 // Phone number not registered on the platform
    ]
}
