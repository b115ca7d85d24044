import Testing
@testable import DeviceWorker

@Suite struct RetryPolicyTests {
    @Test func delaysAreBoundedAndGrow() throws {
        var rng = SplitMix64(seed: 42)
        let policy = RetryPolicy()
        var previousUpper = 0.0
        for attempt in 1...4 {
            let ceiling = policy.backoffCeiling(afterAttempt: attempt)
            #expect(ceiling == Double(1 << (attempt - 1)))
            for _ in 0..<200 {
                let delay = try #require(policy.nextDelay(afterAttempt: attempt, retryAfter: nil, using: &rng))
                // Equal jitter: [ceiling/2, ceiling]; each attempt's floor is the previous ceiling.
                #expect(delay >= ceiling / 2 && delay <= ceiling)
                #expect(delay >= previousUpper)
            }
            previousUpper = ceiling
        }
    }

    @Test func delayIsCapped() throws {
        var rng = SplitMix64(seed: 1)
        let policy = RetryPolicy(maxAttempts: 100)
        for attempt in [9, 10, 20, 63, 64, 99] {
            let delay = try #require(policy.nextDelay(afterAttempt: attempt, retryAfter: nil, using: &rng))
            #expect(delay >= 150 && delay <= 300)
        }
    }

    @Test func retryAfterIsAFloor() throws {
        var rng = SplitMix64(seed: 9)
        let policy = RetryPolicy()
        #expect(policy.nextDelay(afterAttempt: 1, retryAfter: 30, using: &rng) == 30)
        #expect(policy.nextDelay(afterAttempt: 1, retryAfter: 900, using: &rng) == 900)
        let small = try #require(policy.nextDelay(afterAttempt: 1, retryAfter: 0.1, using: &rng))
        #expect(small >= 0.5 && small <= 1)
        let nonsense = try #require(policy.nextDelay(afterAttempt: 2, retryAfter: .nan, using: &rng))
        #expect(nonsense >= 1 && nonsense <= 2)
    }

    @Test func givesUpAfterMaxAttempts() {
        var rng = SplitMix64(seed: 4)
        let policy = RetryPolicy()
        #expect(policy.nextDelay(afterAttempt: 4, retryAfter: nil, using: &rng) != nil)
        #expect(policy.nextDelay(afterAttempt: 5, retryAfter: nil, using: &rng) == nil)
        #expect(policy.nextDelay(afterAttempt: 6, retryAfter: 10, using: &rng) == nil)
        #expect(RetryPolicy(maxAttempts: 1).nextDelay(afterAttempt: 1, retryAfter: nil, using: &rng) == nil)
    }
}
