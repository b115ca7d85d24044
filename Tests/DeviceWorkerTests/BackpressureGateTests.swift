import Testing
@testable import DeviceWorker

@Suite struct BackpressureGateTests {
    @Test func pausesAndResumesOnceWithHysteresis() throws {
        var gate = try BackpressureGate(high: 100, low: 60)
        var actions: [BackpressureGate.Action?] = []
        for held in [10, 100, 101, 150, 120, 80, 60, 59, 30, 99, 101, 102] {
            actions.append(gate.update(held: held))
        }
        #expect(actions == [nil, nil, .pause, nil, nil, nil, nil, .resume, nil, nil, .pause, nil])
        #expect(gate.isPaused)
    }

    @Test func rejectsInvalidBounds() {
        #expect(throws: BackpressureGateError.invalidBounds(high: 10, low: 20)) {
            try BackpressureGate(high: 10, low: 20)
        }
        #expect(throws: BackpressureGateError.self) { try BackpressureGate(high: 10, low: -1) }
    }
}
