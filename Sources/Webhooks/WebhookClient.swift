import AsyncHTTPClient
import Foundation
import NIOCore

/// Posts webhook bodies signed the way Meta signs them: what `broadcast dev`'s simulated provider
/// and the webhook benchmark use to call a receiver.
public struct WebhookClient: Sendable {
    public let baseURL: String
    private let signature: WebhookSignature
    private let client: HTTPClient

    public init(baseURL: String, appSecret: String, client: HTTPClient = .shared) {
        self.baseURL = baseURL
        signature = WebhookSignature(appSecret: appSecret)
        self.client = client
    }

    /// POSTs `body` to the Cloud API route; returns the HTTP status.
    public func postCloudAPI(_ body: [UInt8]) async throws -> Int {
        var request = HTTPClientRequest(url: baseURL + WebhookReceiver.cloudPath)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: WebhookSignature.headerName, value: signature.header(for: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }
}

/// Cloud API webhook bodies, as Meta sends them (one entry, one change).
public enum CloudAPIWebhookBody {
    public struct Receipt: Sendable {
        public var messageId: String
        public var providerMessageId: String
        public var status: String
        public var recipientDigits: String
        public var timestamp: Int

        public init(messageId: String, providerMessageId: String, status: String, recipientDigits: String, timestamp: Int) {
            self.messageId = messageId
            self.providerMessageId = providerMessageId
            self.status = status
            self.recipientDigits = recipientDigits
            self.timestamp = timestamp
        }
    }

    public static func statuses(_ receipts: [Receipt], phoneNumberId: String) -> [UInt8] {
        var body = #"{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"0","phone_number_id":"\#(phoneNumberId)"},"statuses":["#
        for (index, r) in receipts.enumerated() {
            if index > 0 { body += "," }
            body += #"{"id":\#(json(r.providerMessageId)),"status":\#(json(r.status)),"timestamp":"\#(r.timestamp)","recipient_id":\#(json(r.recipientDigits)),"biz_opaque_callback_data":\#(json(r.messageId)),"pricing":{"billable":true,"pricing_model":"PMP","category":"marketing"}}"#
        }
        body += "]}}]}]}"
        return Array(body.utf8)
    }

    public static func message(from digits: String, text: String, providerMessageId: String, timestamp: Int, phoneNumberId: String) -> [UInt8] {
        Array(#"{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"\#(phoneNumberId)"},"contacts":[{"wa_id":\#(json(digits))}],"messages":[{"from":\#(json(digits)),"id":\#(json(providerMessageId)),"timestamp":"\#(timestamp)","type":"text","text":{"body":\#(json(text))}}]}}]}]}"#.utf8)
    }

    private static func json(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
