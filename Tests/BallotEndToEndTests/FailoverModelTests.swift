import BallotCore
import BallotHarness
import Testing

/// The analytic model `ballot bench failover --fault pause` compares against: its exact CDF must
/// agree with a seeded Monte Carlo run of the very process it describes.
@Suite("Silent failover model")
struct FailoverModelTests {
    /// The settings of issue 7's targets: T = 1 s, h = 100 ms, tick 10 ms, 3 nodes (2 survivors).
    let model = FailoverModel(electionTimeoutMs: 1000, heartbeatMs: 100, tickMs: 10, survivors: 2, roundTripMs: 1)

    @Test("The mean is E[min N]·tick − tick/2 − h/2 + 2 RTT, with E[min N] in closed form")
    func meanMatchesTheClosedForm() {
        // E[min of two uniforms on {100…199}] = Σ_{m=100}^{199} P(min ≥ m) = 100 + Σ_{j=1}^{99} ((100 − j)/100)².
        var expected = 100.0
        for j in 1...99 { expected += Double((100 - j) * (100 - j)) / 10_000 }
        #expect(abs(model.mean - ((expected - 0.5) * 10 - 50 + 2)) < 1e-9)
    }

    @Test("The CDF and quantiles agree with 200,000 sampled failovers", arguments: [1, 2, 4])
    func quantilesMatchSampling(survivors: Int) {
        let model = FailoverModel(electionTimeoutMs: 1000, heartbeatMs: 100, tickMs: 10, survivors: survivors, roundTripMs: 1)
        var random = SplitMix64(seed: 7)
        var samples: [Double] = []
        for _ in 0..<200_000 {
            let first = (0..<survivors).map { _ in 100 + Int.random(in: 0..<100, using: &random) }.min()!
            let phase = Double.random(in: 0..<1, using: &random) * 10
            let sinceHeartbeat = Double.random(in: 0..<100, using: &random)
            samples.append(Double(first) * 10 - phase - sinceHeartbeat + 2)
        }
        samples.sort()
        let sampledMean = samples.reduce(0, +) / Double(samples.count)
        #expect(abs(sampledMean - model.mean) < 2, "sampled mean \(sampledMean), model \(model.mean)")
        for q in [0.1, 0.5, 0.9, 0.99] {
            let sampled = samples[Int(q * Double(samples.count))]
            #expect(abs(sampled - model.quantile(q)) < 6, "q \(q): sampled \(sampled), model \(model.quantile(q))")
        }
    }

    @Test("The CDF rises from 0 to 1 and never falls")
    func cdfIsADistribution() {
        var previous = 0.0
        for x in stride(from: 800.0, through: 2100, by: 5) {
            let p = model.probability(atMost: x)
            #expect(p >= previous - 1e-12)
            previous = p
        }
        #expect(model.probability(atMost: 800) == 0)
        #expect(model.probability(atMost: 2100) > 1 - 1e-9)
        // With [T, 2T) timeouts the tail is long: the 99th percentile is far from the mean.
        #expect(model.quantile(0.99) / model.mean > 1.3)
    }
}
