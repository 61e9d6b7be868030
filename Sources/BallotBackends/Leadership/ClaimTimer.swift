import BallotRuntime
import Logging
import NIOCore

/// Wakes a leading backend at its claim deadline and publishes again, so that the claim ends on
/// time although the coordination service says nothing more (a renewal that never comes back is
/// exactly the case that must end it). Re-armed after every publish.
///
/// Confined to its backend's actor, whose executor is `eventLoop`: the timer's task runs there too.
final class ClaimTimer {
    private let eventLoop: any EventLoop
    private let publisher: LeadershipPublisher
    private let logger: Logger
    private var scheduled: Scheduled<Void>?

    init(eventLoop: any EventLoop, publisher: LeadershipPublisher, logger: Logger) {
        self.eventLoop = eventLoop
        self.publisher = publisher
        self.logger = logger
    }

    /// Arms the timer for the publisher's claim deadline, or leaves it off while there is none.
    func rearm() {
        cancel()
        guard let deadline = publisher.claimDeadline else { return }
        let delay = max(deadline - SystemMonotonicClock.now, .zero)
        scheduled = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.nanosecondsForNIO)) { [self] in
            scheduled = nil
            do {
                try publisher.republish(at: SystemMonotonicClock.now)
                rearm()
            } catch {
                logger.critical("cannot persist the fencing token", metadata: ["error": "\(error)"])
            }
        }
    }

    func cancel() {
        scheduled?.cancel()
        scheduled = nil
    }
}
