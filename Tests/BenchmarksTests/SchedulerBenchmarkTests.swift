import Benchmarks
import Testing

@Suite struct SchedulerBenchmarkTests {
    @Test func benchmarkRunsTheWholeBacklog() {
        let result = SchedulerBenchmark.run(devices: 40, messagesPerDevice: 3)
        #expect(result.dispatches == 120)
        #expect(result.virtualSeconds == 2)
    }
}
