import BroadcastModel
import Foundation
import Senders
import Operations
import WorkerRuntime

/// A `SendPolicy` that obeys campaign pause, resume and cancel before asking the wrapped policy.
///
/// - paused: `.hold(until: now + recheckInterval, reason: "campaign_paused")`; the lane asks again
///   at that time, so a resume takes effect within `recheckInterval`.
/// - cancelled: `.skip(reason: "cancelled")`: the message finishes as `skipped`.
/// - resumed or never controlled: the wrapped policy decides.
///
/// Lanes are FIFO per device: a held message keeps its place at the head of its device's lane, so
/// that device's later messages (of other campaigns and sequences too) wait behind it while the
/// campaign is paused. Other devices go on. Cancel (not pause) releases the lane.
///
/// A message the wrapped policy already holds (a cap or quiet hours) is decided again only when
/// that hold ends; a pause or cancel applies to it then.
public struct CampaignControlPolicy: SendPolicy {
    public static let pausedReason = "campaign_paused"

    public let base: any SendPolicy
    public let control: any CampaignControlLookup
    public let recheckInterval: TimeInterval

    public init(wrapping base: any SendPolicy, control: any CampaignControlLookup, recheckInterval: TimeInterval = 2) {
        self.base = base
        self.control = control
        self.recheckInterval = recheckInterval
    }

    public func decide(_ message: BroadcastMessage, attempt: Int, now: Date) -> PolicyDecision {
        guard let campaignId = message.campaignId else { return base.decide(message, attempt: attempt, now: now) }
        switch control.latestAction(for: campaignId) {
        case .pause:
            return .hold(until: now.addingTimeInterval(recheckInterval), reason: Self.pausedReason)
        case .cancel:
            return .skip(reason: StatusEvent.Reason.cancelled)
        case .resume, nil:
            return base.decide(message, attempt: attempt, now: now)
        }
    }

    public func didSend(_ message: BroadcastMessage, at: Date) { base.didSend(message, at: at) }

    public func didFail(_ message: BroadcastMessage, failure: SendFailure, at: Date) -> Date? {
        base.didFail(message, failure: failure, at: at)
    }
}
