import BroadcastTesting
import Foundation
import HTTPSenders
import Senders
import Testing

@Suite("SenderRegistry and redaction", .timeLimit(.minutes(1)))
struct SenderRegistryTests {
    @Test("one sender per listed device; unknown devices get the default")
    func senders() async throws {
        let devices = try DevicesFile.parse(DevicesFileTests.example, environment: DevicesFileTests.environment)
        let registry = SenderRegistry(devices: devices, simulated: .instant)
        #expect(registry.sender(for: "dev-001") is CloudAPISender)
        #expect(registry.sender(for: "dev-002") is GatewaySender)
        #expect(registry.sender(for: "dev-999") is SimulatedSender)
        #expect(registry.configuration(for: "dev-001")?.locale == "ms")
        #expect(registry.configuration(for: "dev-999") == nil)
        let receipt = try await registry.sender(for: "dev-999").send(OutgoingMessage(
            messageId: "m", deviceId: "dev-999", recipientPhone: "+60123456778", kind: .text, text: "hi"
        ))
        #expect(receipt.providerMessageId.hasPrefix("sim."))
        await registry.shutdown()
        await registry.shutdown()  // idempotent
    }

    @Test("with an HTTP default, an unlisted device pauses instead of sending")
    func unlistedDeviceWithHTTPDefault() async {
        let registry = SenderRegistry(devices: DevicesFile(), defaultSender: .whatsappCloud)
        do {
            _ = try await registry.sender(for: "dev-x").send(OutgoingMessage(
                messageId: "m", deviceId: "dev-x", recipientPhone: "+60123456778", kind: .text, text: "hi"
            ))
            Issue.record("expected a failure")
        } catch {
            #expect(error.code == "device_not_configured")
            #expect(error.pausesDevice)
        }
        await registry.shutdown()
    }

    @Test("senders of a registry talk to the local server through the shared client")
    func sharedTransport() async throws {
        try await StubHTTPServer.with({ request, _ in
            request.path.hasPrefix("/message/")
                ? .json(201, GatewaySenderTests.success)
                : .json(200, CloudAPISenderTests.success)
        }) { server in
            let yaml = """
                devices:
                  - { id: c1, sender: whatsapp-cloud, phoneNumberId: "42", tokenEnv: T, baseURL: "\(server.baseURL)", apiVersion: v22.0 }
                  - { id: g1, sender: gateway, baseURL: "\(server.baseURL)", instance: inst, apiKeyEnv: K }
                """
            let registry = SenderRegistry(devices: try DevicesFile.parse(yaml, environment: ["T": "tok", "K": "key"]))
            for device in ["c1", "g1"] {
                _ = try await registry.sender(for: device).send(OutgoingMessage(
                    messageId: "m-\(device)", deviceId: device, recipientPhone: "+60123456778", kind: .text, text: "hi"
                ))
            }
            await registry.shutdown()
            #expect(server.requests.map(\.path) == ["/v22.0/42/messages", "/message/sendText/inst"])
            #expect(server.requests[0].header("Authorization") == "Bearer tok")
            #expect(server.requests[1].header("apikey") == "key")
        }
    }

    @Test("phone numbers and secrets are masked")
    func redaction() {
        #expect(Redaction.phone("+60123456778") == "+6012•••••78")
        #expect(Redaction.phone("60123456778") == "6012•••••78")
        #expect(Redaction.phone("+12") == "+••")
        #expect(!Redaction.secret("EAAG-secret-token-value").contains("secret"))
        #expect(Redaction.scrub("token EAAGabc123 for 60123456778", secrets: ["EAAGabc123"], phones: ["+60123456778"])
            == "token •••• for 6012•••••78")
    }
}
