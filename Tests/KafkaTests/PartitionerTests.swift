import Kafka
import Testing

/// Java's `org.apache.kafka.common.utils.Utils.murmur2`, written from the published algorithm: the
/// reference our placement must match, independent of librdkafka.
func javaMurmur2(_ data: [UInt8]) -> Int32 {
    let m: UInt32 = 0x5bd1_e995
    let length = data.count
    var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
    for block in 0..<(length / 4) {
        let i = block * 4
        var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
        k = k &* m
        k ^= k >> 24
        k = k &* m
        h = h &* m
        h ^= k
    }
    let tail = length & ~3
    switch length % 4 {
    case 3:
        h ^= UInt32(data[tail + 2]) << 16
        h ^= UInt32(data[tail + 1]) << 8
        h ^= UInt32(data[tail])
        h = h &* m
    case 2:
        h ^= UInt32(data[tail + 1]) << 8
        h ^= UInt32(data[tail])
        h = h &* m
    case 1:
        h ^= UInt32(data[tail])
        h = h &* m
    default:
        break
    }
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return Int32(bitPattern: h)
}

func javaPartition(_ key: String, partitions: Int32) -> Int32 {
    (javaMurmur2(Array(key.utf8)) & 0x7fff_ffff) % partitions
}

@Suite("Java-compatible placement")
struct PartitionerTests {
    @Test("the reference murmur2 gives Kafka's published test vectors")
    func referenceVectors() {
        // From Kafka's UtilsTest.testMurmur2.
        #expect(javaMurmur2(Array("21".utf8)) == -973_932_308)
        #expect(javaMurmur2(Array("foobar".utf8)) == -790_332_482)
        #expect(javaMurmur2(Array("a-little-bit-long-string".utf8)) == -985_981_536)
        #expect(javaMurmur2(Array("a-little-bit-longer-string".utf8)) == -1_486_304_829)
        #expect(javaMurmur2(Array("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8".utf8)) == -58_897_971)
        #expect(javaMurmur2(Array("abc".utf8)) == 479_470_107)
    }

    @Test("keyed records land on the partition Java's producer would choose", arguments: [12, 7])
    func placement(partitions: Int) async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: partitions)
        let producer = try kafka.producer()
        let keys = (0..<300).map { "device-\($0)" } + ["", "a", "ab", "abc", "+60123456789", "dev-ü-ß-漢字"]
        let results = try await producer.send(keys.map { ProducerRecord(topic: topic, key: $0, value: Array($0.utf8)) })
        for (key, result) in zip(keys, results) {
            let report = try result.get()
            #expect(report.partition == javaPartition(key, partitions: Int32(partitions)), "key '\(key)'")
        }
        await producer.close()
    }
}
