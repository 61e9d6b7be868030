import BallotRuntime
import NIOCore

/// The node's one timer: it wakes the driver when the core says a tick may act, or when the lease
/// deadline comes first (``NodeDriver/nextWake``). An idle follower wakes about once per election
/// timeout instead of every tick; the quiet ticks are delivered late, together (issue 7's idle cost).
extension BallotNode {
    /// Starts logical time now and wakes the driver as its ticks fall due, until the task is
    /// cancelled. Throws ``StartupError/halted(_:)`` once the node halts.
    public func runClock() async throws {
        driver.startClock()
        let stopped = eventLoop.makePromise(of: Void.self)
        clockStopped = stopped
        armWakeTimer()
        try await withTaskCancellationHandler {
            try await stopped.futureResult.get()
        } onCancel: {
            eventLoop.execute { self.assumeIsolated { $0.stopClock(nil) } }
        }
    }

    /// Sets the timer for the driver's next wake-up. Called after every input, because an input can
    /// bring it forward (a new leader's first heartbeat interval, the fast-failover stagger); a
    /// timer set too early just fires and re-arms.
    func armWakeTimer() {
        guard clockStopped != nil else { return }
        if let halt = driver.halt {
            stopClock(StartupError.halted(halt))
            return
        }
        guard let target = driver.nextWake else { return }
        if wakeTimer != nil, wakeTarget <= target { return }
        wakeTimer?.cancel()
        let delay = max(target - driver.now, .zero)
        wakeTarget = target
        wakeTimer = eventLoop.scheduleTask(in: .nanoseconds(delay.nanoseconds)) {
            self.assumeIsolated { $0.wakeTimerFired() }
        }
    }

    private func wakeTimerFired() {
        wakeTimer = nil
        driver.deliverDueTicks()
        armWakeTimer()
    }

    private func stopClock(_ error: (any Error)?) {
        wakeTimer?.cancel()
        wakeTimer = nil
        guard let stopped = clockStopped else { return }
        clockStopped = nil
        if let error { stopped.fail(error) } else { stopped.succeed() }
    }
}
