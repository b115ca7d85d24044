/// Encodes many messages that share every member but id, device, recipient and attributes (a
/// campaign's messages): the shared members are encoded once, and each message costs only its own
/// fields, written straight into the caller's buffer. The bytes equal ``BroadcastMessage/encoded()``.
public struct MessageBatchEncoder: Sendable {
    private let head: [UInt8]  // {"schema":…,"id":
    private let afterId: [UInt8]  // ,"userId":…,"deviceId":
    private let afterDevice: [UInt8]  // ,"source":…,"recipient":{"phone":
    private let nameKey: [UInt8]  // ,"name":
    private let afterRecipient: [UInt8]  // },"content":…,"createdAt":…
    private let attributesKey: [UInt8]  // ,"attributes":{
    /// Attribute indices in the order ``BroadcastMessage/encoded()`` writes keys (sorted by name).
    private let attributeOrder: [Int]
    /// `"name":` of each attribute, by index.
    private let attributeKeys: [[UInt8]]

    /// `shared` gives every member but id, deviceId, recipient and attributes; `attributeNames`
    /// are the attribute keys messages may carry.
    public init(shared: BroadcastMessage, attributeNames: [String] = []) {
        head = JSONWriter.recordHead(schema: BroadcastMessage.schemaID, firstKey: "id")
        afterId = JSONWriter.fragment { shared.writeOwner(&$0); $0.key("deviceId") }
        afterDevice = JSONWriter.fragment { shared.writeOrigin(&$0); $0.beginObject("recipient"); $0.key("phone") }
        nameKey = JSONWriter.fragment { $0.key("name") }
        afterRecipient = JSONWriter.fragment { $0.endObject(); shared.writeBody(&$0) }
        attributesKey = JSONWriter.fragment { $0.beginObject("attributes") }
        attributeOrder = attributeNames.indices.sorted { attributeNames[$0] < attributeNames[$1] }
        attributeKeys = attributeNames.map { name in
            var key: [UInt8] = []
            JSONWriter.appendString(name, to: &key)
            key.append(UInt8(ascii: ":"))
            return key
        }
    }

    /// Appends one message. `attribute(i)` is the value of attribute `i` of the names given at
    /// init, nil when the message has none; with no values at all the member is left out.
    public func encode(
        id: String, deviceId: String, recipient: BroadcastMessage.Recipient,
        into bytes: inout [UInt8], attribute: (Int) -> String? = { _ in nil }
    ) {
        bytes.append(contentsOf: head)
        JSONWriter.appendString(id, to: &bytes)
        bytes.append(contentsOf: afterId)
        JSONWriter.appendString(deviceId, to: &bytes)
        bytes.append(contentsOf: afterDevice)
        JSONWriter.appendString(recipient.phone, to: &bytes)
        if let name = recipient.name {
            bytes.append(contentsOf: nameKey)
            JSONWriter.appendString(name, to: &bytes)
        }
        bytes.append(contentsOf: afterRecipient)
        var opened = false
        for index in attributeOrder {
            guard let value = attribute(index) else { continue }
            if opened {
                bytes.append(UInt8(ascii: ","))
            } else {
                bytes.append(contentsOf: attributesKey)
                opened = true
            }
            bytes.append(contentsOf: attributeKeys[index])
            JSONWriter.appendString(value, to: &bytes)
        }
        if opened { bytes.append(UInt8(ascii: "}")) }
        bytes.append(UInt8(ascii: "}"))
    }
}

/// Encodes many status events that share every member but message id, device and recipient (a
/// campaign's `queued` events) the same way. The bytes equal ``StatusEvent/encoded()``.
public struct StatusBatchEncoder: Sendable {
    private let head: [UInt8]  // {"schema":…,"messageId":
    private let afterId: [UInt8]  // ,"userId":…,"deviceId":
    private let afterDevice: [UInt8]  // ,"campaignId":…,"recipientPhone":
    private let tail: [UInt8]  // ,"status":…}

    /// `shared` gives every member but messageId, deviceId and recipientPhone.
    public init(shared: StatusEvent) {
        head = JSONWriter.recordHead(schema: StatusEvent.schemaID, firstKey: "messageId")
        afterId = JSONWriter.fragment { shared.writeOwner(&$0); $0.key("deviceId") }
        afterDevice = JSONWriter.fragment { shared.writeOrigin(&$0); $0.key("recipientPhone") }
        tail = JSONWriter.fragment { shared.writeOutcome(&$0) } + [UInt8(ascii: "}")]
    }

    public func encode(messageId: String, deviceId: String, recipientPhone: String, into bytes: inout [UInt8]) {
        bytes.append(contentsOf: head)
        JSONWriter.appendString(messageId, to: &bytes)
        bytes.append(contentsOf: afterId)
        JSONWriter.appendString(deviceId, to: &bytes)
        bytes.append(contentsOf: afterDevice)
        JSONWriter.appendString(recipientPhone, to: &bytes)
        bytes.append(contentsOf: tail)
    }
}
