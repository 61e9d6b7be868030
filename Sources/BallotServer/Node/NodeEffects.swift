import BallotClient
import BallotCore
import BallotRuntime
import Logging

/// What the server does with a driver's reports: metrics, log lines, and the outcome of transfers
/// someone waits for. Confined to the node's actor, like the driver that calls it.
final class NodeEffects: NodeDriverObserver {
    let recorder: MetricsRecorder
    let logger: Logger
    private var transferWaiters: [NodeID: [CheckedContinuation<TransferOutcome, Never>]] = [:]

    /// Whether to print `event=lease_released` lines (`ballot serve --events`).
    let printEvents: Bool

    init(recorder: MetricsRecorder, logger: Logger, printEvents: Bool = false) {
        self.recorder = recorder
        self.logger = logger
        self.printEvents = printEvents
    }

    /// Resumes `continuation` when the transfer to `target` ends.
    func awaitTransfer(to target: NodeID, _ continuation: CheckedContinuation<TransferOutcome, Never>) {
        transferWaiters[target, default: []].append(continuation)
    }

    func executed(_ actions: [Action], at instant: MonotonicInstant) {
        recorder.executed(actions, at: instant)
        for action in actions {
            switch action {
            case .transferFinished(let target, let outcome):
                for waiter in transferWaiters.removeValue(forKey: target) ?? [] { waiter.resume(returning: outcome) }
            case .roleChanged(let role, let term):
                logger.info("role changed", metadata: ["event": "role_changed", "role": "\(role)", "term": "\(term)"])
            case .steppedDown(let reason):
                logger.notice("stepped down", metadata: ["event": "stepped_down", "reason": "\(reason.rawValue)"])
            case .transferStarted(let target, let reason):
                logger.notice("handing leadership over", metadata: [
                    "event": "transfer_started", "to": "\(target)", "reason": "\(reason.rawValue)",
                ])
            case .persist, .send, .leaderChanged, .campaignStarted, .campaignFinished:
                break
            }
        }
    }

    func leaseReleased(term: Term, at instant: MonotonicInstant) {
        recorder.leaseReleased()
        logger.info("lease released: every holder stopped", metadata: ["event": "lease_released", "term": "\(term)"])
        if printEvents { EventLine.write(leaseReleasedLine(node: recorder.view.node, term: term, printedAt: instant)) }
    }

    func heartbeatAcknowledged(by peer: NodeID, after roundTrip: Duration) {
        recorder.heartbeatAcknowledged(by: peer, after: roundTrip)
    }

    func heartbeatFailed(to peer: NodeID) {
        recorder.heartbeatFailed(to: peer)
    }

    func timerPromiseBroken(_ detail: String, at instant: MonotonicInstant) {
        logger.error("election core broke its timer promise; a tick was delivered late",
                     metadata: ["event": "timer_promise_broken", "detail": "\(detail)"])
    }

    func halted(_ halt: Halt) {
        logger.critical("cannot persist hard state; this node stops taking part in elections",
                        metadata: ["event": "halted", "reason": "\(halt.reason.rawValue)", "error": "\(halt.detail)"])
        // Nobody will see a transfer end on a halted node.
        for (_, waiters) in transferWaiters {
            for waiter in waiters { waiter.resume(returning: .abandoned) }
        }
        transferWaiters.removeAll()
    }
}
