/// The analytic expectation for a silent leader failure (no closed connection): followers notice
/// only when their randomized election timeouts run out.
///
/// Timeouts are whole ticks, N = T/tick + U with U uniform on {0, …, T/tick − 1} (Raft §5.2's
/// [T, 2T)), restarted at the last heartbeat. With k survivors the first fires after
/// E[min N] = T/tick + Σ_{m=1}^{T/tick−1} ((T/tick − m)/(T/tick))^k ticks; a timer restarted
/// mid-tick fires half a tick early on average; the fault strikes on average h/2 after the last
/// heartbeat; the campaign then needs a pre-vote and a vote round trip.
public enum FailoverModel {
    public static func expectedSilentFailoverMs(
        electionTimeoutMs: Double, heartbeatMs: Double, tickMs: Double, survivors k: Int, roundTripMs: Double
    ) -> Double {
        let ticks = max(1, Int((electionTimeoutMs / tickMs).rounded()))
        var expectedMin = Double(ticks)
        for m in 1..<max(ticks, 1) {
            expectedMin += pow(Double(ticks - m) / Double(ticks), Double(k))
        }
        return (expectedMin - 0.5) * tickMs - heartbeatMs / 2 + 2 * roundTripMs
    }

    private static func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= base }
        return result
    }
}
