import CRdKafka
import Logging

/// State that librdkafka's C callbacks reach through the client's opaque pointer.
class ClientContext: @unchecked Sendable {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    static func from(_ rk: OpaquePointer?) -> ClientContext? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// librdkafka's syslog levels mapped to swift-log.
private func logLevel(_ level: Int32) -> Logger.Level {
    switch level {
    case ...3: return .error
    case 4: return .warning
    case 5, 6: return .info
    default: return .debug
    }
}

let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    rk, level, facility, message in
    guard let context = ClientContext.from(rk), let message else { return }
    context.logger.log(
        level: logLevel(level),
        "\(String(cString: message))",
        metadata: ["rdkafka.facility": .string(facility.map { String(cString: $0) } ?? "")]
    )
}

let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, reason, _ in
    guard let context = ClientContext.from(rk) else { return }
    let error = KafkaError(rd_kafka_resp_err_t(rawValue: err), context: "client", detail: reason.map { String(cString: $0) })
    // Most errors here are transient (brokers down, reconnects); librdkafka recovers by itself.
    context.logger.warning("librdkafka reported an error", metadata: ["error": "\(error)"])
}

extension NativeConfiguration {
    /// Installs the callbacks every client shares and points librdkafka's opaque at `context`.
    mutating func install(context: ClientContext) {
        guard let handle else { return }
        rd_kafka_conf_set_opaque(handle, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(handle, logCallback)
        rd_kafka_conf_set_error_cb(handle, errorCallback)
    }
}
