import BallotRuntime

/// Every timing decision of `ballot run`, as a value: time and events in, actions out.
///
/// It runs CMD only while the node holds a lease, and times the end so that **the whole group is
/// dead before the lease deadline** (docs/architecture.md, "Timing promises"). From the last lease
/// deadline `D` it read, at instant `r`, it arms:
///
///     kill_at = D − margin − killAllowance          SIGKILL to the group
///     stop_at = kill_at − min(grace, (kill_at − r) / 4)   SIGTERM (+ SIGCONT) to the group
///
/// unless a newer lease line re-arms first. The group must be dead by `D − margin`; `killAllowance`
/// is the time SIGKILL is given to take effect. The keeper process executes the armed schedule on
/// its own, so it holds even when the sidecar itself is stopped. Under a lease of a few hundred
/// milliseconds a `--grace` of seconds cannot fit: the child gets at most a quarter of what is left
/// before `kill_at`, and the machine says so once. Not more: the node sends a lease extension only
/// once the deadline moved a quarter of the lease (docs/applications.md), a heartbeat round or two apart,
/// so SIGTERM must come only after the stream has clearly missed an extension — at half of the
/// budget a healthy leader's CMD got SIGTERM whenever one extension came a round late.
///
/// An explicit end — the lease ends, the leader is lost or another is elected, the stream's state
/// says "not leader", the node's process is gone, the term changes — kills at once: the end is
/// already past, and another node may be elected before `D` (a transfer, or fast failover after a
/// crash), so no grace fits.
public struct SidecarMachine: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// SIGTERM-to-SIGKILL time the child gets when it fits before `kill_at`.
        public var grace: Duration = .seconds(2)
        /// The group is dead this long before the lease deadline.
        public var margin: Duration = .milliseconds(20)
        /// SIGKILL goes out this long before `D − margin`: the time it is given to take effect.
        public var killAllowance: Duration = .milliseconds(10)
        public var onExit: OnExit = .resign
        /// First delay before restarting CMD (`--on-exit restart`, or after a refused resignation);
        /// doubles up to `maximumRestartDelay`, back to the first after a run of `steadyRun`.
        public var restartDelay: Duration = .milliseconds(100)
        public var maximumRestartDelay: Duration = .seconds(10)
        public var steadyRun: Duration = .seconds(10)
        /// How long a resignation may take to end the lease before CMD is restarted instead.
        public var resignTimeout: Duration = .seconds(5)
        /// CMD is started only if at least this long is left before `kill_at`: a lease line read late
        /// (a backlog after a stall) would only start a child to stop it at once; a fresher line follows.
        /// Under a short lease (`--lease-duration`) no line leaves that much, so the runway asked is
        /// at most half of what the line left when the node wrote it (``SidecarMachine/runway(for:)``).
        public var minimumRunway: Duration = .milliseconds(50)

        public init() {}
    }

    /// What happens when CMD exits on its own while the node leads.
    public enum OnExit: String, Sendable, CaseIterable {
        /// `POST /resign`: another node takes over (and runs its CMD).
        case resign
        /// Start CMD again (after a growing delay).
        case restart
        /// The sidecar exits with CMD's status.
        case exit
    }

    /// A child to start: who grants it, under which term, and when it must be stopped.
    public struct Grant: Sendable, Equatable {
        public var node: UInt64
        public var term: UInt64
        /// The lease deadline (`nil`: unbounded).
        public var deadline: MonotonicInstant?
        public var schedule: KillSchedule

        public init(node: UInt64, term: UInt64, deadline: MonotonicInstant?, schedule: KillSchedule) {
            self.node = node
            self.term = term
            self.deadline = deadline
            self.schedule = schedule
        }
    }

    public enum Input: Sendable, Equatable {
        /// A stream to the node opened; on `GET /holder`, this sidecar holds the lease as `holder`.
        case connected(holder: String?)
        /// An event of the node's stream.
        case event(LeadershipStreamEvent)
        /// The node's process is gone: its stream closed and a reconnect was refused.
        case nodeGone
        case keeper(KeeperReport)
        /// The keeper's pipe closed: nobody supervises the group any more.
        case keeperLost
        case resignFinished(succeeded: Bool, detail: String)
        /// SIGTERM or SIGINT to the sidecar.
        case signal(Int32)
        /// Time passed (the shell wakes the machine at ``nextWake``).
        case tick
    }

    public enum Action: Sendable, Equatable {
        case spawn(Grant)
        /// The lease moved: announce it to the child and re-arm.
        case extend(term: UInt64, deadline: MonotonicInstant?, schedule: KillSchedule)
        /// SIGTERM to the group now, SIGKILL at `killAt`; `announce` goes on the lease pipe first.
        case terminate(term: UInt64, announce: MonotonicInstant?, killAt: MonotonicInstant?)
        /// SIGKILL to the group now.
        case kill
        /// `POST /resign` on the node.
        case resign
        /// `POST /holder/stopped`: as `holder`, no CMD runs under any lease the stream showed up to
        /// `index`, so the node may release an ended lease early (docs/applications.md). With
        /// `leaving`, the sidecar is exiting and holds nothing any more.
        case confirmStopped(holder: String, index: UInt64, leaving: Bool)
        /// CMD runs (for metrics).
        case childStarted(term: UInt64)
        /// CMD's whole group is gone; `margin` is the lease deadline minus that instant (negative
        /// if the group outlived it), `nil` under an unbounded lease.
        case childGone(margin: Duration?)
        /// The sidecar exits with this status (after the group is gone).
        case exit(Int32)
        /// A line for the sidecar's log.
        case log(String)
    }

    /// The exit statuses of `ballot run` (also in `ballot run --help` and docs/applications.md).
    public enum ExitStatus {
        /// Stopped by SIGTERM/SIGINT; CMD's group is gone.
        public static let stopped: Int32 = 0
        /// The keeper died: the group was killed, nothing supervises CMD any more.
        public static let supervisionLost: Int32 = 70
        /// CMD could not be started (not found, not executable).
        public static let cannotStart: Int32 = 127
    }

    /// The lease as last read from the stream.
    public struct Lease: Sendable, Equatable {
        public var term: UInt64
        /// `nil`: unbounded.
        public var deadline: MonotonicInstant?
        /// When the node wrote the line (its clock, like `deadline`).
        public var published: MonotonicInstant
    }

    /// The current child, from the spawn order until its group is gone.
    struct Child: Sendable, Equatable {
        var term: UInt64
        /// The last deadline announced to it: the one the timing promise is about.
        var deadline: MonotonicInstant?
        var startedAt: MonotonicInstant?
        var signalledTerm = false
        var signalledKill = false
        var exit: ChildExit?
        /// CMD exited without having been signalled.
        var endedOnItsOwn = false
    }

    enum Hold: Sendable, Equatable {
        case none
        /// No start before `until`.
        case delay(until: MonotonicInstant)
        /// A resignation for `term` is under way since `since`.
        case resigning(term: UInt64, since: MonotonicInstant)
    }

    public let configuration: Configuration
    public private(set) var lease: Lease?
    public private(set) var node: UInt64?
    /// This sidecar's name as a lease holder on the current stream, the newest event index read on
    /// it, and the index up to which it last told the node it stopped.
    var holder: String?
    var lastIndex: UInt64 = 0
    var confirmedThrough: UInt64?
    var child: Child?
    var hold = Hold.none
    var exitStatus: Int32?
    var restartDelay: Duration
    var stopRequests = 0
    var saidGraceCut = false
    /// The keeper said it is ready: orders sent before that would wait for its start-up, and a
    /// schedule computed before it could be stale by the time it is read.
    var keeperReady = false

    public init(configuration: Configuration) {
        self.configuration = configuration
        restartDelay = configuration.restartDelay
    }

    /// Whether a CMD group exists (from the spawn order until it is gone).
    public var hasChild: Bool { child != nil }

    /// Whether the node holds a lease, as last read, that still allows CMD to run at `now`.
    public func holdsLease(at now: MonotonicInstant) -> Bool {
        guard let lease else { return false }
        return leaseAllows(term: lease.term, at: now)
    }

    /// When the machine wants a ``Input/tick`` at the latest.
    public var nextWake: MonotonicInstant? {
        var wakes: [MonotonicInstant] = []
        switch hold {
        case .none: break
        case .delay(let until): wakes.append(until)
        case .resigning(_, let since): wakes.append(since + configuration.resignTimeout)
        }
        if let child, !child.signalledKill, let deadline = child.deadline {
            wakes.append(killAt(deadline))
        }
        return wakes.min()
    }

    /// The SIGKILL instant for a deadline.
    public func killAt(_ deadline: MonotonicInstant) -> MonotonicInstant {
        deadline - configuration.margin - configuration.killAllowance
    }

    /// The schedule armed for a lease deadline read at `readAt`.
    public func schedule(deadline: MonotonicInstant?, readAt: MonotonicInstant) -> KillSchedule {
        guard let deadline else { return .never }
        let kill = killAt(deadline)
        let budget = kill - readAt
        guard budget > .zero else { return KillSchedule(stopAt: readAt, killAt: readAt) }
        return KillSchedule(stopAt: kill - min(configuration.grace, budget / 4), killAt: kill)
    }

    public mutating func handle(_ input: Input, at now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        switch input {
        case .connected(let holder):
            // A new registration: it must confirm, even an index an older one confirmed.
            self.holder = holder
            confirmedThrough = nil
            lastIndex = 0  // Indices are the node's; a restarted node counts afresh.
        case .event(let event):
            node = event.node
            lastIndex = max(lastIndex, event.index)
            absorb(event, at: now, into: &actions)
        case .nodeGone:
            if lease != nil { actions.append(.log("the node's process is gone (stream closed, reconnect refused): lease void")) }
            lease = nil
            holder = nil  // Its registration died with the node.
        case .keeper(let report):
            handleKeeper(report, at: now, into: &actions)
        case .keeperLost:
            actions.append(.log("the keeper process is gone: CMD's group is no longer supervised; exiting"))
            child = nil
            actions.append(.exit(ExitStatus.supervisionLost))
            exitStatus = ExitStatus.supervisionLost
            return actions
        case .resignFinished(let succeeded, let detail):
            actions.append(.log(succeeded ? "the node resigned: \(detail)" : "the node refused to resign: \(detail)"))
            if case .resigning = hold {
                if !succeeded {
                    let delay = nextRestartDelay()
                    actions.append(.log("starting CMD again in \(milliseconds(delay)) if still leading"))
                    hold = .delay(until: now + delay)
                }
            }
        case .signal(let signal):
            stopRequests += 1
            if exitStatus == nil { exitStatus = ExitStatus.stopped }
            if var child, !child.signalledKill {
                if stopRequests > 1 {
                    actions.append(.log("signal \(signal) again: SIGKILL to CMD's group"))
                    child.signalledKill = true
                    actions.append(.kill)
                } else {
                    let killAt = min(now + configuration.grace, lease?.deadline.map(killAt) ?? now + configuration.grace)
                    actions.append(.log("signal \(signal): SIGTERM to CMD's group, SIGKILL in \(milliseconds(killAt - now))"))
                    child.signalledTerm = true
                    actions.append(.terminate(term: child.term, announce: nil, killAt: killAt))
                }
                self.child = child
            }
        case .tick:
            break
        }
        reconcile(at: now, into: &actions)
        return actions
    }

    // MARK: - The lease, from the stream

    private mutating func absorb(_ event: LeadershipStreamEvent, at now: MonotonicInstant, into actions: inout [Action]) {
        let before = lease
        switch event.detail {
        case .state(let until, let unbounded):
            if event.isLeader && (until != nil || unbounded) {
                lease = Lease(term: event.term, deadline: unbounded ? nil : until, published: event.at)
            } else {
                lease = nil
            }
        case .lease(let from, let until, let ends):
            lease = ends ? nil : Lease(term: event.term, deadline: until, published: from)
        case .lost:
            lease = nil
        case .elected(let isSelf, _):
            if !isSelf { lease = nil }
        }
        if before != nil, lease == nil, child != nil {
            actions.append(.log("lease of term \(before!.term) ended (\(event.kind.rawValue) event, index \(event.index))"))
        }
    }

    /// How long before `kill_at` a lease line must still leave for CMD to start:
    /// ``Configuration/minimumRunway``, or half of what it left when the node wrote it if that is
    /// less (a short lease), so that only a line read late is passed over.
    func runway(for lease: Lease) -> Duration {
        guard let deadline = lease.deadline else { return .zero }
        return min(configuration.minimumRunway, (killAt(deadline) - lease.published) / 2)
    }

    /// Whether `lease` still allows a child of `term` at `now`.
    private func leaseAllows(term: UInt64, at now: MonotonicInstant) -> Bool {
        guard let lease, lease.term == term else { return false }
        guard let deadline = lease.deadline else { return true }
        return killAt(deadline) > now
    }

    // MARK: - The keeper's reports

    private mutating func handleKeeper(_ report: KeeperReport, at now: MonotonicInstant, into actions: inout [Action]) {
        switch report {
        case .ready:
            keeperReady = true
        case .started(let pid, let at):
            guard var child else { return }
            child.startedAt = at
            self.child = child
            actions.append(.childStarted(term: child.term))
            actions.append(.log("CMD started: pid \(pid), own process group, term \(child.term)"))
        case .spawnFailed(let errno, let message):
            actions.append(.log("cannot start CMD: \(message) (errno \(errno))"))
            child = nil
            exitStatus = ExitStatus.cannotStart
        case .signalled(let signal, let at):
            guard var child else { return }
            let wasSignalled = signal == .terminate ? child.signalledTerm : child.signalledKill
            switch signal {
            case .terminate: child.signalledTerm = true
            case .kill: child.signalledKill = true
            }
            self.child = child
            if !wasSignalled {
                // The keeper acted on the armed schedule.
                let left = child.deadline.map { "\(milliseconds($0 - at)) before the lease deadline" } ?? "without a lease deadline"
                let why = exitStatus == nil ? "no lease extension in time" : "the time allowed after the signal ran out"
                actions.append(.log("\(why): the keeper sent SIG\(signal.rawValue) to CMD's group, \(left)"))
            }
        case .exited(let exit, _):
            guard var child else { return }
            child.exit = exit
            child.endedOnItsOwn = !child.signalledTerm && !child.signalledKill
            self.child = child
            actions.append(.log("CMD \(exit)\(child.endedOnItsOwn ? " on its own" : "")"))
        case .gone(let at):
            guard let child else { return }
            let margin = child.deadline.map { $0 - at }
            actions.append(.childGone(margin: margin))
            if let margin {
                actions.append(.log("CMD's group is gone, \(milliseconds(margin)) before the lease deadline"))
            }
            self.child = nil
            if child.endedOnItsOwn && exitStatus == nil {
                afterOwnExit(child, at: now, into: &actions)
            }
        }
    }

    private mutating func afterOwnExit(_ child: Child, at now: MonotonicInstant, into actions: inout [Action]) {
        if let started = child.startedAt, now - started >= configuration.steadyRun {
            restartDelay = configuration.restartDelay
        }
        switch configuration.onExit {
        case .resign:
            if leaseAllows(term: child.term, at: now) {
                hold = .resigning(term: child.term, since: now)
                actions.append(.log("--on-exit resign: asking the node to resign"))
                actions.append(.resign)
            }
        case .restart:
            let delay = nextRestartDelay()
            hold = .delay(until: now + delay)
            actions.append(.log("--on-exit restart: starting CMD again in \(milliseconds(delay)) if still leading"))
        case .exit:
            exitStatus = (child.exit ?? .exited(0)).shellStatus
        }
    }

    private mutating func nextRestartDelay() -> Duration {
        let delay = restartDelay
        restartDelay = min(restartDelay * 2, configuration.maximumRestartDelay)
        return delay
    }

    // MARK: - What to do now

    private mutating func reconcile(at now: MonotonicInstant, into actions: inout [Action]) {
        confirmIfStopped(into: &actions)
        if var child {
            guard !child.signalledKill, child.exit == nil else { return }
            if leaseAllows(term: child.term, at: now) {
                let deadline = lease!.deadline
                // While stopping for a signal the armed SIGKILL stays: a later deadline cannot make it unsafe.
                if exitStatus == nil && deadline != child.deadline {
                    let schedule = schedule(deadline: deadline, readAt: now)
                    child.deadline = deadline
                    self.child = child
                    noteGraceCut(schedule, into: &actions)
                    actions.append(.extend(term: child.term, deadline: deadline, schedule: schedule))
                }
            } else {
                if let lease, lease.term != child.term {
                    actions.append(.log("the node leads in term \(lease.term) now, CMD runs under term \(child.term): SIGKILL"))
                } else if lease != nil {
                    actions.append(.log("no lease extension before the kill deadline: SIGKILL"))
                } else {
                    actions.append(.log("the lease ended: SIGKILL to CMD's group at once (no time for --grace)"))
                }
                child.signalledKill = true
                self.child = child
                actions.append(.kill)
            }
            return
        }
        if let exitStatus {
            // No CMD, and none will run again: the node need not wait for this sidecar.
            if let holder { actions.append(.confirmStopped(holder: holder, index: lastIndex, leaving: true)) }
            actions.append(.exit(exitStatus))
            return
        }
        switch hold {
        case .none:
            break
        case .delay(let until):
            guard now >= until else { return }
            hold = .none
        case .resigning(let term, let since):
            if lease?.term == term && now - since < configuration.resignTimeout { return }
            if lease?.term == term {
                let delay = nextRestartDelay()
                actions.append(.log("the lease did not end within \(milliseconds(configuration.resignTimeout)) of the resignation; "
                                    + "starting CMD again in \(milliseconds(delay))"))
                hold = .delay(until: now + delay)
                return
            }
            hold = .none
        }
        guard keeperReady, let lease, let node, leaseAllows(term: lease.term, at: now) else { return }
        if let deadline = lease.deadline, killAt(deadline) - now < runway(for: lease) { return }
        let schedule = schedule(deadline: lease.deadline, readAt: now)
        noteGraceCut(schedule, into: &actions)
        child = Child(term: lease.term, deadline: lease.deadline)
        actions.append(.spawn(Grant(node: node, term: lease.term, deadline: lease.deadline, schedule: schedule)))
    }

    /// Tells the node, as a lease holder, that no CMD runs — once the group is gone and the stream
    /// shows no lease, so no CMD can start again before a lease begins at a later index.
    private mutating func confirmIfStopped(into actions: inout [Action]) {
        guard let holder, child == nil, lease == nil, exitStatus == nil, lastIndex > 0,
              confirmedThrough.map({ lastIndex > $0 }) ?? true
        else { return }
        confirmedThrough = lastIndex
        actions.append(.confirmStopped(holder: holder, index: lastIndex, leaving: false))
    }

    private mutating func noteGraceCut(_ schedule: KillSchedule, into actions: inout [Action]) {
        guard !saidGraceCut, let stopAt = schedule.stopAt, let killAt = schedule.killAt,
              killAt - stopAt < configuration.grace
        else { return }
        saidGraceCut = true
        actions.append(.log("--grace \(milliseconds(configuration.grace)) does not fit before the lease deadline: "
                            + "without an extension CMD gets SIGTERM \(milliseconds(killAt - stopAt)) before SIGKILL, "
                            + "which comes \(milliseconds(configuration.margin + configuration.killAllowance)) before the deadline"))
    }
}

func milliseconds(_ duration: Duration) -> String {
    let value = duration.milliseconds
    return value.magnitude >= 100 ? "\(Int(value.rounded())) ms" : "\(Double(Int((value * 10).rounded())) / 10) ms"
}
