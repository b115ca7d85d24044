import Foundation

/// Where a contact is in a sequence.
public enum EnrolmentState: String, Sendable, Codable, CaseIterable {
    /// Steps remain (or the hand-over is still to happen).
    case active
    /// Every step was published and there was nothing to hand over to.
    case completed
    /// Ended early by a reply or opt-out.
    case stopped
    /// Every step was published and the contact moved on to the hand-over sequence.
    case handedOver = "handed_over"
}

/// A contact to enrol: one row of a contacts file.
public struct Contact: Equatable, Sendable {
    /// E.164, already normalised.
    public var phone: String
    public var name: String?
    public var deviceId: String
    /// Template variables (custom fields), copied to every message.
    public var attributes: [String: String]

    public init(phone: String, name: String? = nil, deviceId: String, attributes: [String: String] = [:]) {
        self.phone = phone
        self.name = name
        self.deviceId = deviceId
        self.attributes = attributes
    }
}

/// One contact in one sequence.
public struct Enrolment: Equatable, Sendable {
    /// Assigned by the store, never reused; part of every message id of this enrolment.
    public var id: Int64
    public var sequenceId: String
    public var contact: Contact
    public var enrolledAt: Date
    /// Index of the next step to publish; equals the step count once all were published.
    public var currentStep: Int
    public var state: EnrolmentState
    public var updatedAt: Date

    public init(id: Int64, sequenceId: String, contact: Contact, enrolledAt: Date, currentStep: Int, state: EnrolmentState, updatedAt: Date) {
        self.id = id
        self.sequenceId = sequenceId
        self.contact = contact
        self.enrolledAt = enrolledAt
        self.currentStep = currentStep
        self.state = state
        self.updatedAt = updatedAt
    }
}
