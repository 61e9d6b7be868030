import BallotCore
import BallotHarness
import Testing

/// The interval `ballot bench events` uses to say whether subscribers slow failover: it must hold
/// zero for two draws of the same distribution and exclude it for a real shift.
@Suite struct MedianShiftTests {
    /// `count` failover-like times: `offset` plus a skewed spread of up to about 30 ms.
    func sample(_ count: Int, offset: Double, seed: UInt64) -> [Double] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let u = Double.random(in: 0..<1, using: &random)
            return offset + 30 * u * u
        }
    }

    @Test func twoDrawsOfOneDistributionShowNoShift() throws {
        let shift = try #require(MedianShift(baseline: sample(80, offset: 5, seed: 1), treated: sample(80, offset: 5, seed: 2)))
        #expect(shift.includesZero, "interval \(shift.low)…\(shift.high)")
        #expect(shift.high - shift.low < 12, "80 trials each should bound the shift to a few ms")
    }

    @Test func aRealShiftIsSeenAndItsSizeIsInTheInterval() throws {
        let shift = try #require(MedianShift(baseline: sample(80, offset: 5, seed: 1), treated: sample(80, offset: 15, seed: 2)))
        #expect(!shift.includesZero)
        #expect(shift.low <= 10 && 10 <= shift.high, "interval \(shift.low)…\(shift.high)")
        #expect(shift.low > 0)
    }

    @Test func theSameTrialsGiveTheSameInterval() {
        let baseline = sample(40, offset: 5, seed: 3)
        let treated = sample(40, offset: 6, seed: 4)
        #expect(MedianShift(baseline: baseline, treated: treated) == MedianShift(baseline: baseline, treated: treated))
    }

    @Test func anEmptySampleHasNoShift() {
        #expect(MedianShift(baseline: [], treated: [1, 2]) == nil)
        #expect(MedianShift(baseline: [1], treated: []) == nil)
    }
}
