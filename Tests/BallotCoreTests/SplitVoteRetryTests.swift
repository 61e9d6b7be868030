import BallotCore
import Testing

/// Fast failover's split vote: two survivors of a crashed leader that both started campaigning
/// before either's requests arrived (one was slow to notice the crash — a busy machine) both pass
/// the pre-vote and split the real vote. Each sees the other's vote request in its own term, and
/// they campaign again one rank slot apart instead of after a randomized T to 2T — once per
/// evidence, so it cannot repeat.
@Suite struct SplitVoteRetryTests {
    /// Followers 2 and 3 of leader 1 in term 1, both told that leader 1's process is gone, both
    /// campaigning (pre-vote for term 2) before hearing from each other. Returns what they sent.
    func splitSurvivors() throws -> (a: RaftNode, b: RaftNode, fromA: [Action], fromB: [Action]) {
        var (a, b) = firstSeed { seed -> (RaftNode, RaftNode)? in
            var a = makeNode(2, of: 3, seed: seed)
            var b = makeNode(3, of: 3, seed: seed)
            _ = a.tick(times: T)
            _ = b.tick(times: T)
            let heartbeat = Message.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1)))
            _ = a.receive(heartbeat, from: 1)
            _ = b.receive(heartbeat, from: 1)
            guard a.status.leader == 1, b.status.leader == 1 else { return nil }
            return (a, b)
        }
        var fromA = a.peerUnreachable(1)
        var fromB = b.peerUnreachable(1)
        // Node 2 ranks first (one slot), node 3 second (the next slot): within 2 slots both have started.
        for _ in 0..<4 {
            if a.status.role == .follower { fromA += a.tick() }
            if b.status.role == .follower { fromB += b.tick() }
        }
        try #require(a.status.role == .preCandidate && b.status.role == .preCandidate)
        return (a, b, fromA, fromB)
    }

    /// Delivers the messages between 2 and 3 round by round (those to the dead leader are lost),
    /// at most `rounds` times or until neither sends anything.
    func exchange(_ a: inout RaftNode, _ b: inout RaftNode, fromA: inout [Action], fromB: inout [Action],
                  rounds: Int = 10) -> [Action] {
        var seen: [Action] = []
        for _ in 0..<rounds {
            let toB = fromA.sends.filter { $0.to == b.id }
            let toA = fromB.sends.filter { $0.to == a.id }
            if toA.isEmpty && toB.isEmpty { break }
            fromA = toA.flatMap { a.receive($0.message, from: b.id) }
            fromB = toB.flatMap { b.receive($0.message, from: a.id) }
            seen += fromA + fromB
        }
        return seen
    }

    /// Ticks both nodes once and returns what they sent.
    func tickBoth(_ a: inout RaftNode, _ b: inout RaftNode) -> (fromA: [Action], fromB: [Action]) {
        (a.tick(), b.tick())
    }

    @Test("A split vote after a crash is retried in the next slot, not after T to 2T")
    func aSplitVoteIsRetriedInTheNextSlot() throws {
        var (a, b, fromA, fromB) = try splitSurvivors()
        let seen = exchange(&a, &b, fromA: &fromA, fromB: &fromB)
        // Both passed the pre-vote and asked for real votes in term 2: the split this is about.
        #expect(seen.filter { $0 == .campaignStarted(.vote, term: 2) }.count == 2, "both candidates in term 2")
        #expect(a.status.role == .candidate && b.status.role == .candidate)
        var ticks: UInt64 = 0
        while a.status.role != .leader && b.status.role != .leader && ticks < 2 * T {
            ticks += 1
            (fromA, fromB) = tickBoth(&a, &b)
            _ = exchange(&a, &b, fromA: &fromA, fromB: &fromB)
        }
        // Node 2 ranks first: its slot comes first, and its new term reaches node 3 before node 3's.
        #expect(a.status.role == .leader)
        #expect(a.status.term == 3)
        #expect(b.status.leader == a.id)
        // One slot of one tick (the default stagger) and a tick, far inside the T (10 ticks) a
        // randomized timeout takes at least.
        #expect(ticks <= 2, "a leader after \(ticks) ticks")
    }

    @Test("The quick retry is used once: a second split waits for the election timer")
    func aSecondSplitWaitsForTheTimer() throws {
        var (a, b, fromA, fromB) = try splitSurvivors()
        _ = exchange(&a, &b, fromA: &fromA, fromB: &fromB)
        try #require(a.status.role == .candidate && b.status.role == .candidate && a.status.term == 2)
        // Both retry before hearing from each other (node 2 held up again) and split term 3.
        fromA = []
        fromB = []
        for _ in 0..<4 {
            if a.status.role == .candidate { fromA += a.tick() }
            if b.status.role == .candidate { fromB += b.tick() }
        }
        try #require(a.status.role == .preCandidate && b.status.role == .preCandidate)
        let seen = exchange(&a, &b, fromA: &fromA, fromB: &fromB)
        #expect(seen.filter { $0 == .campaignStarted(.vote, term: 3) }.count == 2)
        #expect(a.status.role == .candidate && b.status.role == .candidate, "split again")
        // No second quick slot: the next campaign comes from a randomized timeout of at least T.
        let first = [a.ticksUntilTimeout, b.ticksUntilTimeout].compactMap { $0 }.min()
        #expect(first.map { $0 >= T } == true, "next campaign after \(first.map(String.init) ?? "never") ticks")
    }
}
