import Foundation
import Testing
import Benchmarks
import BroadcastModel

@Suite struct CodecBenchmarkTests {
    @Test func sampleIsATypicalValidCampaignRecord() throws {
        let message = CodecBenchmark.sampleMessage()
        try message.validate()
        #expect((180...240).contains(message.content.text?.count ?? 0))
        #expect(message.attributes?.count == 3)
    }

    @Test func runReportsRates() throws {
        let result = CodecBenchmark.run(records: 50)
        #expect(result.records == 50)
        #expect(result.encodePerSecond > 0 && result.decodePerSecond > 0 && result.foundationDecodePerSecond > 0)
        #expect(result.bytesPerRecord == CodecBenchmark.sampleMessage().encoded().count)
        _ = try JSONEncoder().encode(result)
    }
}
