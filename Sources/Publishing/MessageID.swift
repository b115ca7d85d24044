/// Deterministic message ids: `cmp-<campaignId>-<FNV-1a 64 of campaign id and E.164 phone>`.
///
/// The same campaign published twice yields the same ids, so downstream deduplication (the id is
/// the idempotency key) makes a re-run safe. Duplicates are dropped by phone before ids are made,
/// so ids are unique within a campaign up to a 64-bit hash collision.
public enum MessageID {
    public static func make(campaignId: String, phone: String) -> String {
        var hash = StableHash()
        hash.combine(campaignId)
        hash.separate()
        hash.combine(phone)
        return "cmp-\(campaignId)-\(hash.hex)"
    }
}
