import BallotCore
import Foundation

/// The body of `GET /status`: this node's beliefs, its peers, and recent leadership changes.
public struct NodeStatusReport: Codable, Sendable {
    public struct Peer: Codable, Sendable {
        public var id: UInt64
        public var connected: Bool
        public var lastRoundTripMs: Double?
    }

    public struct Change: Codable, Sendable {
        public var leader: UInt64?
        public var term: UInt64
        public var unixTime: Double
        public var leaderlessMs: Double
    }

    public var id: UInt64
    public var role: String
    public var term: UInt64
    public var leader: UInt64?
    public var isLeader: Bool
    public var votedFor: UInt64?
    public var lastLog: String
    /// Milliseconds since this node last heard from its leader (0 on the leader, null if never).
    public var lastContactMs: Double?
    public var peers: [Peer]
    public var recentLeadershipChanges: [Change]
    public var halted: String?
}

extension BallotNode {
    /// Whether a live leader is known now, as `/readyz` reports it.
    func readinessView() -> (ready: Bool, leader: NodeID?, term: Term) {
        deliverDueTicks()
        let status = core.status
        let ready: Bool
        if status.role == .leader {
            ready = leaseIsValid(status, at: clock.now)
        } else if status.leader != nil, let since = status.ticksSinceLeaderContact {
            ready = tick * Int(clamping: since) < electionTimeout
        } else {
            ready = false
        }
        return (ready && halted == nil, status.leader, status.term)
    }

    func statusReport(outbox: PeerOutbox) -> NodeStatusReport {
        deliverDueTicks()
        let status = core.status
        let peers = membership.peers(of: id).map { peer in
            NodeStatusReport.Peer(id: peer.rawValue, connected: outbox.isConnected(peer),
                                  lastRoundTripMs: lastRoundTrip[peer]?.milliseconds)
        }
        let changes = recentChanges.map {
            NodeStatusReport.Change(leader: $0.leader?.rawValue, term: $0.term.rawValue, unixTime: $0.unixTime,
                                    leaderlessMs: $0.leaderless.milliseconds)
        }
        return NodeStatusReport(
            id: id.rawValue, role: status.role.rawValue, term: status.term.rawValue, leader: status.leader?.rawValue,
            isLeader: leaseIsValid(status, at: clock.now), votedFor: status.votedFor?.rawValue,
            lastLog: status.lastLog.description,
            lastContactMs: status.ticksSinceLeaderContact.map { (tick * Int(clamping: $0)).milliseconds },
            peers: peers, recentLeadershipChanges: changes, halted: halted.map { "\($0)" })
    }
}
