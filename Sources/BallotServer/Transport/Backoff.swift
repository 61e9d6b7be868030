import BallotCore

/// Jittered exponential backoff for reconnecting to a peer ("full jitter": a uniform delay up to an
/// exponentially growing cap), so that a restarted cluster does not reconnect in lockstep.
struct Backoff {
    let initial: Duration
    let maximum: Duration
    private var attempt = 0
    private var random: SplitMix64

    init(initial: Duration = .milliseconds(20), maximum: Duration = .seconds(1), seed: UInt64) {
        self.initial = initial
        self.maximum = maximum
        random = SplitMix64(seed: seed)
    }

    mutating func reset() { attempt = 0 }

    /// The delay before the next attempt: uniform in [cap/2, cap], cap = min(maximum, initial·2^attempt).
    mutating func next() -> Duration {
        let factor = 1 << min(attempt, 16)
        attempt += 1
        let cap = min(maximum, initial * factor)
        let capNanos = max(1, cap.nanoseconds)
        return .nanoseconds(Int64.random(in: (capNanos / 2)...capNanos, using: &random))
    }
}

extension Duration {
    /// Whole nanoseconds (rounded toward zero), for APIs that count in them (NIO, CLOCK_MONOTONIC).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
