import BallotClient
import BallotHarness
import Testing

/// "No frame from an unauthenticated connection was delivered", on hand-made histories: the
/// node's own evidence passes, and each way a node could let an intruder in — or leave no trace of
/// refusing it — fails.
@Suite struct IntruderCheckTests {
    func ms(_ value: Double) -> UInt64 { 1_000_000_000_000 + UInt64(value * 1_000_000) }

    func peer(_ line: String, at: Double) -> TimelineEvent {
        .peer(PeerEventLine(parsing: line + " mono_ns=\(ms(at))")!)
    }

    func lease(_ node: UInt64, term: UInt64, from: Double, until: Double) -> TimelineEvent {
        .lease(LeaseEventLine(node: node, term: term, from: ms(from), until: ms(until), monotonicNanoseconds: ms(from)))
    }

    /// Node 2 leads term 3; an impostor dials it from 10.213.0.11:40000 during fault 4.
    func history(_ evidence: [TimelineEvent], refusedAfter: Double = 1) -> [TimelineEvent] {
        [
            .started(node: 1, at: ms(0)), .started(node: 2, at: ms(0)),
            lease(2, term: 3, from: 10, until: 2_000),
            .faultBegan(number: 4, kind: .impostor, detail: "", at: ms(100)),
            .authRefusals(number: 4, node: 2, before: true, count: 7, at: ms(101)),
            .intrusion(number: 4, node: 2, kind: .impostor, remote: "10.213.0.11:40000", forgedTerm: 1_000_003, at: ms(110)),
        ] + evidence + [
            .authRefusals(number: 4, node: 2, before: false, count: 7 + refusedAfter, at: ms(300)),
            .faultHealed(number: 4, at: ms(300)),
            lease(2, term: 3, from: 300, until: 2_500),
        ]
    }

    func violations(_ events: [TimelineEvent], endedAt: Double = 3_000) -> [HistoryChecker.Violation] {
        HistoryChecker().check(events, endedAt: ms(endedAt)).filter { $0.property == .unauthenticatedDelivery }
    }

    let refused = "event=peer_refused node=2 remote=10.213.0.11:40000 reason=auth established=false delivered=0"

    @Test func aRefusalWithNothingDeliveredPasses() {
        #expect(violations(history([peer(refused, at: 111)])).isEmpty)
    }

    @Test func anAuthenticatedIntruderFails() {
        let found = violations(history([
            peer("event=peer_accepted node=2 peer=1 remote=10.213.0.11:40000 auth=tls", at: 111),
            peer("event=peer_closed node=2 peer=1 remote=10.213.0.11:40000 delivered=2", at: 150),
        ], refusedAfter: 0))
        #expect(found.contains { $0.detail.contains("authenticated the intruder's connection") })
        #expect(found.contains { $0.detail.contains("delivered 2 messages") })
        #expect(found.contains { $0.detail.contains("left no refusal") })
        #expect(found.contains { $0.detail.contains("counted 0 auth refusals for 1 intruder connections") })
    }

    @Test func aRefusalAfterDeliveringFails() {
        let found = violations(history([
            peer("event=peer_refused node=2 remote=10.213.0.11:40000 reason=malformed established=true delivered=5", at: 111),
        ]))
        #expect(found.contains { $0.detail.contains("delivered 5 messages") })
        #expect(found.contains { $0.detail.contains("left no refusal") })
    }

    @Test func noEvidenceFails() {
        #expect(violations(history([])).contains { $0.detail.contains("left no refusal") })
        // A refusal of another connection is no evidence for this one.
        let other = "event=peer_refused node=2 remote=10.213.0.11:40001 reason=auth established=false delivered=0"
        #expect(!violations(history([peer(other, at: 111)])).isEmpty)
    }

    /// The intruder dialled from node 1's namespace; minutes later node 1's own connection got the
    /// same ephemeral port (seen in a 500-fault run). That connection is node 1's, not the intruder's.
    @Test func aMemberReusingTheIntrudersPortLaterPasses() {
        let later = [
            peer("event=peer_accepted node=2 peer=1 remote=10.213.0.11:40000 auth=tls", at: 190_000),
            peer("event=peer_closed node=2 peer=1 remote=10.213.0.11:40000 delivered=17", at: 191_000),
        ]
        #expect(violations(history([peer(refused, at: 111)]) + later, endedAt: 200_000).isEmpty)
    }

    /// A line about the intruder's connection written a little after the fault healed still counts
    /// (the node may close a silent connection only at its handshake deadline).
    @Test func aLateLineOfTheIntrudersConnectionStillCounts() {
        let found = violations(history([peer(refused, at: 111)]) + [
            peer("event=peer_accepted node=2 peer=1 remote=10.213.0.11:40000 auth=tls", at: 5_300),
        ], endedAt: 20_000)
        #expect(found.contains { $0.detail.contains("authenticated the intruder's connection") })
    }

    @Test func aForgedTermReachingAnyNodeFails() {
        let found = violations(history([
            peer(refused, at: 111),
            .leadership(LeadershipEventLine(parsing:
                "event=elected node=1 leader=1 term=1000003 self=true leaderless_ms=0.0 mono_ns=\(ms(200))")!),
        ]))
        #expect(found.contains { $0.detail.contains("which only an intruder sent") })
    }
}
