import BallotCore

/// How far a sample's median lies from a baseline's, with a 95 % bootstrap interval.
///
/// A benchmark that asks "does X slow failover?" on a shared two-core machine cannot answer with
/// two medians alone: the same phase moves by milliseconds from run to run. The interval says how
/// large a shift the trials can rule out — "no slowdown" is a claim only when it is narrow and
/// holds zero. Percentile bootstrap: both samples are resampled with replacement, seeded, so a run
/// prints the same interval for the same trials.
public struct MedianShift: Sendable, Equatable {
    /// `median(treated) − median(baseline)`.
    public let shift: Double
    /// The 2.5th and 97.5th percentiles of the resampled shifts.
    public let low: Double
    public let high: Double

    /// Nil when either sample is empty.
    public init?(baseline: [Double], treated: [Double], resamples: Int = 4000, seed: UInt64 = 1) {
        guard !baseline.isEmpty, !treated.isEmpty, resamples > 0 else { return nil }
        shift = Summary(treated).median - Summary(baseline).median
        var random = SplitMix64(seed: seed)
        var shifts: [Double] = []
        shifts.reserveCapacity(resamples)
        for _ in 0..<resamples {
            shifts.append(Self.resampledMedian(treated, &random) - Self.resampledMedian(baseline, &random))
        }
        let resampled = Summary(shifts)
        low = resampled.quantile(0.025)
        high = resampled.quantile(0.975)
    }

    /// Whether the interval holds zero: the trials show no shift either way.
    public var includesZero: Bool { low <= 0 && 0 <= high }

    private static func resampledMedian(_ sample: [Double], _ random: inout SplitMix64) -> Double {
        Summary((0..<sample.count).map { _ in sample[Int.random(in: 0..<sample.count, using: &random)] }).median
    }
}
