/// The analytic model of a silent leader failure (no closed connection): followers notice only
/// when their randomized election timeouts run out.
///
/// Timeouts are whole ticks, N = n + U with n = T/tick and U uniform on {0, …, n − 1} (Raft §5.2's
/// [T, 2T)), restarted at the last heartbeat; with k survivors the first fires after M = min N,
/// P(M ≥ m) = ((2n − m)/n)^k for n ≤ m ≤ 2n. A timer restarted mid-tick fires up to a tick early
/// (φ·tick, φ uniform on [0, 1)); the fault strikes V after the last heartbeat (uniform on [0, h));
/// the campaign then needs a pre-vote and a vote round trip. So the time without a leader is
///
///     F = M·tick − (φ·tick + V) + 2·RTT,
///
/// whose mean is E[M]·tick − tick/2 − h/2 + 2·RTT and whose quantiles come from the exact CDF below
/// (a discrete M against the trapezoidal CDF of the sum of two uniforms). The benchmark compares its
/// measured median and p99 with the model's median and p99, not with the mean.
public struct FailoverModel: Sendable {
    public let electionTimeoutMs: Double
    public let heartbeatMs: Double
    public let tickMs: Double
    public let survivors: Int
    public let roundTripMs: Double
    /// n = T / tick.
    let ticks: Int

    public init(electionTimeoutMs: Double, heartbeatMs: Double, tickMs: Double, survivors: Int, roundTripMs: Double) {
        self.electionTimeoutMs = electionTimeoutMs
        self.heartbeatMs = heartbeatMs
        self.tickMs = tickMs
        self.survivors = max(1, survivors)
        self.roundTripMs = roundTripMs
        ticks = max(1, Int((electionTimeoutMs / tickMs).rounded()))
    }

    /// P(M ≥ m): every survivor's timeout is at least m ticks.
    func firstTimeoutAtLeast(_ m: Int) -> Double {
        if m <= ticks { return 1 }
        if m >= 2 * ticks { return 0 }
        return power(Double(2 * ticks - m) / Double(ticks), survivors)
    }

    /// E[F] in milliseconds.
    public var mean: Double {
        var expectedFirst = 0.0  // E[M] = Σ_{m ≥ 1} P(M ≥ m)
        for m in 1..<(2 * ticks) { expectedFirst += firstTimeoutAtLeast(m) }
        return (expectedFirst - 0.5) * tickMs - heartbeatMs / 2 + 2 * roundTripMs
    }

    /// P(F ≤ x) for x in milliseconds.
    public func probability(atMost x: Double) -> Double {
        var total = 0.0
        for m in ticks..<(2 * ticks) {
            let weight = firstTimeoutAtLeast(m) - firstTimeoutAtLeast(m + 1)
            // F ≤ x ⇔ φ·tick + V ≥ m·tick + 2·RTT − x.
            total += weight * (1 - earlinessAtMost(Double(m) * tickMs + 2 * roundTripMs - x))
        }
        return min(1, max(0, total))
    }

    /// The q-quantile of F in milliseconds (bisection on the CDF, to well under a microsecond).
    public func quantile(_ q: Double) -> Double {
        var low = Double(ticks - 1) * tickMs - heartbeatMs + 2 * roundTripMs
        var high = Double(2 * ticks) * tickMs + 2 * roundTripMs
        for _ in 0..<80 {
            let middle = (low + high) / 2
            if probability(atMost: middle) < q { low = middle } else { high = middle }
        }
        return high
    }

    /// P(φ·tick + V ≤ w): the CDF of the sum of uniforms on [0, tick) and [0, h).
    func earlinessAtMost(_ w: Double) -> Double {
        let a = min(tickMs, heartbeatMs)
        let b = max(tickMs, heartbeatMs)
        if w <= 0 { return 0 }
        if w >= a + b { return 1 }
        if a <= 0 { return min(1, w / b) }
        if w <= a { return w * w / (2 * a * b) }
        if w <= b { return (2 * w - a) / (2 * b) }
        return 1 - (a + b - w) * (a + b - w) / (2 * a * b)
    }

    private func power(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= base }
        return result
    }
}
