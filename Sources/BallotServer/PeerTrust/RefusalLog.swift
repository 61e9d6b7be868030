import Logging
import Synchronization

/// Logs refused peer connections without letting a flood of them flood the log: at most
/// ``burst`` lines per ``window``, then one line per window that says how many were left out.
///
/// Every refusal is still counted in `ballot_peer_frames_rejected_total`; only the lines are limited.
final class RefusalLog: Sendable {
    static let burst = 10
    static let window = Duration.seconds(10)

    private struct State {
        var windowStart: ContinuousClock.Instant
        var logged = 0
        var suppressed = 0
    }

    private let logger: Logger
    private let state: Mutex<State>

    init(logger: Logger) {
        self.logger = logger
        state = Mutex(State(windowStart: .now))
    }

    /// One refusal: `remote` is the peer's address, `reason` the metric label, `detail` the precise cause.
    func refused(remote: String, peer: String, reason: String, detail: String) {
        let now = ContinuousClock.now
        let (log, suppressedBefore) = state.withLock { state -> (Bool, Int) in
            if now - state.windowStart >= Self.window {
                let suppressed = state.suppressed
                state = State(windowStart: now)
                state.logged = 1
                return (true, suppressed)
            }
            guard state.logged < Self.burst else {
                state.suppressed += 1
                return (false, 0)
            }
            state.logged += 1
            return (true, 0)
        }
        guard log else { return }
        var metadata: Logger.Metadata = ["event": "peer_rejected", "remote": "\(remote)", "peer": "\(peer)", "reason": "\(reason)"]
        if suppressedBefore > 0 { metadata["suppressed_before"] = "\(suppressedBefore)" }
        logger.warning("refused peer connection: \(detail)", metadata: metadata)
    }
}
