import BallotClient
import BallotCore
import BallotRuntime
import Foundation
import NIOCore
import Testing

@testable import BallotServer

/// The node's `/events` encoder and the client's strict decoder (what `ballot run` and `ballot watch`
/// read with) agree on the contract: every kind of event the node writes decodes to the values it
/// was made from, with `is_leader` as judged when written.
@Suite struct EventsContractTests {
    let now = MonotonicInstant(nanoseconds: 7_000_000_000)

    /// The one event in `encoded`, through BallotClient's parser and decoder.
    func decode(_ encoded: EncodedLeadershipEvent, isLeader: Bool) throws -> LeadershipStreamEvent {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array(encoded.bytes(isLeader: isLeader).readableBytesView))
        try #require(events.count == 1)
        #expect(events[0].lastEventID == "\(encoded.index)")
        return try LeadershipStreamEvent(events[0])
    }

    @Test func aStateDecodesWithItsLeaseBoundedUnboundedOrNone() throws {
        var state = LeadershipState(node: 2)
        state.role = .leader
        state.term = 5
        state.index = 9
        state.leader = LeaderInfo(id: 2, term: 5)
        state.lease = .until(now + .milliseconds(800))
        let bounded = try decode(EncodedLeadershipEvent(state: state, node: 2, at: now), isLeader: true)
        #expect(bounded == LeadershipStreamEvent(
            node: 2, term: 5, index: 9, leader: 2, isLeader: true, at: now,
            detail: .state(leaseUntil: now + .milliseconds(800), leaseUnbounded: false)))

        state.lease = .unbounded
        let unbounded = try decode(EncodedLeadershipEvent(state: state, node: 2, at: now), isLeader: true)
        #expect(unbounded.detail == .state(leaseUntil: nil, leaseUnbounded: true))

        state.role = .follower
        state.leader = LeaderInfo(id: 3, term: 5)
        state.lease = .none
        let following = try decode(EncodedLeadershipEvent(state: state, node: 2, at: now), isLeader: false)
        #expect(following.leader == 3 && !following.isLeader)
        #expect(following.detail == .state(leaseUntil: nil, leaseUnbounded: false))
    }

    @Test func electedLostAndLeaseEventsDecodeToTheirValues() throws {
        let elected = LeadershipEvent.elected(leader: 2, term: 6, isSelf: true, leaderless: .milliseconds(27.5),
                                              isNewLeadership: true, index: 10, at: now)
        #expect(try decode(EncodedLeadershipEvent(event: elected, node: 2, changesIndex: true, leader: 2), isLeader: false)
            == LeadershipStreamEvent(node: 2, term: 6, index: 10, leader: 2, isLeader: false, at: now,
                                     detail: .elected(isSelf: true, leaderlessMilliseconds: 27.5)))

        let lost = LeadershipEvent.lost(previous: 3, term: 6, index: 11, at: now)
        #expect(try decode(EncodedLeadershipEvent(event: lost, node: 2, changesIndex: true, leader: nil), isLeader: false)
            == LeadershipStreamEvent(node: 2, term: 6, index: 11, leader: nil, isLeader: false, at: now,
                                     detail: .lost(previous: 3)))

        let begins = LeadershipEvent.lease(LeaseChange(term: 7, at: now, until: now + .milliseconds(900)), index: 12)
        #expect(try decode(EncodedLeadershipEvent(event: begins, node: 2, changesIndex: true, leader: 2), isLeader: true)
            == LeadershipStreamEvent(node: 2, term: 7, index: 12, leader: 2, isLeader: true, at: now,
                                     detail: .lease(from: now, until: now + .milliseconds(900), ends: false)))

        let ends = LeadershipEvent.lease(LeaseChange(term: 7, at: now, until: now), index: 13)
        #expect(try decode(EncodedLeadershipEvent(event: ends, node: 2, changesIndex: true, leader: 2), isLeader: false).detail
            == .lease(from: now, until: now, ends: true))

        let unbounded = LeadershipEvent.lease(LeaseChange(term: 1, at: now, until: nil), index: 2)
        #expect(try decode(EncodedLeadershipEvent(event: unbounded, node: 1, changesIndex: true, leader: 1), isLeader: true).detail
            == .lease(from: now, until: nil, ends: false))
    }

    /// Every key the client requires is one the node writes for some event, and the other way round.
    @Test func theNodeWritesExactlyTheContractsKeys() throws {
        var state = LeadershipState(node: 1)
        state.lease = .none
        let encoded: [EncodedLeadershipEvent] = [
            .init(state: state, node: 1, at: now),
            .init(event: .elected(leader: 1, term: 1, isSelf: true, leaderless: nil, isNewLeadership: true, index: 1, at: now),
                  node: 1, changesIndex: true, leader: 1),
            .init(event: .lost(previous: 1, term: 1, index: 2, at: now), node: 1, changesIndex: true, leader: nil),
            .init(event: .lease(LeaseChange(term: 1, at: now, until: now), index: 3), node: 1, changesIndex: true, leader: nil),
        ]
        var written = Set<String>()
        var kinds = Set<String>()
        for event in encoded {
            var parser = ServerSentEventParser()
            let parsed = try parser.feed(Array(event.bytes(isLeader: false).readableBytesView))
            kinds.insert(parsed[0].type)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(parsed[0].data.utf8)) as? [String: Any])
            written.formUnion(object.keys)
        }
        #expect(written == Set(LeadershipStreamEvent.Key.allCases.map(\.rawValue)))
        #expect(kinds == Set(LeadershipStreamEvent.Kind.allCases.map(\.rawValue)))
    }
}
