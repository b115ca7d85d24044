import Foundation
import Kafka
#if canImport(Glibc)
import Glibc
#endif

/// noida-db (PyPI), a Kafka-protocol broker that is not librdkafka's mock: groups, committed offsets
/// and commit metadata as a real broker keeps them, and commits accepted while a group prepares a
/// rebalance. It spins a core while fetches are idle, so a test starts it only for itself and stops it.
final class NoidaBroker: Sendable {
    let bootstrap: String
    /// Worker logs and the broker's own output live here; kept when a test fails.
    let directory: URL
    private let process: Process

    /// The broker binary inside the installed `noida_db` package (not its Python wrapper, which
    /// would leave the binary running when stopped), or nil when noida-db is not installed.
    /// `NOIDA_DB` names another binary.
    static let executable: URL? = {
        if let given = ProcessInfo.processInfo.environment["NOIDA_DB"], !given.isEmpty {
            return FileManager.default.isExecutableFile(atPath: given) ? URL(fileURLWithPath: given) : nil
        }
        let finder = Process()
        finder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        finder.arguments = ["python3", "-c", "import noida_db, pathlib; print(pathlib.Path(noida_db.__file__).with_name('noida-db'))"]
        let output = Pipe()
        finder.standardOutput = output
        finder.standardError = FileHandle.nullDevice
        guard (try? finder.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        finder.waitUntilExit()
        guard finder.terminationStatus == 0,
              let path = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              FileManager.default.fileExists(atPath: path)
        else { return nil }
        // pip may install the binary without its execute bit (the wrapper sets it on first use).
        if !FileManager.default.isExecutableFile(atPath: path) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        return FileManager.default.isExecutableFile(atPath: path) ? URL(fileURLWithPath: path) : nil
    }()

    static let notInstalled = "noida-db is not installed (python3 -m pip install noida-db; scripts/setup installs it), so the hand-over on a second broker implementation is not tested"

    /// Starts the Kafka service alone on a free 127.0.0.1 port and waits until it answers.
    init() throws {
        guard let executable = Self.executable else { throw BrokerError(Self.notInstalled) }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("noida-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try freeLocalPort()
        bootstrap = "127.0.0.1:\(port)"
        process = Process()
        process.executableURL = executable
        process.arguments = [
            "start", "--only", "kafka", "--host", "127.0.0.1", "--kafka-port", "\(port)",
            "--data-dir", directory.appendingPathComponent("data").path,
        ]
        let log = directory.appendingPathComponent("noida.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while !canConnect(port: port) {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw BrokerError("noida-db did not listen on \(bootstrap) within 15 s: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Stops the broker (SIGTERM, then SIGKILL after 5 s) and drops its data; the logs stay. Safe to
    /// call more than once.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("data"))
    }

    /// Creates the broadcast topics; the broker may need a moment after it listens.
    func createTopics(_ names: [String], partitions: Int) async throws {
        let admin = try KafkaAdmin(bootstrapServers: bootstrap)
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                try await admin.createTopics(names.map { NewTopic(name: $0, partitions: partitions) }, timeout: .seconds(5))
                lastError = nil
                break
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        await admin.close()
        guard let lastError else { return }
        throw BrokerError("could not create topics on noida-db at \(bootstrap): \(lastError)")
    }

    deinit { stop() }
}

struct BrokerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A TCP port on 127.0.0.1 that nothing listens on now.
func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BrokerError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BrokerError("bind(127.0.0.1:0) failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw BrokerError("getsockname failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

private func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}
