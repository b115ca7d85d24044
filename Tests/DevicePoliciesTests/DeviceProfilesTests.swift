import ContactFiles
import AntiSpam
import DevicePolicies
import Foundation
import HTTPSenders
import Testing

@Suite("Device profiles from the devices file")
struct DeviceProfilesTests {
    static let file = """
    defaults: { sender: simulated, timeZone: Asia/Jakarta, locale: id, caps: { daily: 500 } }
    devices:
      - id: dev-kl
        sender: gateway
        baseURL: http://127.0.0.1:9
        instance: sales-1
        apiKeyEnv: GW_KEY
        typingDelayMs: 1200
        timeZone: Asia/Kuala_Lumpur
        locale: ms
        caps: { hourly: 80, daily: 800, warmup: { start: 20, growth: 1.5 } }
        quietHours: { from: "21:00", to: "08:00" }
      - id: dev-plain
    """

    @Test("each device gets its zone, locale, caps, quiet hours and typing delay; others get the defaults")
    func mapsDevices() throws {
        let devices = try DevicesFile.parse(Self.file, environment: ["GW_KEY": "secret"])
        let profiles = try DeviceProfiles(devicesFile: devices)

        let kl = profiles.profile(for: "dev-kl")
        #expect(kl.sendPolicy.timeZone.identifier == "Asia/Kuala_Lumpur")
        #expect(kl.sendPolicy.locale == "ms")
        #expect(kl.sendPolicy.caps == SendCaps(hourly: 80, daily: 800, warmup: Warmup(start: 20, growth: 1.5)))
        #expect(kl.sendPolicy.quietHours == (try QuietHours(from: "21:00", to: "08:00")))
        #expect(kl.typingDelayMilliseconds == 1_200)

        let unlisted = profiles.profile(for: "dev-unknown")
        #expect(unlisted.sendPolicy.timeZone.identifier == "Asia/Jakarta")
        #expect(unlisted.sendPolicy.locale == "id")
        #expect(unlisted.sendPolicy.caps == SendCaps(daily: 500))
        #expect(unlisted.typingDelayMilliseconds == nil)
    }

    @Test("no devices file: UTC, English, no caps, no quiet hours")
    func defaults() {
        let profile = DeviceProfiles().profile(for: "any")
        #expect(profile.sendPolicy == DeviceSendPolicy())
        #expect(profile.sendPolicy.caps == .unlimited)
        #expect(profile.sendPolicy.quietHours == nil)
    }

    @Test("values AntiSpam refuses name the device and the field")
    func refusesBadValues() throws {
        let sameTimes = DeviceConfiguration(
            id: "dev-9", sender: .simulated,
            quietHours: DeviceQuietHours(from: try #require(DeviceClockTime("08:00")), to: try #require(DeviceClockTime("08:00")))
        )
        #expect(throws: DeviceProfileError.self) { try DeviceProfiles.profile(sameTimes) }
        do {
            _ = try DeviceProfiles.profile(sameTimes)
        } catch {
            #expect(error.deviceId == "dev-9")
            #expect(error.field == "quietHours")
            #expect(error.description.contains("device 'dev-9', field 'quietHours'"))
        }

        let badGrowth = DeviceConfiguration(id: "dev-8", sender: .simulated, caps: DeviceCaps(warmup: .init(start: 5, growth: 0.5)))
        do {
            _ = try DeviceProfiles.profile(badGrowth)
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "caps.warmup.growth")
        }
    }
}

@Suite("Opt-out records and file")
struct OptOutRecordTests {
    @Test("a value adds, a tombstone removes, a missing key is ignored")
    func changes() {
        #expect(OptOutRecord.change(key: "+60123456789", value: Array("1".utf8)) == .add("+60123456789"))
        #expect(OptOutRecord.change(key: " +60123456789 ", value: Array("yes".utf8)) == .add("+60123456789"))
        #expect(OptOutRecord.change(key: "+60123456789", value: nil) == .remove("+60123456789"))
        #expect(OptOutRecord.change(key: nil, value: Array("1".utf8)) == nil)
        let add = OptOutRecord.record(topic: "t", phone: "+60123456789", optedOut: true)
        #expect(add.key == Array("+60123456789".utf8) && add.value == Array("1".utf8))
        #expect(OptOutRecord.record(topic: "t", phone: "+60123456789", optedOut: false).value == nil)
    }

    @Test("the file is read with the publisher's phone rule; a line it cannot read refuses the start, by line, masked")
    func strictFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("optout-\(UUID()).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# opted out\n+60 12-345 0001\n60123450002\n+60123456702 # asked by mail\n".write(toFile: path, atomically: true, encoding: .utf8)
        let store = try OptOutStore.loading(file: path)
        #expect(store.contains("+60123450001"))
        #expect(store.contains("+60123450002"))
        #expect(store.contains("+60123456702"))
        #expect(store.count == 3)

        try "+60123456701\n012-345 6789\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try OptOutStore.loading(file: path, defaultCountryCode: "60").contains("+60123456789"))
        do {
            _ = try OptOutStore.loading(file: path)
            Issue.record("a local number without a country must refuse the file")
        } catch {
            #expect(error.description.contains("line 2"))
            #expect(!error.description.contains("012-345 6789"))
        }
        #expect(throws: PhoneListError.self) { try OptOutStore.loading(file: path + ".missing") }
    }
}
