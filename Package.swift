// swift-tools-version:6.0
import PackageDescription

let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")

let package = Package(
    name: "broadcast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "broadcast", targets: ["broadcast"]),
        .library(name: "Kafka", targets: ["Kafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // HMAC-SHA256 for webhook signatures; 3.x and 4.x share the API (async-http-client resolves 4.x).
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // librdkafka from the system (Debian: librdkafka-dev); never vendored.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        // The Kafka binding: knows nothing of WhatsApp.
        .target(name: "Kafka", dependencies: ["CRdKafka", logging]),
        // Record contracts, codecs and validation; the one phone rule.
        .target(name: "BroadcastModel"),
        // Contact lists as people export them: one CSV reader, one set of header aliases, phone lists.
        .target(name: "ContactFiles", dependencies: ["BroadcastModel"]),
        // Pure worker logic: lanes, pacer, offsets, retries, backpressure.
        .target(
            name: "DeviceWorker",
            dependencies: [.product(name: "DequeModule", package: "swift-collections"), .product(name: "HeapModule", package: "swift-collections")]
        ),
        // Anti-spam as pure functions: rendering, greeting, caps, windows, opt-out, device health.
        .target(name: "AntiSpam", dependencies: ["BroadcastModel"]),
        // The sender protocol and the simulated sender.
        .target(name: "Senders", dependencies: ["BroadcastModel"]),
        // Real senders over HTTP (WhatsApp Cloud API, gateway) and the devices file.
        .target(
            name: "HTTPSenders",
            dependencies: [
                "Senders", "BroadcastModel", logging, yams,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The device worker runtime: the pure core connected to Kafka, timers and senders.
        .target(
            name: "WorkerRuntime",
            dependencies: [
                "Kafka", "BroadcastModel", "DeviceWorker", "Senders", logging,
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Anti-spam applied by the worker: per-device gates, rendering, opt-out sources.
        .target(
            name: "DevicePolicies",
            dependencies: [
                "AntiSpam", "BroadcastModel", "ContactFiles", "HTTPSenders", "Kafka", "Operations", "Senders", "WorkerRuntime", logging,
                // Recipient hashes for the business budget's claims (already built for the webhooks).
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Campaign fan-out.
        .target(name: "Publishing", dependencies: ["Kafka", "BroadcastModel", "ContactFiles", logging, yams]),
        // Drip sequences: the SQLite store and the scheduler.
        .target(
            name: "Sequences",
            dependencies: ["Kafka", "BroadcastModel", "ContactFiles", logging, yams, .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Ops tooling: status board, projection and reports, campaign control, DLQ, metrics and health.
        .target(
            name: "Operations",
            dependencies: [
                "Kafka", "BroadcastModel", "Senders", logging,
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `broadcast console`: the operator's web console and HTTP API over the status projection.
        .target(
            name: "Console",
            dependencies: [
                "Kafka", "BroadcastModel", "Publishing", "Operations", logging, yams,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // `broadcast dev`: the whole flow in one process, checked against the invariants.
        .target(
            name: "DemoRun",
            dependencies: [
                "Kafka", "BroadcastModel", "Publishing", "Sequences", "Senders", "WorkerRuntime", "DevicePolicies", "Operations", "Webhooks", "Console", logging,
            ]
        ),
        // `broadcast webhooks`: the inbound half. Signed Cloud API and gateway webhooks become receipts
        // on broadcast.status and contacts' messages on broadcast.inbound.
        .target(
            name: "Webhooks",
            dependencies: [
                "Kafka", "BroadcastModel", logging,
                .product(name: "Crypto", package: "swift-crypto"),
                // Signed POSTs for `broadcast dev` and `broadcast bench webhooks` (already built for the senders).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `broadcast bench`: every benchmark lives here, none in the modules it measures.
        .target(
            name: "Benchmarks",
            dependencies: [
                "Kafka", "BroadcastModel", "ContactFiles", "DeviceWorker", "WorkerRuntime", "Senders", "Publishing", "Operations", "Webhooks", "Console",
                "DevicePolicies", "HTTPSenders",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"), logging,
            ]
        ),
        // The CLI: wiring only.
        .executableTarget(
            name: "broadcast",
            dependencies: [
                "Kafka", "BroadcastModel", "ContactFiles", "Senders", "HTTPSenders", "WorkerRuntime", "Publishing", "Sequences", "Benchmarks", "DemoRun", "DevicePolicies", "Operations", "Webhooks", "Console",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), logging,
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Helpers for the tests: a real HTTP server on 127.0.0.1 that plays providers, and a cluster harness.
        .target(
            name: "BroadcastTesting",
            dependencies: [
                "Kafka", "BroadcastModel", "Senders", "WorkerRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "BroadcastTesting"]),
        .testTarget(name: "BroadcastModelTests", dependencies: ["BroadcastModel"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks"]),
        .testTarget(name: "ContactFilesTests", dependencies: ["ContactFiles", "BroadcastModel"]),
        .testTarget(name: "DeviceWorkerTests", dependencies: ["DeviceWorker"]),
        .testTarget(name: "AntiSpamTests", dependencies: ["AntiSpam", "BroadcastModel"]),
        .testTarget(
            name: "HTTPSendersTests",
            dependencies: [
                "HTTPSenders", "Senders", "BroadcastModel", "BroadcastTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WorkerRuntimeTests",
            dependencies: [
                "WorkerRuntime", "Kafka", "BroadcastModel", "Senders", "DeviceWorker", "BroadcastTesting",
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .testTarget(
            name: "DevicePoliciesTests",
            dependencies: [
                "DevicePolicies", "ContactFiles", "WorkerRuntime", "HTTPSenders", "AntiSpam", "Kafka", "BroadcastModel", "Senders", "BroadcastTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "ContactFiles", "DevicePolicies", "Kafka", "BroadcastModel", "WorkerRuntime", "Senders",
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "PublishingTests", dependencies: ["Publishing", "ContactFiles", "Kafka", "BroadcastModel", "BroadcastTesting"]),
        .testTarget(name: "SequencesTests", dependencies: ["Sequences", "ContactFiles", "Kafka", "BroadcastModel", "BroadcastTesting"]),
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Console", "Operations", "Publishing", "Kafka", "BroadcastModel", "WorkerRuntime", "Senders", "DevicePolicies", "BroadcastTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WebhooksTests",
            dependencies: [
                "Webhooks", "Kafka", "BroadcastModel", "BroadcastTesting", "Sequences", "DevicePolicies", "WorkerRuntime", "Senders",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
