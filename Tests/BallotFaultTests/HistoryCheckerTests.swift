import BallotClient
import BallotHarness
import Testing

/// The checker on hand-made histories: each property is shown to catch its violation, and a
/// clean history to pass. (The runs on real processes only ever show it passing.)
@Suite struct HistoryCheckerTests {
    /// Milliseconds after an arbitrary origin, as CLOCK_MONOTONIC nanoseconds.
    func ms(_ value: Double) -> UInt64 { 1_000_000_000_000 + UInt64(value * 1_000_000) }

    func lease(_ node: UInt64, term: UInt64, from: Double, until: Double) -> TimelineEvent {
        .lease(LeaseEventLine(node: node, term: term, from: ms(from), until: ms(until), monotonicNanoseconds: ms(from) + 50_000))
    }

    func elected(_ node: UInt64, leader: UInt64, term: UInt64, at: Double) -> TimelineEvent {
        .leadership(LeadershipEventLine(parsing:
            "event=elected node=\(node) leader=\(leader) term=\(term) self=\(node == leader) leaderless_ms=0.0 mono_ns=\(ms(at))")!)
    }

    func probe(_ node: UInt64, isLeader: Bool, term: UInt64?, sent: Double, received: Double) -> TimelineEvent {
        .probe(node: node, source: term == nil ? "metrics" : "leader", isLeader: isLeader, term: term, sent: ms(sent),
               received: ms(received))
    }

    func check(_ events: [TimelineEvent], end: Double = 100_000) -> [HistoryChecker.Violation] {
        HistoryChecker().check(events, endedAt: ms(end))
    }

    /// A leader of term 1 extends its lease, is paused, and node 2 takes over in term 2 after the
    /// old lease ran out; the resumed node reports itself follower in term 2.
    var cleanFailover: [TimelineEvent] {
        [
            .started(node: 1, at: ms(0)), .started(node: 2, at: ms(0)), .started(node: 3, at: ms(0)),
            elected(1, leader: 1, term: 1, at: 100), lease(1, term: 1, from: 100, until: 360),
            elected(2, leader: 1, term: 1, at: 101), elected(3, leader: 1, term: 1, at: 101),
            lease(1, term: 1, from: 150, until: 410), probe(1, isLeader: true, term: 1, sent: 200, received: 203),
            .paused(node: 1, at: ms(300)),
            .faultBegan(number: 0, kind: .pause, detail: "", at: ms(300)),
            elected(2, leader: 2, term: 2, at: 800), lease(2, term: 2, from: 800, until: 1060),
            elected(3, leader: 2, term: 2, at: 801),
            probe(1, isLeader: false, term: 1, sent: 900, received: 1_300),
            .resumed(node: 1, at: ms(1_250)), .faultHealed(number: 0, at: ms(1_250)),
            probe(1, isLeader: false, term: nil, sent: 1_260, received: 1_262),
            lease(1, term: 1, from: 1_251, until: 1_251),
            elected(1, leader: 2, term: 2, at: 1_270), probe(1, isLeader: false, term: 2, sent: 1_280, received: 1_282),
            lease(2, term: 2, from: 1_290, until: 1_550),
        ]
    }

    @Test func aCleanHistoryPasses() {
        #expect(check(cleanFailover).isEmpty)
    }

    @Test func twoLeadersInOneTermAreCaught() {
        let events = cleanFailover + [elected(3, leader: 3, term: 2, at: 1_400)]
        #expect(check(events).map(\.property) == [.electionSafety])
    }

    @Test func overlappingLeasesAreCaughtBeyondTheClockErrorBound() {
        // Node 2's term-2 lease starts 40 ms before node 1's last term-1 lease ends.
        let overlapping = cleanFailover.map { event -> TimelineEvent in
            if case .lease(let line) = event, line.node == 2 {
                return lease(2, term: 2, from: 370, until: 630)
            }
            return event
        }
        #expect(check(overlapping).contains { $0.property == .leaseOverlap })
        // Within the bound (3 ms) it is tolerated.
        let touching = cleanFailover.map { event -> TimelineEvent in
            if case .lease(let line) = event, line.node == 2 { return lease(2, term: 2, from: 407, until: 667) }
            return event
        }
        #expect(!check(touching).contains { $0.property == .leaseOverlap })
    }

    @Test func aLeaseEndsAtSIGKILLButNotAtSIGSTOP() {
        // Node 1 killed at 200 ms: its lease (until 410) is no longer held from then, so node 2's at
        // 300 is no overlap; but a sidecar's CMD may run to 410, so it breaks lease succession.
        let killed: [TimelineEvent] = [
            lease(1, term: 1, from: 150, until: 410), .killed(node: 1, at: ms(200)),
            lease(2, term: 2, from: 300, until: 560),
        ]
        #expect(check(killed).map(\.property) == [.leaseSuccession])
        let waited: [TimelineEvent] = [
            lease(1, term: 1, from: 150, until: 410), .killed(node: 1, at: ms(200)),
            lease(2, term: 2, from: 412, until: 670),
        ]
        #expect(check(waited).isEmpty)
        let paused: [TimelineEvent] = [
            lease(1, term: 1, from: 150, until: 410), .paused(node: 1, at: ms(200)),
            lease(2, term: 2, from: 300, until: 560),
        ]
        #expect(check(paused).map(\.property) == [.leaseOverlap])
    }

    @Test func aLeaseBeginningBeforeAHandedOverLeasesDeadlineIsCaught() {
        // Node 1 ends its lease at 200 ms for a transfer; the deadline it had published was 410.
        let early: [TimelineEvent] = [
            lease(1, term: 1, from: 150, until: 410), lease(1, term: 1, from: 200, until: 200),
            lease(2, term: 2, from: 230, until: 490),
        ]
        #expect(check(early).map(\.property) == [.leaseSuccession])
    }

    @Test func aLeaderClaimOutsideAnyAnnouncedLeaseIsCaught() {
        let events = cleanFailover + [probe(3, isLeader: true, term: 2, sent: 2_000, received: 2_002)]
        #expect(check(events).map(\.property) == [.leaseReport])
    }

    @Test func aClaimWhileAnotherNodeHoldsTheLeaseIsCaught() {
        let events = cleanFailover + [
            lease(3, term: 3, from: 5_000, until: 5_260),
            probe(2, isLeader: true, term: 2, sent: 5_100, received: 5_102),
        ]
        let properties = Set(check(events).map(\.property))
        #expect(properties == [.leaseReport, .leaseOverlap])
    }

    @Test func aResumedLeaderClaimingItsOldTermIsCaught() {
        // The resumed node still holds what looks like its old lease and says so.
        var events = cleanFailover
        events.append(lease(1, term: 1, from: 1_255, until: 1_400))
        events.append(probe(1, isLeader: true, term: 1, sent: 1_256, received: 1_258))
        let properties = Set(check(events).map(\.property))
        #expect(properties.contains(.staleLeader))
        #expect(properties.contains(.leaseOverlap))
    }

    @Test func aResumedLeaderThatNeverLearnsTheNewTermIsCaught() {
        let events = cleanFailover.filter { event in
            if case .probe(1, _, _, let term, _, _) = event, term == 2 { return false }
            return true
        }
        #expect(check(events).map(\.property) == [.staleLeader])
    }

    @Test func termsGoingBackwardsAreCaught() {
        let regress = cleanFailover + [elected(3, leader: 1, term: 1, at: 1_500)]
        #expect(check(regress).map(\.property) == [.termMonotonicity])
        // Across a restart: node 3 was in term 2, comes back in term 1.
        let restart = cleanFailover + [
            .killed(node: 3, at: ms(1_500)), .started(node: 3, at: ms(1_600)),
            .status(node: 3, term: 1, votedFor: nil, sent: ms(1_700), received: ms(1_701)),
        ]
        #expect(check(restart).map(\.property) == [.termMonotonicity])
    }

    @Test func aLostVoteAfterRestartIsCaught() {
        let events = cleanFailover + [
            .status(node: 3, term: 2, votedFor: 2, sent: ms(1_400), received: ms(1_401)),
            .killed(node: 3, at: ms(1_500)), .started(node: 3, at: ms(1_600)),
            .status(node: 3, term: 2, votedFor: nil, sent: ms(1_700), received: ms(1_701)),
        ]
        #expect(check(events).map(\.property) == [.durableState])
        let kept = cleanFailover + [
            .status(node: 3, term: 2, votedFor: 2, sent: ms(1_400), received: ms(1_401)),
            .killed(node: 3, at: ms(1_500)), .started(node: 3, at: ms(1_600)),
            .status(node: 3, term: 2, votedFor: 2, sent: ms(1_700), received: ms(1_701)),
        ]
        #expect(check(kept).isEmpty)
    }

    @Test func noLeaderAfterAHealIsCaught() {
        let events = cleanFailover + [
            .faultBegan(number: 1, kind: .partition, detail: "", at: ms(2_000)),
            .faultHealed(number: 1, at: ms(3_000)),
            lease(2, term: 2, from: 10_000, until: 10_260),
        ]
        #expect(check(events).map(\.property) == [.recovery])
    }

    @Test func leaseLinesParse() throws {
        let line = try #require(LeaseEventLine(parsing: "event=lease node=2 term=5 from_ns=100 until_ns=360 mono_ns=101"))
        #expect(line == LeaseEventLine(node: 2, term: 5, from: 100, until: 360, monotonicNanoseconds: 101))
        #expect(!line.ends)
        #expect(LeaseEventLine(parsing: "event=lease node=2 term=5 from_ns=100 until_ns=100 mono_ns=101")?.ends == true)
        #expect(LeaseEventLine(parsing: "event=lease node=1 term=1 from_ns=7 until_ns=inf mono_ns=8")?.until == nil)
        #expect(LeaseEventLine(parsing: "event=elected node=1 leader=2 term=5 self=false mono_ns=1") == nil)
    }
}
