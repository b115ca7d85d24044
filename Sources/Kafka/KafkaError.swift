import CRdKafka

/// A failure reported by librdkafka or by this binding, with the error code's name and text so that
/// an operator can look it up in librdkafka's documentation.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value (negative for client-side errors, positive for broker errors).
    public let code: Int32
    /// The symbolic name, e.g. `_MSG_TIMED_OUT` or `NOT_COORDINATOR`.
    public let name: String
    /// librdkafka's human readable text, or the binding's own explanation.
    public let message: String
    /// What the binding was doing when the error happened.
    public let context: String

    public init(code: Int32, name: String, message: String, context: String) {
        self.code = code
        self.name = name
        self.message = message
        self.context = context
    }

    init(_ err: rd_kafka_resp_err_t, context: String, detail: String? = nil) {
        self.code = err.rawValue
        self.name = String(cString: rd_kafka_err2name(err))
        self.message = detail ?? String(cString: rd_kafka_err2str(err))
        self.context = context
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, context: String) {
        self.code = rd_kafka_error_code(error).rawValue
        self.name = String(cString: rd_kafka_error_name(error))
        self.message = String(cString: rd_kafka_error_string(error))
        self.context = context
        rd_kafka_error_destroy(error)
    }

    /// A configuration problem detected before any client was created.
    static func configuration(_ message: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, name: "_INVALID_ARG", message: message, context: "configuration")
    }

    /// A client that was already closed was used again.
    static func closed(_ context: String) -> KafkaError {
        KafkaError(RD_KAFKA_RESP_ERR__STATE, context: context, detail: "the client is closed")
    }

    var isQueueFull: Bool { code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue }

    public var description: String { "\(context): \(name) (\(code)): \(message)" }
}
