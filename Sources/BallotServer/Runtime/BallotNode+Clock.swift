import BallotCore
import NIOCore

/// Logical time: tick k is due at `origin + k·tick` on the monotonic clock. A timer on the node's
/// event loop delivers the ticks; after a stall (a paused process) the missed ones are delivered
/// at once, so timeouts stay honest, and every other input first tops up the ticks due by then.
extension BallotNode {
    /// Marks the instant logical time starts. ``runClock()`` calls it; tests may call it directly.
    public func startClock(at instant: ContinuousClock.Instant) {
        origin = instant
        clockStarted = true
    }

    /// Delivers `count` logical ticks (more than one after the process was held up).
    public func tick(count: UInt64) {
        for _ in 0..<count where halted == nil {
            deliveredTicks += 1
            // A tick that changes nothing (most of them) changes nothing the recorder tracks either:
            // role, term, leader, lease and last contact only move with actions or messages.
            let actions = core.tick()
            if !actions.isEmpty { execute(actions) }
        }
    }

    /// Delivers every tick due by now that the core has not had yet, and returns how many ticks it
    /// has had in all. Runs before every other input, so the core never handles a message with a
    /// stale clock: a voter that was paused (or starved of CPU) and read a queued heartbeat before
    /// its missed ticks would promise stickiness only until a tick already in the past — shorter
    /// than the lease the leader counts on (found by the fault suite's analysis, reproduced in
    /// BallotSimulationTests' PausedVoterTests).
    @discardableResult
    public func deliverDueTicks() -> UInt64 {
        guard clockStarted else { return deliveredTicks }
        let elapsed = clock.now - origin
        let due = elapsed > .zero ? UInt64((elapsed / tick).rounded(.down)) : 0
        if due > deliveredTicks { tick(count: due - deliveredTicks) }
        return deliveredTicks
    }

    func instant(ofTick tick: UInt64) -> ContinuousClock.Instant {
        origin + self.tick * Int(clamping: tick)
    }

    /// Starts logical time now and delivers ticks as they fall due, until the task is cancelled.
    /// Throws ``StartupError/halted(_:)`` once the node halts (its hard state could not be saved).
    public func runClock() async throws {
        startClock(at: clock.now)
        let stopped = eventLoop.makePromise(of: Void.self)
        clockStopped = stopped
        armTickTimer()
        try await withTaskCancellationHandler {
            try await stopped.futureResult.get()
        } onCancel: {
            eventLoop.execute { self.assumeIsolated { $0.stopClock(nil) } }
        }
    }

    /// Sets the timer for the next tick that may act (``ElectionAlgorithm/ticksUntilTimer``), not
    /// for every tick: an idle follower wakes about once per election timeout instead of every
    /// tick (issue 7's idle cost). The quiet ticks are delivered late, together with that one.
    /// Called after every input, because an input can bring the timer forward (a new leader's first
    /// heartbeat interval, the fast-failover stagger); a timer set too early just fires and re-arms.
    func armTickTimer() {
        guard clockStopped != nil else { return }
        if let halted {
            stopClock(StartupError.halted(halted))
            return
        }
        let target = deliveredTicks + core.ticksUntilTimer
        if tickTimer != nil, tickTimerTarget <= target { return }
        tickTimer?.cancel()
        let delay = max(instant(ofTick: target) - clock.now, .zero)
        tickTimerTarget = target
        tickTimer = eventLoop.scheduleTask(in: .nanoseconds(delay.nanoseconds)) {
            self.assumeIsolated { $0.tickTimerFired() }
        }
    }

    private func tickTimerFired() {
        tickTimer = nil
        deliverDueTicks()
        armTickTimer()
    }

    private func stopClock(_ error: (any Error)?) {
        tickTimer?.cancel()
        tickTimer = nil
        guard let stopped = clockStopped else { return }
        clockStopped = nil
        if let error { stopped.fail(error) } else { stopped.succeed() }
    }
}
