import BallotChildRun
import BallotClient
import BallotHarness
import Testing

/// The sidecar suite's checks on hand-made writer records: each property is shown to catch its
/// violation, and a clean hand-over to pass.
@Suite struct ChildHistoryCheckerTests {
    func ms(_ value: Double) -> UInt64 { 1_000_000_000_000 + UInt64(value * 1_000_000) }

    func run(_ node: UInt64, term: UInt64, pid: Int32, from: Double, to: Double) -> ChildRun {
        ChildRun(node: node, term: term, pid: pid, parent: 1, first: ms(from), last: ms(to))
    }

    func lease(_ node: UInt64, term: UInt64, from: Double, until: Double?) -> LeaseEventLine {
        LeaseEventLine(node: node, term: term, from: ms(from), until: until.map(ms), monotonicNanoseconds: ms(from))
    }

    /// Node 1 leads term 3 (lease extended every 50 ms), ends it early at 400 ms (a transfer) while it
    /// had announced 600 ms; node 2 leads term 4 from 402 ms.
    var leases: [LeaseEventLine] {
        [
            lease(1, term: 3, from: 0, until: 260), lease(1, term: 3, from: 50, until: 310),
            lease(1, term: 3, from: 100, until: 360), lease(1, term: 3, from: 340, until: 600),
            lease(1, term: 3, from: 400, until: 400),
            lease(2, term: 4, from: 402, until: 662), lease(2, term: 4, from: 450, until: 710),
        ]
    }

    @Test func aCleanHandOverPasses() {
        let runs = [run(1, term: 3, pid: 10, from: 5, to: 401), run(2, term: 4, pid: 20, from: 420, to: 700)]
        #expect(ChildHistoryChecker().check(runs, leases: leases).isEmpty)
        #expect(ChildHistoryChecker.idleTime(runs, from: ms(0), to: ms(700)) == ms(5) - ms(0) + ms(420) - ms(401))
        #expect(ChildHistoryChecker.overlapTime(runs, from: 0, to: .max) == 0)
    }

    @Test func twoWritersAtOnceAreCaughtHoweverBriefly() {
        let runs = [run(1, term: 3, pid: 10, from: 5, to: 420.5), run(2, term: 4, pid: 20, from: 420, to: 700)]
        let violations = ChildHistoryChecker().check(runs, leases: leases)
        #expect(violations.map(\.property) == [.overlap])
        #expect(ChildHistoryChecker.overlapTime(runs, from: 0, to: .max) == 500_000)
    }

    @Test func aWriterOutlivingEveryLeaseOfItsTermIsCaught() {
        // Past the announced 600 ms (beyond the 5 ms clock-error bound).
        #expect(ChildHistoryChecker().check([run(1, term: 3, pid: 10, from: 5, to: 606)], leases: leases)
            .map(\.property) == [.outsideLease])
        // Under a term its node never held a lease of.
        #expect(ChildHistoryChecker().check([run(1, term: 4, pid: 10, from: 450, to: 460)], leases: leases)
            .map(\.property) == [.outsideLease])
        // Started before the lease began.
        #expect(ChildHistoryChecker().check([run(2, term: 4, pid: 20, from: 390, to: 500)], leases: leases)
            .map(\.property) == [.outsideLease])
    }

    @Test func aLapseInsideOneTermIsNotCovered() {
        // Node 1's lease lapsed from 310 to 340 ms: a writer that ran through the lapse is caught.
        let lapsed = [lease(1, term: 3, from: 0, until: 260), lease(1, term: 3, from: 50, until: 310),
                      lease(1, term: 3, from: 340, until: 600)]
        #expect(ChildHistoryChecker().check([run(1, term: 3, pid: 10, from: 5, to: 350)], leases: lapsed)
            .map(\.property) == [.outsideLease])
        #expect(ChildHistoryChecker().check([run(1, term: 3, pid: 10, from: 5, to: 300)], leases: lapsed).isEmpty)
    }

    @Test func theMarginIsTheAnnouncedDeadlineMinusTheLastStamp() {
        let margins = ChildHistoryChecker().margins([run(1, term: 3, pid: 10, from: 5, to: 570)], leases: leases)
        #expect(margins == [30_000_000])
        #expect(ChildHistoryChecker().margins([run(1, term: 9, pid: 10, from: 5, to: 570)],
                                              leases: [lease(1, term: 9, from: 0, until: nil)]).isEmpty)
    }
}
