import BallotClient
import BallotRuntime
import Testing

/// `ballot watch`'s lines: one per change, never for a lease extension, and after a node restart.
struct LeadershipWatchTests {
    static func event(_ detail: LeadershipStreamEvent.Detail, index: UInt64, term: UInt64 = 4, leader: UInt64? = 2,
                      isLeader: Bool = false) -> LeadershipStreamEvent {
        LeadershipStreamEvent(node: 1, term: term, index: index, leader: leader, isLeader: isLeader,
                              at: MonotonicInstant(nanoseconds: 77), detail: detail)
    }

    @Test func theRoleIsLeaderOnlyWithAValidLease() {
        #expect(LeadershipWatch.role(of: Self.event(.lease(from: .zero, until: nil, ends: false), index: 1, leader: 1, isLeader: true)) == .leader)
        #expect(LeadershipWatch.role(of: Self.event(.elected(isSelf: false, leaderlessMilliseconds: nil), index: 1)) == .follower)
        #expect(LeadershipWatch.role(of: Self.event(.elected(isSelf: true, leaderlessMilliseconds: nil), index: 1, leader: 1)) == .none)
        #expect(LeadershipWatch.role(of: Self.event(.lost(previous: 2), index: 1, leader: nil)) == .none)
    }

    @Test func aLineIsOneJSONObjectWithNullForNoLeader() {
        #expect(LeadershipWatch.line(for: Self.event(.lost(previous: 2), index: 9, leader: nil))
                == #"{"event":"lost","index":9,"node":1,"term":4,"leader":null,"role":"none","is_leader":false,"mono_ns":77}"#)
        #expect(LeadershipWatch.environment(for: Self.event(.elected(isSelf: false, leaderlessMilliseconds: 1), index: 3))
                .prefix(3) == ["BALLOT_ROLE=follower", "BALLOT_TERM=4", "BALLOT_LEADER=2"])
        #expect(LeadershipWatch.line(for: .httpStatus(401, "no \"token\""))
                == #"{"event":"disconnected","reason":"GET /events answered HTTP 401: no \"token\" (give the node's token)"}"#)
    }

    @Test func extensionsAndAnUnchangedStateAreNotChangesButARestartIs() {
        var filter = LeadershipWatch.ChangeFilter()
        let leading = Self.event(.state(leaseUntil: MonotonicInstant(nanoseconds: 9), leaseUnbounded: false), index: 5, leader: 1, isLeader: true)
        let events = [
            leading,
            Self.event(.lease(from: .zero, until: MonotonicInstant(nanoseconds: 20), ends: false), index: 5, leader: 1, isLeader: true),
            leading,  // the state of a reconnected stream, nothing moved
            Self.event(.lease(from: .zero, until: .zero, ends: true), index: 6, leader: 1),
            // The node restarted: its index starts again, lower.
            Self.event(.state(leaseUntil: nil, leaseUnbounded: false), index: 1, term: 5, leader: nil),
        ]
        let changes = events.map { filter.isChange($0) }
        #expect(changes == [true, false, false, true, true])
    }
}
