// swift-tools-version:6.0
import PackageDescription

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
    ],
    targets: [
        // librdkafka from the system (Debian: librdkafka-dev); never vendored.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "Kafka",
            dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "BroadcastModel"),
        .target(name: "DeviceWorker"),
        .target(name: "AntiSpam"),
        .target(name: "Senders", dependencies: ["BroadcastModel"], sources: ["MessageSender.swift", "SimulatedSender.swift"]),
        .target(
            name: "WorkerRuntime",
            dependencies: ["Kafka", "BroadcastModel", "DeviceWorker", "Senders", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Benchmarks",
            dependencies: ["Kafka", "BroadcastModel", "DeviceWorker", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "broadcast",
            dependencies: [
                "Kafka",
                "Benchmarks",
                "BroadcastModel",
                "Senders",
                "WorkerRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["PublishCommand.swift", "SequencesCommand.swift"]
        ),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "BroadcastModelTests", dependencies: ["BroadcastModel"]),
        .testTarget(name: "DeviceWorkerTests", dependencies: ["DeviceWorker"]),
        .testTarget(name: "AntiSpamTests", dependencies: ["AntiSpam"]),
        .testTarget(
            name: "WorkerRuntimeTests",
            dependencies: ["WorkerRuntime", "Kafka", "BroadcastModel", "Senders", "DeviceWorker"]
        ),
    ]
)
