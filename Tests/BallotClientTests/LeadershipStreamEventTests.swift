import BallotClient
import BallotRuntime
import Testing

/// The `/events` data contract (docs/applications.md): every key present, types exact, contradictions refused.
struct LeadershipStreamEventTests {
    private func decode(_ type: String, _ data: String) throws(LeadershipStreamEvent.Problem) -> LeadershipStreamEvent {
        try LeadershipStreamEvent(ServerSentEvent(type: type, data: data, lastEventID: "1"))
    }

    private let common = #""node":2,"term":7,"index":12,"leader":2,"is_leader":true,"mono_ns":1000"#

    @Test func aStateWithALeaseCarriesItsDeadline() throws {
        let event = try decode("state", "{\(common),\"lease_until_mono_ns\":5000,\"lease_unbounded\":false}")
        #expect(event == LeadershipStreamEvent(
            node: 2, term: 7, index: 12, leader: 2, isLeader: true, at: MonotonicInstant(nanoseconds: 1000),
            detail: .state(leaseUntil: MonotonicInstant(nanoseconds: 5000), leaseUnbounded: false)))
        #expect(event.kind == .state)
    }

    @Test func anUnboundedLeaseIsNullWithTheFlag() throws {
        let event = try decode("state", "{\(common),\"lease_until_mono_ns\":null,\"lease_unbounded\":true}")
        #expect(event.detail == .state(leaseUntil: nil, leaseUnbounded: true))
        #expect(throws: LeadershipStreamEvent.Problem.self) {
            try decode("state", "{\(common),\"lease_until_mono_ns\":5,\"lease_unbounded\":true}")
        }
    }

    @Test func electedLostAndLeaseDecode() throws {
        let elected = try decode("elected", #"{"node":1,"term":7,"index":3,"leader":2,"is_leader":false,"mono_ns":9,"is_self":false,"leaderless_ms":12.5}"#)
        #expect(elected.detail == .elected(isSelf: false, leaderlessMilliseconds: 12.5))
        #expect(elected.leader == 2 && !elected.isLeader)
        let lost = try decode("lost", #"{"node":1,"term":7,"index":4,"leader":null,"is_leader":false,"mono_ns":9,"previous":2}"#)
        #expect(lost.detail == .lost(previous: 2))
        #expect(lost.leader == nil)
        let lease = try decode("lease", "{\(common),\"from_mono_ns\":100,\"until_mono_ns\":400,\"ends\":false}")
        #expect(lease.detail == .lease(from: MonotonicInstant(nanoseconds: 100), until: MonotonicInstant(nanoseconds: 400), ends: false))
        let ended = try decode("lease", "{\(common),\"from_mono_ns\":100,\"until_mono_ns\":100,\"ends\":true}")
        #expect(ended.detail == .lease(from: MonotonicInstant(nanoseconds: 100), until: MonotonicInstant(nanoseconds: 100), ends: true))
    }

    @Test func aMissingKeyIsRefusedEvenForAValueThatMayBeNull() {
        // `leader` may be null but not absent.
        #expect(throws: LeadershipStreamEvent.Problem.malformed(type: "lost", detail: "missing key \"leader\"")) {
            try decode("lost", #"{"node":1,"term":7,"index":4,"is_leader":false,"mono_ns":9,"previous":2}"#)
        }
        #expect(throws: LeadershipStreamEvent.Problem.self) {
            try decode("elected", "{\(common),\"is_self\":true}")
        }
    }

    @Test func wrongTypesAndNonObjectsAreRefused() {
        #expect(throws: LeadershipStreamEvent.Problem.self) {
            try decode("lost", #"{"node":"1","term":7,"index":4,"leader":null,"is_leader":false,"mono_ns":9,"previous":2}"#)
        }
        #expect(throws: LeadershipStreamEvent.Problem.self) { try decode("state", "not json") }
        #expect(throws: LeadershipStreamEvent.Problem.self) { try decode("state", "[1,2]") }
    }

    @Test func aLeaseWhoseEndsFlagContradictsItsInstantsIsRefused() {
        #expect(throws: LeadershipStreamEvent.Problem.self) {
            try decode("lease", "{\(common),\"from_mono_ns\":100,\"until_mono_ns\":400,\"ends\":true}")
        }
        #expect(throws: LeadershipStreamEvent.Problem.self) {
            try decode("lease", "{\(common),\"from_mono_ns\":100,\"until_mono_ns\":null,\"ends\":true}")
        }
    }

    @Test func anUnknownTypeIsReportedAsSuch() {
        #expect(throws: LeadershipStreamEvent.Problem.unknownType("message")) { try decode("message", "{}") }
    }
}
