import BallotCore
import Testing

/// Table tests of the pure arithmetic the election rules rest on.
@Suite("Quorum math and domain types")
struct QuorumAndDomainTests {
    // Raft §5.2: a candidate wins with votes from a majority of the full cluster, ⌊n/2⌋ + 1, so two
    // majorities always share a member — for odd and even sizes alike.
    @Test("Raft §5.2: quorum is a strict majority for n = 1…8", arguments: [
        (1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4), (8, 5),
    ])
    func quorumTable(size: Int, expected: Int) {
        let membership = cluster(size)
        #expect(membership.count == size)
        #expect(membership.quorum == expected)
        #expect(membership.isQuorum(expected))
        #expect(!membership.isQuorum(expected - 1))
        // Any two quorums intersect; a quorum minus one does not have to.
        #expect(2 * membership.quorum > size)
        #expect(2 * (membership.quorum - 1) <= size)
    }

    // Raft §5.2: the count is won once a quorum granted, lost once a quorum can no longer grant.
    @Test("Raft §5.2: tally table", arguments: [
        // (n, granted, rejected, expected)
        (1, 0, 0, VoteTally.pending), (1, 1, 0, .won), (1, 0, 1, .lost),
        (2, 1, 0, .pending), (2, 2, 0, .won), (2, 1, 1, .lost),
        (3, 1, 0, .pending), (3, 2, 0, .won), (3, 1, 1, .pending), (3, 1, 2, .lost), (3, 2, 1, .won),
        (4, 2, 0, .pending), (4, 2, 1, .pending), (4, 2, 2, .lost), (4, 3, 1, .won), (4, 1, 2, .lost),
        (5, 2, 2, .pending), (5, 3, 0, .won), (5, 1, 3, .lost), (5, 2, 3, .lost),
        (6, 3, 2, .pending), (6, 3, 3, .lost), (6, 4, 0, .won),
        (7, 3, 3, .pending), (7, 4, 3, .won), (7, 3, 4, .lost),
        (8, 4, 3, .pending), (8, 4, 4, .lost), (8, 5, 0, .won), (8, 1, 4, .lost),
    ])
    func tallyTable(size: Int, granted: Int, rejected: Int, expected: VoteTally) {
        #expect(cluster(size).tally(granted: granted, rejected: rejected) == expected)
    }

    // Raft §5.2, exhaustively for n = 1…8: the tally agrees with "won iff a quorum granted; lost iff
    // even every outstanding vote could not make a quorum".
    @Test("Raft §5.2: tally agrees with the majority definition for every count, n = 1…8", arguments: 1...8)
    func tallyExhaustive(size: Int) {
        let membership = cluster(size)
        let majority = size / 2 + 1
        for granted in 0...size {
            for rejected in 0...(size - granted) {
                let outstanding = size - granted - rejected
                let expected: VoteTally =
                    granted >= majority ? .won : (granted + outstanding < majority ? .lost : .pending)
                #expect(
                    membership.tally(granted: granted, rejected: rejected) == expected,
                    "n=\(size) granted=\(granted) rejected=\(rejected)")
            }
        }
    }

    @Test("Membership is deduplicated and sorted, so iteration order is deterministic")
    func membershipOrder() {
        let membership = Membership([5, 3, 9, 3, 1] as [NodeID])
        #expect(membership.members == [1, 3, 5, 9])
        #expect(membership.peers(of: 5) == [1, 3, 9])
        #expect(membership.contains(9))
        #expect(!membership.contains(2))
        #expect(NodeID(UInt64(0)) == nil, "zero is reserved for \"no node\"")
        #expect(NodeID(UInt64(7))?.rawValue == 7)
    }

    // Raft §5.4.1: "If the logs have last entries with different terms, then the log with the later
    // term is more up-to-date. If the logs end with the same term, then whichever log is longer is
    // more up-to-date."
    @Test("Raft §5.4.1: log up-to-dateness order", arguments: [
        // (lhs index, lhs term, rhs index, rhs term, lhs < rhs)
        (9, 2, 1, 3, true),   // a later last term beats a longer log
        (1, 3, 9, 2, false),
        (4, 3, 5, 3, true),   // same last term: the longer log wins
        (5, 3, 4, 3, false),
        (5, 3, 5, 3, false),  // equal logs are equally up to date
        (0, 0, 1, 1, true),
        (0, 0, 0, 0, false),
    ] as [(UInt64, UInt64, UInt64, UInt64, Bool)])
    func logOrder(li: UInt64, lt: UInt64, ri: UInt64, rt: UInt64, less: Bool) {
        let lhs = LogPosition(index: li, term: Term(lt))
        let rhs = LogPosition(index: ri, term: Term(rt))
        #expect((lhs < rhs) == less)
        if lhs == rhs { #expect(lhs >= rhs && rhs >= lhs) }
    }

    // The lease must end before any voter's stickiness promise can: L = ⌊(T−1)(1−ρ)/(1+ρ)⌋, and no
    // lease at all without stickiness and CheckQuorum (thesis §6.4.1 relies on both).
    @Test("Thesis §6.4.1: lease length table", arguments: [
        // (T, ρ, stickiness, checkQuorum, lease)
        (10, 0.05, true, true, 8),
        (10, 0.0, true, true, 9),
        (100, 0.05, true, true, 89),
        (21, 0.0, true, true, 20),
        (2, 0.0, true, true, 1),
        (2, 0.05, true, true, 0),
        (10, 0.05, false, true, 0),
        (10, 0.05, true, false, 0),
    ] as [(UInt64, Double, Bool, Bool, UInt64)])
    func leaseLength(t: UInt64, rho: Double, stickiness: Bool, checkQuorum: Bool, lease: UInt64) {
        let config = raftConfig(electionTimeout: t, checkQuorum: checkQuorum, stickiness: stickiness, drift: rho)
        #expect(config.leaseTicks == lease)
        #expect(config.leaseTicks < t)
    }

    @Test("Configuration validation table", arguments: [
        (raftConfig(), nil),
        (raftConfig(electionTimeout: 2, heartbeat: 1), nil),
        (raftConfig(electionTimeout: 1, heartbeat: 1), RaftConfigurationError.electionTimeoutTooShort(1)),
        (raftConfig(electionTimeout: 10, heartbeat: 10), .heartbeatNotBelowElectionTimeout(heartbeat: 10, electionTimeout: 10)),
        (raftConfig(electionTimeout: 10, heartbeat: 0), .heartbeatNotBelowElectionTimeout(heartbeat: 0, electionTimeout: 10)),
        (raftConfig(drift: 0.5), .driftBoundOutOfRange(0.5)),
        (raftConfig(drift: -0.01), .driftBoundOutOfRange(-0.01)),
    ] as [(RaftConfiguration, RaftConfigurationError?)])
    func validation(config: RaftConfiguration, expected: RaftConfigurationError?) {
        if let expected {
            #expect(throws: expected) { try config.validate() }
        } else {
            #expect(throws: Never.self) { try config.validate() }
        }
    }

    @Test("SplitMix64 matches the published reference sequence and splits deterministically")
    func splitMix() {
        // Reference outputs of SplitMix64 seeded with 0 (Steele, Lea & Flood; Vigna's C version).
        var random = SplitMix64(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        var childA = a.split()
        var childB = b.split()
        #expect((0..<8).map { _ in childA.next() } == (0..<8).map { _ in childB.next() })
        #expect(a.next() == b.next())
    }
}
