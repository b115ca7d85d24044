import BroadcastModel
import Foundation

/// Rates measured in one run, so that ratios compare like with like.
struct Stopwatch {
    private let start = ContinuousClock.now

    var elapsedSeconds: Double { (ContinuousClock.now - start).seconds }
}

/// Runs an external command and returns its wall time; throws when it fails.
func runTimed(_ executable: String, _ arguments: [String], stdin: URL? = nil) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
    let clock = Stopwatch()
    try process.run()
    let errorOutput = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let elapsed = clock.elapsedSeconds
    guard process.terminationStatus == 0 else {
        throw BenchmarkError.commandFailed("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errorOutput.suffix(500), as: UTF8.self))")
    }
    return elapsed
}

/// Finds an executable on PATH.
func which(_ name: String) -> String? {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

public enum BenchmarkError: Error, CustomStringConvertible {
    case commandFailed(String)
    case missingTool(String)
    case incomplete(String)

    public var description: String {
        switch self {
        case .commandFailed(let text): return "benchmark command failed: \(text)"
        case .missingTool(let text): return "benchmark needs \(text)"
        case .incomplete(let text): return "benchmark incomplete: \(text)"
        }
    }
}

/// Rounds a rate for printing.
func rounded(_ value: Double, places: Int = 3) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
