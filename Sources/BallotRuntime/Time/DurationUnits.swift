/// The one place Ballot converts a `Duration` to and from plain numbers (logs, JSON, metrics, NIO,
/// `CLOCK_MONOTONIC`), so every layer rounds the same way.
extension Duration {
    /// Whole nanoseconds (sub-nanosecond parts dropped), or `nil` when that does not fit in an
    /// `Int64` (about ±292 years).
    public var wholeNanoseconds: Int64? {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (sum, overflowAdding) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowAdding ? nil : sum
    }

    /// Whole nanoseconds, rounded toward zero; clamped to `Int64` (for NIO and `CLOCK_MONOTONIC`).
    public var nanoseconds: Int64 {
        wholeNanoseconds ?? (self < .zero ? .min : .max)
    }

    /// Whole and fractional milliseconds, for logs and JSON.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// Whole and fractional seconds, the base unit of Prometheus.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// A duration of `seconds` seconds, rounded to the nanosecond.
    public static func seconds(fractional seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
