import BallotCore

/// What one scripted run measured, and the promised properties it broke.
struct ScriptOutcome: Sendable {
    var samples: [ComparisonScenario: PhaseSample] = [:]
    var violations: [Violation] = []
}

/// Runs the comparison scripts on a ``ScriptedCluster``: every phase is driven by the script, not by
/// random faults, and every wait is bounded in virtual time.
struct ScriptRunner {
    var cluster: ScriptedCluster
    let settings: ComparisonSettings
    let algorithm: ElectionAlgorithmKind
    let seed: UInt64
    /// Decides the script's own random choices (the instant of the first fault).
    var random: SplitMix64
    var outcome = ScriptOutcome()

    static func run(
        _ script: ComparisonScript, algorithm: ElectionAlgorithmKind, nodes: Int, index: Int, settings: ComparisonSettings
    ) -> ScriptOutcome {
        let seed = settings.seed(script: script, nodes: nodes, index: index)
        var runner = ScriptRunner(settings: settings, algorithm: algorithm, nodes: nodes, seed: seed)
        switch script {
        case .crash: runner.crashScript()
        case .doubleCrash: runner.doubleCrashScript()
        case .partition: runner.partitionScript()
        case .flapping: runner.flappingScript()
        }
        runner.outcome.violations += runner.cluster.violations
        return runner.outcome
    }

    init(settings: ComparisonSettings, algorithm: ElectionAlgorithmKind, nodes: Int, seed: UInt64) {
        self.settings = settings
        self.algorithm = algorithm
        self.seed = seed
        random = SplitMix64(seed: seed ^ 0x5C21_7ED5_C4A1_0000)
        let template = settings.template
        cluster = ScriptedCluster(nodes: nodes, seed: seed) { options in
            options.algorithm = algorithm
            options.tickMicroseconds = template.tickMicroseconds
            options.electionTimeoutTicks = template.electionTimeoutTicks
            options.heartbeatIntervalTicks = template.heartbeatIntervalTicks
            options.clockDrift = template.clockDrift
            options.network.minDelayMicroseconds = template.network.minDelayMicroseconds
            options.network.maxDelayMicroseconds = template.network.maxDelayMicroseconds
            options.preVote = template.preVote
            options.checkQuorum = template.checkQuorum
            options.leaderStickiness = template.leaderStickiness
            options.fastFailover = template.fastFailover
            options.leaseLimit = template.leaseLimit
            // No priorities here, so the preemption window never opens; it must only be valid
            // (at least T) for whatever T the comparison runs with.
            options.preemptAfterTicks = max(template.preemptAfterTicks, template.electionTimeoutTicks)
        }
    }

    // MARK: Durations (virtual milliseconds)

    var t: Double { settings.electionTimeoutMilliseconds }
    var bound: Double { settings.stabilityBoundTimeouts * t }
    var settle: Double { settings.settleTimeouts * t }
    var rejoinWindow: Double { settings.rejoinWindowTimeouts * t }

    // MARK: Scripts

    /// Cold start, then the leader crashes, then it restarts.
    mutating func crashScript() {
        let boot = cluster.counters
        guard let (leader, stableAt) = cluster.runUntilStableLeader(among: cluster.members, limit: bound) else {
            return livenessFailure("no leader known to all within \(settings.stabilityBoundTimeouts) T of a cold start")
        }
        cluster.run(milliseconds: settle)
        outcome.samples[.coldStart] = sample(since: boot, stableAt: stableAt)

        pauseBeforeFault()
        let crash = cluster.counters
        cluster.crash(leader)
        let live = cluster.members.filter { $0 != leader }
        let newLeader = cluster.runUntilStableLeader(among: live, limit: bound)
        if newLeader == nil { livenessFailure("no new leader within \(settings.stabilityBoundTimeouts) T of its crash") }
        cluster.run(milliseconds: settle)
        var crashSample = sample(since: crash, stableAt: newLeader?.at)
        rejoin([leader], following: newLeader?.leader, into: &crashSample)
        outcome.samples[.leaderCrash] = crashSample
        requireFinalLeader()
    }

    /// The leader crashes; at the first campaign, so does the node this election would elect.
    mutating func doubleCrashScript() {
        guard let leader = warmUp() else { return }
        pauseBeforeFault()
        let crash = cluster.counters
        cluster.crash(leader)
        let live = cluster.members.filter { $0 != leader }
        // A copy of the cluster (a value) shows who would win; the real one replays the same history.
        var probe = cluster
        var crashed = [leader]
        if let winner = probe.runUntilStableLeader(among: live, limit: bound)?.leader {
            _ = cluster.runUntilCampaign(among: live, limit: bound)
            if cluster.isUp(winner) {
                cluster.crash(winner)
                crashed.append(winner)
            }
        }
        let survivors = cluster.members.filter { !crashed.contains($0) }
        let newLeader = cluster.runUntilStableLeader(among: survivors, limit: bound)
        // Raft promises progress only while a majority is up; Bully and Ring with anyone up.
        let promised = algorithm != .raft || survivors.count >= cluster.members.count / 2 + 1
        if newLeader == nil && promised {
            livenessFailure("no new leader within \(settings.stabilityBoundTimeouts) T of two crashes")
        }
        cluster.run(milliseconds: settle)
        var phase = sample(since: crash, stableAt: newLeader?.at)
        rejoin(crashed, following: newLeader?.leader, into: &phase)
        outcome.samples[.crashDuringElection] = phase
        requireFinalLeader()
    }

    /// The leader's minority is cut off for the partition's length, then the partition heals.
    mutating func partitionScript() {
        guard let leader = warmUp() else { return }
        pauseBeforeFault()
        let others = cluster.members.filter { $0 != leader }
        let minority = [leader] + others.prefix(max(0, (cluster.members.count - 1) / 2 - 1))
        let majority = cluster.members.filter { !minority.contains($0) }
        let start = cluster.counters
        let cut = cluster.partition(minority, from: majority)
        let duration = settings.partitionTimeouts * t
        // Measured, not required: how soon the majority side has a leader is the point of the phase
        // (a Ring token skips each unreachable member only after an acknowledgement timeout).
        let majorityLeader = cluster.runUntilStableLeader(among: majority, limit: duration)
        runUntil(start.time, plus: duration)
        outcome.samples[.partition] = sample(since: start, stableAt: majorityLeader?.at)

        cluster.heal(cut)
        let heal = cluster.counters
        let healed = cluster.runUntilStableLeader(among: cluster.members, limit: bound)
        if healed == nil { livenessFailure("no leader known to all within \(settings.stabilityBoundTimeouts) T of healing") }
        cluster.run(milliseconds: settle)
        runUntil(heal.time, plus: rejoinWindow)
        var phase = sample(since: heal, stableAt: healed?.at)
        if let majorityLeader {
            phase.rejoinLeaderChanges = claims(since: heal.time).count
            phase.rejoinLeaderSwitches = switches(from: majorityLeader.leader, since: heal.time)
            phase.rejoinElectionMessages = phase.electionMessages
        }
        outcome.samples[.partitionHeal] = phase
    }

    /// The link between the leader and the lowest other member fails and recovers repeatedly.
    mutating func flappingScript() {
        guard let leader = warmUp(), let peer = cluster.members.first(where: { $0 != leader }) else { return }
        pauseBeforeFault()
        let start = cluster.counters
        for cycle in 0..<settings.flapCycles {
            let cut = cluster.cutLink(leader, peer)
            cluster.run(milliseconds: settings.flapDownTimeouts * t)
            cluster.heal(cut)
            if cycle < settings.flapCycles - 1 { cluster.run(milliseconds: settings.flapUpTimeouts * t) }
        }
        let lastRepair = cluster.counters.time
        let stable = cluster.runUntilStableLeader(among: cluster.members, limit: bound)
        if stable == nil {
            livenessFailure("no leader known to all within \(settings.stabilityBoundTimeouts) T of the last repair")
        }
        cluster.run(milliseconds: settle)
        var phase = sample(since: start, stableAt: nil)
        phase.stableMicroseconds = stable.map { $0.at.microseconds - lastRepair.microseconds }
        phase.rejoinLeaderChanges = claims(since: start.time).count
        phase.rejoinLeaderSwitches = switches(from: leader, since: start.time)
        outcome.samples[.flappingLink] = phase
    }

    // MARK: Steps

    /// A cold start that is not measured: the leader, once all follow it and it settled.
    mutating func warmUp() -> NodeID? {
        guard let (leader, _) = cluster.runUntilStableLeader(among: cluster.members, limit: bound) else {
            livenessFailure("no leader known to all within \(settings.stabilityBoundTimeouts) T of a cold start")
            return nil
        }
        cluster.run(milliseconds: settle)
        return leader
    }

    /// A random wait of up to T/2, so that faults land anywhere in the heartbeat cycle.
    mutating func pauseBeforeFault() {
        cluster.run(milliseconds: Double.random(in: 0..<(t / 2), using: &random))
    }

    /// Restarts `nodes` and watches the rejoin window: the new leader terms it brings, how many
    /// of them displace `leader`, and the election messages sent meanwhile. Where there was no
    /// leader to displace, nothing is recorded: a new leader then is recovery, not disruption.
    mutating func rejoin(_ nodes: [NodeID], following leader: NodeID?, into phase: inout PhaseSample) {
        let before = cluster.counters
        for node in nodes { cluster.restart(node) }
        cluster.run(milliseconds: rejoinWindow)
        guard let leader else { return }
        phase.rejoinLeaderChanges = claims(since: before.time).count
        phase.rejoinLeaderSwitches = switches(from: leader, since: before.time)
        phase.rejoinElectionMessages = cluster.counters.since(before).electionMessages
    }

    /// After the script's last fault, every node must follow one leader within the bound.
    mutating func requireFinalLeader() {
        if cluster.runUntilStableLeader(among: cluster.members, limit: bound) == nil {
            livenessFailure("no leader known to all within \(settings.stabilityBoundTimeouts) T after the rejoin")
        }
    }

    mutating func runUntil(_ start: VirtualTime, plus milliseconds: Double) {
        let end = start.microseconds + UInt64(milliseconds * 1000)
        let now = cluster.now.microseconds
        if end > now { cluster.run(milliseconds: Double(end - now) / 1000) }
    }

    /// New (leader, term) claims since `time`, in order.
    func claims(since time: VirtualTime) -> [LeaderClaim] {
        cluster.leaderClaims.filter { $0.at >= time }
    }

    /// How often the claims since `time` changed who leads, starting from `leader`.
    func switches(from leader: NodeID, since time: VirtualTime) -> Int {
        var current = leader
        var count = 0
        for claim in claims(since: time) where claim.leader != current {
            count += 1
            current = claim.leader
        }
        return count
    }

    func sample(since before: SimulationCounters, stableAt: VirtualTime?) -> PhaseSample {
        let phase = cluster.counters.since(before)
        return PhaseSample(
            seed: seed, electionMessages: phase.electionMessages, electionBytes: phase.electionBytes,
            allMessages: phase.messages,
            stableMicroseconds: stableAt.map { $0.microseconds - before.time.microseconds },
            splitBrainMicroseconds: phase.splitBrainMicroseconds)
    }

    mutating func livenessFailure(_ detail: String) {
        outcome.violations.append(Violation(time: cluster.now, property: .liveness, detail: detail))
    }
}
