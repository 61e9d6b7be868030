import BallotBuildInfo
import BallotClient
import BallotCore
import BallotRuntime

extension BallotNode {
    /// The body of `GET /status`, after delivering the ticks due by now: the leadership view, the
    /// core's vote and log position, and each peer's connection and latest round trip.
    /// `wallClockNow` (Unix seconds) dates the history entries.
    public func statusReport(wallClockNow: Double) -> NodeStatusReport {
        catchUp()
        let now = driver.now
        let status = driver.status
        let state = view.current
        let peers = membership.peers(of: id).map { peer in
            NodeStatusReport.Peer(id: peer.rawValue, connected: outbox.isConnected(peer),
                                  lastRoundTripMs: driver.lastRoundTrip(to: peer)?.milliseconds,
                                  lastHeardMs: driver.lastHeard(from: peer).map { max(now - $0, .zero).milliseconds },
                                  http: members.advertisedHTTP(of: peer))
        }
        let changes = state.history.map { NodeStatusReport.Change($0, now: now, wallClockNow: wallClockNow) }
        let lastContact: Duration? = state.role == .leader ? .zero : state.lastLeaderContact.map { max(now - $0, .zero) }
        var report = NodeStatusReport(
            id: id.rawValue, role: state.role.rawValue, term: state.term.rawValue,
            leader: state.leader?.id.rawValue, isLeader: state.isLeader(at: now), votedFor: status.votedFor?.rawValue,
            lastLog: status.lastLog.description, lastContactMs: lastContact?.milliseconds, peers: peers,
            recentLeadershipChanges: changes, halted: state.halt.map(\.description),
            eligible: candidacyStore == nil ? nil : status.candidacy.eligible,
            priority: candidacyStore == nil ? nil : status.candidacy.priority)
        report.http = members.advertisedHTTP(of: id)
        report.version = BuildInfo.version
        report.leaseRemainingMs = state.lease == .unbounded ? nil : state.leaseRemaining(at: now)?.milliseconds
        report.leaseHolders = view.holderCount
        return report
    }
}

extension NodeStatusReport.Change {
    /// A history entry as `/status` shows it, dated in Unix seconds from one reading of both clocks.
    public init(_ record: LeadershipRecord, now: MonotonicInstant, wallClockNow: Double) {
        self.init(
            leader: record.leader?.rawValue, term: record.term.rawValue, unixTime: wallClockNow - (now - record.at).seconds,
            leaderlessMs: (record.leaderless ?? .zero).milliseconds)
    }
}
