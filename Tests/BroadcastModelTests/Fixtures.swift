import Foundation
@testable import BroadcastModel

/// Locates `schemas/` from this file, whether the tests run in the main package or in a
/// package that reaches this folder through a symlink.
enum Fixtures {
    static let schemas: URL = {
        let file = URL(fileURLWithPath: #filePath)
        for start in [file.resolvingSymlinksInPath(), file] {
            var dir = start.deletingLastPathComponent()
            while dir.path != "/" && !dir.path.isEmpty {
                let fm = FileManager.default
                if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
                   fm.fileExists(atPath: dir.appendingPathComponent("schemas/examples").path) {
                    return dir.appendingPathComponent("schemas")
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        fatalError("schemas/examples not found above \(#filePath)")
    }()

    static var examples: URL { schemas.appendingPathComponent("examples") }

    /// The example files of a folder (`valid` or `invalid`), sorted by name.
    static func files(_ folder: String) throws -> [URL] {
        let dir = examples.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
            .map { dir.appendingPathComponent($0) }
    }

    /// invalid file name → the field its error must name.
    static func expectedFields() throws -> [String: String] {
        let data = try Data(contentsOf: examples.appendingPathComponent("invalid-fields.json"))
        return try JSONDecoder().decode([String: String].self, from: data)
    }

    static func date(_ text: String) -> Date {
        guard let date = Timestamp.parse(text) else { fatalError("bad test timestamp \(text)") }
        return date
    }

    /// A valid campaign message to start from.
    static func message() -> BroadcastMessage {
        BroadcastMessage(
            id: "cmp-1:+60123456778", userId: "user-1", deviceId: "device-1", source: .campaign,
            campaignId: "cmp-1", recipient: .init(phone: "+60123456778", name: "Aisyah"),
            content: .init(type: .text, text: "Hello {name}"),
            delay: .init(minSeconds: 5, maxSeconds: 20),
            scheduledAt: date("2026-11-28T10:00:00Z"), createdAt: date("2026-11-28T09:00:00.123Z"))
    }
}
