extension Duration {
    /// The duration in seconds as a `Double` (timestamps, rates and pacing are kept in seconds).
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
