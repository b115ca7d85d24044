import Testing
@testable import DeviceWorker

@Suite struct DevicePacerTests {
    @Test func gapsStayWithinBoundsWithSeededGenerator() {
        var rng = SplitMix64(seed: 7)
        var pacer = DevicePacer(lastSendAt: 0)
        var previous = 0.0
        for _ in 0..<1_000 {
            let at = pacer.earliestSend(minDelay: 2, maxDelay: 5, notBefore: nil, using: &rng)
            let gap = at - previous
            #expect(gap >= 2 && gap <= 5)
            pacer.recordSend(at: at)
            previous = at
        }
    }

    @Test func scheduledAtLaterThanGapWins() {
        var rng = SplitMix64(seed: 3)
        var pacer = DevicePacer(lastSendAt: 0)
        var previous = 0.0
        for index in 0..<500 {
            // Every third message is scheduled far ahead.
            let notBefore: Double? = index % 3 == 0 ? previous + 60 : nil
            let at = pacer.earliestSend(minDelay: 1, maxDelay: 3, notBefore: notBefore, using: &rng)
            let gap = at - previous
            #expect(gap >= 1)
            if let notBefore { #expect(at == notBefore) } else { #expect(gap <= 3) }
            pacer.recordSend(at: at)
            previous = at
        }
    }

    @Test func reEvaluatingDoesNotReRoll() {
        var rng = SplitMix64(seed: 11)
        var pacer = DevicePacer(lastSendAt: 10)
        let first = pacer.earliestSend(minDelay: 1, maxDelay: 100, notBefore: nil, using: &rng)
        for _ in 0..<10 {
            #expect(pacer.earliestSend(minDelay: 1, maxDelay: 100, notBefore: nil, using: &rng) == first)
        }
    }

    @Test func takeoverPacesAsIfJustSent() {
        var rng = SplitMix64(seed: 5)
        var pacer = DevicePacer.takenOver(at: 1_000)
        let at = pacer.earliestSend(minDelay: 4, maxDelay: 6, notBefore: nil, using: &rng)
        #expect(at >= 1_004 && at <= 1_006)

        var fresh = DevicePacer()
        #expect(fresh.earliestSend(minDelay: 4, maxDelay: 6, notBefore: nil, using: &rng) == -.infinity)
        fresh.takeOver(at: 50)
        #expect(fresh.lastSendAt == 50)
    }

    @Test func discardedMessageConsumesNoGap() {
        var rng = SplitMix64(seed: 1)
        var pacer = DevicePacer(lastSendAt: 0)
        #expect(pacer.earliestSend(minDelay: 5, maxDelay: 5, notBefore: nil, using: &rng) == 5)
        pacer.discardDraw() // skipped at t=5 without sending
        #expect(pacer.lastSendAt == 0)
        #expect(pacer.earliestSend(minDelay: 7, maxDelay: 7, notBefore: nil, using: &rng) == 7)
    }

    @Test func invalidBoundsDoNotCrash() {
        var rng = SplitMix64(seed: 2)
        var pacer = DevicePacer(lastSendAt: 0)
        let swapped = pacer.earliestSend(minDelay: 9, maxDelay: 3, notBefore: nil, using: &rng)
        #expect(swapped >= 3 && swapped <= 9)
        pacer.recordSend(at: 0)
        #expect(pacer.earliestSend(minDelay: .nan, maxDelay: .infinity, notBefore: nil, using: &rng) == 0)
    }
}
