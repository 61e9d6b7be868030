/// What Bully and Ring share: a coordinator found by election, a failure detector like Raft's, and
/// an epoch standing in for the term. The plumbing lives here once.
protocol CoordinatorElection: ActionBuffering {
    var id: NodeID { get }
    var epoch: Term { get }
    var role: Role { get set }
    var coordinator: NodeID? { get set }
    var reportedLeader: LeaderInfo? { get set }
    var random: SplitMix64 { get set }
    var now: UInt64 { get }
    var silence: UInt64 { get set }
    var failureTimeout: UInt64 { get set }
    var lastCoordinatorContact: UInt64? { get }
    /// T of the failure detector.
    var failureTimeoutTicks: UInt64 { get }
}

extension CoordinatorElection {
    /// No lease: `leaseExpiry` is unbounded while the node believes it is coordinator, so
    /// `holdsLease` means exactly that belief (their split brain is measured, not prevented).
    var coordinatorStatus: NodeStatus {
        NodeStatus(
            id: id, role: role, term: epoch, votedFor: nil, leader: coordinator, lastLog: .empty, now: now,
            ticksSinceLeaderContact: role == .leader ? 0 : lastCoordinatorContact.map { now - $0 },
            leaseExpiry: role == .leader ? UInt64.max : nil, transferTarget: nil)
    }

    /// A fresh failure timeout from [T, 2T), as Raft draws its election timeout (Raft §5.2).
    mutating func resetFailureTimer() {
        silence = 0
        failureTimeout = random.randomizedTimeout(base: failureTimeoutTicks)
    }

    mutating func setRole(_ newRole: Role) {
        guard newRole != role else { return }
        role = newRole
        emit(.roleChanged(newRole, term: epoch))
    }

    /// Reports the leader this node knows, with the epoch as its term, whenever either changes.
    mutating func setLeader(_ newLeader: NodeID?) {
        coordinator = newLeader
        let info = newLeader.map { LeaderInfo(id: $0, term: epoch) }
        guard info != reportedLeader else { return }
        reportedLeader = info
        emit(.leaderChanged(info))
    }
}

extension TimingConfigurationError {
    /// The checks every Raft-like failure detector needs: T of at least 2 ticks and a heartbeat
    /// of at least one tick that is below T.
    static func checkDetector(failureTimeoutTicks t: UInt64, heartbeatIntervalTicks h: UInt64) throws(TimingConfigurationError) {
        guard t >= 2 else { throw .tooShort(setting: "failure timeout", ticks: t, minimum: 2) }
        guard h >= 1 else { throw .tooShort(setting: "heartbeat interval", ticks: h, minimum: 1) }
        guard h < t else {
            throw .notBelow(setting: "heartbeat interval", ticks: h, limitSetting: "failure timeout", limit: t)
        }
    }
}
