import BallotSimulation
import BallotRuntime
import BallotCore
import BallotClient
import Foundation

/// Injects one fault at a time into a ``FaultCluster``: applies it, holds it for a bounded, seeded
/// duration while probing every node, undoes it, and waits (bounded) for a stable leader.
struct FaultInjector {
    let cluster: FaultCluster
    let options: FaultSuite.Options
    let log: @Sendable (String) -> Void

    var timeout: Double { options.electionTimeout.milliseconds }

    /// What one injected fault did.
    struct Outcome {
        /// Milliseconds from the heal to a stable leader, or nil if none came within the bound.
        var recoveryMilliseconds: Double?
        /// Whether the fault stopped the leader's process (SIGKILL, SIGSTOP), which must force an election.
        var forcesElection: Bool
    }

    /// Injects `kind`; nil when it cannot run here (a network fault without namespaces).
    func inject(_ kind: FaultKind, number: Int, random: inout SplitMix64) async throws -> Outcome? {
        let leader = await cluster.waitForStableLeader(timeout: .seconds(3)).map(\.self_)
        let ids = cluster.ids
        // The leader is the interesting target most of the time; otherwise anyone.
        let target = leader.flatMap { random.chance(0.6) ? $0 : nil } ?? ids[Int(random.next() % UInt64(ids.count))]
        var detail = ""
        switch kind {
        case .crash:
            let downtime = random.milliseconds(in: 100...1500)
            detail = "SIGKILL node \(target)\(target == leader ? " (leader)" : ""), restart after \(Int(downtime)) ms"
            begin(number, kind, detail)
            await cluster.probeStatus(target)
            await cluster.kill(target)
            await hold(downtime)
            try cluster.start(target)
            await awaitStatus(of: target)
        case .pause:
            let length = random.milliseconds(in: (timeout * 1.3)...(timeout * 4))
            detail = "SIGSTOP node \(target)\(target == leader ? " (leader)" : "") for \(Int(length)) ms"
            begin(number, kind, detail)
            try await pause(target, for: length, wasLeader: target == leader)
        case .partition, .asymmetric, .bridge:
            var others = ids.filter { $0 != target }.shuffled(using: &random)
            let length = random.milliseconds(in: (timeout * 2)...(timeout * 6))
            guard let lab = cluster.lab else { return nil }
            if let service = cluster.serviceNode {
                // Nodes elected through a coordination service only talk to it: cut one off from it.
                let oneWay = kind == .asymmetric
                let outbound = oneWay && random.chance(0.5)
                let who = "node \(target)\(target == leader ? " (leader)" : "")"
                detail = !oneWay ? "\(who) | the service, \(Int(length)) ms"
                    : outbound ? "\(who) cannot send to the service, \(Int(length)) ms"
                    : "the service cannot send to \(who), \(Int(length)) ms"
                begin(number, kind, detail)
                if !oneWay || outbound { try await lab.block(from: target, to: [service]) }
                if !oneWay || !outbound { try await lab.block(from: service, to: [target]) }
            } else if kind == .bridge {
                let bridge = others.removeFirst()
                let cut = max(1, others.count / 2)
                let a = [target] + others.prefix(cut - 1)
                let b = Array(others.dropFirst(cut - 1))
                detail = "\(a) | \(b), node \(bridge) sees both, \(Int(length)) ms"
                begin(number, kind, detail)
                for x in a { try await lab.block(from: x, to: b) }
                for y in b { try await lab.block(from: y, to: a) }
            } else {
                // A minority that holds the target, against the rest.
                let minority = [target] + others.prefix(Int(random.next() % UInt64((ids.count - 1) / 2)))
                let rest = ids.filter { !minority.contains($0) }
                let oneWay = kind == .asymmetric
                let outbound = oneWay && random.chance(0.5)
                let (from, to) = outbound ? (minority, rest) : (rest, minority)
                detail = oneWay ? "\(from) cannot send to \(to), \(Int(length)) ms" : "\(minority) | \(rest), \(Int(length)) ms"
                begin(number, kind, detail)
                for x in from { try await lab.block(from: x, to: to) }
                if !oneWay { for y in to { try await lab.block(from: y, to: from) } }
            }
            await hold(length)
            try await heal(number)
            return Outcome(recoveryMilliseconds: await recover(number, kind, detail), forcesElection: false)
        case .loss:
            guard let lab = cluster.lab else { return nil }
            let percent = 20 + Int(random.next() % 41)
            let length = random.milliseconds(in: (timeout * 2)...(timeout * 6))
            detail = "\(percent)% loss on every link, \(Int(length)) ms"
            begin(number, kind, detail)
            try await lab.loss(percent, on: ids + (cluster.serviceNode.map { [$0] } ?? []))
            await hold(length)
            try await heal(number)
            return Outcome(recoveryMilliseconds: await recover(number, kind, detail), forcesElection: false)
        case .delay:
            guard let lab = cluster.lab else { return nil }
            let delay = 50 + Int(random.next() % 351)
            let length = random.milliseconds(in: (timeout * 2)...(timeout * 6))
            detail = "node \(target)'s link delayed ~\(delay) ms, \(Int(length)) ms"
            begin(number, kind, detail)
            try await lab.delay(milliseconds: delay, on: target)
            await hold(length)
            try await heal(number)
            return Outcome(recoveryMilliseconds: await recover(number, kind, detail), forcesElection: false)
        case .impostor, .foreignCertificate, .wrongIdentity, .replay:
            return try await intrude(kind, number: number, target: target, leader: leader, random: &random)
        case .serverKill:
            guard let service = cluster.service else { return nil }
            let count = service.serverCount
            let leading = await service.leaderIndex()
            let index = leading.flatMap { random.chance(0.5) ? $0 : nil } ?? Int(random.next() % UInt64(count))
            let downtime = random.milliseconds(in: 500...3000)
            detail = "SIGKILL \(service.serverName(index))\(index == leading ? " (its leader)" : ""), restart after \(Int(downtime)) ms"
            begin(number, kind, detail)
            await service.kill(server: index)
            await hold(downtime)
            try await service.restart(server: index)
            cluster.timeline.append(.faultHealed(number: number, at: SystemMonotonicClock.now.nanoseconds))
            return Outcome(recoveryMilliseconds: await recover(number, kind, detail), forcesElection: false)
        case .duplicate, .transfer, .flap, .disk, .resign, .candidacy:
            // Simulator-only kinds (FaultKind.onRealProcesses): never asked for here.
            return nil
        }
        cluster.timeline.append(.faultHealed(number: number, at: SystemMonotonicClock.now.nanoseconds))
        return Outcome(recoveryMilliseconds: await recover(number, kind, detail), forcesElection: target == leader)
    }

    func begin(_ number: Int, _ kind: FaultKind, _ detail: String) {
        cluster.timeline.append(.faultBegan(number: number, kind: kind, detail: detail, at: SystemMonotonicClock.now.nanoseconds))
    }

    private func heal(_ number: Int) async throws {
        try await cluster.lab?.healAll()
        cluster.timeline.append(.faultHealed(number: number, at: SystemMonotonicClock.now.nanoseconds))
    }

    /// Waits for a stable leader after a heal and logs the fault's line.
    func recover(_ number: Int, _ kind: FaultKind, _ detail: String) async -> Double? {
        let healed = ContinuousClock.now
        var unsettled: String?
        let leader = await cluster.waitForStableLeader(timeout: .nanoseconds(Int64(options.bounds.recovery)),
                                                       lastUnsettled: &unsettled)
        let took = (ContinuousClock.now - healed).milliseconds
        let outcome = leader.map { "leader \($0.self_) term \($0.term) after \(Int(took)) ms" } ?? "NO LEADER within bound"
        log(String(format: "#%-4d %-10@ %@ -> %@", number, kind.rawValue as NSString, detail as NSString, outcome as NSString))
        // A slow recovery says what held it up: who did not answer, or who saw no leader with a lease.
        if took > 1000 || leader == nil, let unsettled { log("      last poll without a stable leader: \(unsettled)") }
        return leader == nil ? nil : took
    }

    /// Probes every running node's `/leader` (but a stopped one) while the fault holds, for `milliseconds`.
    func hold(_ milliseconds: Double, skipping skipped: UInt64? = nil) async {
        let end = ContinuousClock.now + .milliseconds(Int64(milliseconds))
        for _ in 0..<1000 where ContinuousClock.now < end {
            for id in cluster.ids where id != skipped && cluster.node(id).isRunning && ContinuousClock.now < end {
                await cluster.probeLeader(id, timeout: .milliseconds(300))
            }
            let left = end - ContinuousClock.now
            if left > .zero { try? await Task.sleep(for: min(left, .milliseconds(100))) }
        }
    }

    /// The paused-process case. A paused leader is held until the others elected a newer leader
    /// (bounded), requests are queued at it while it sleeps, and right after SIGCONT it is polled
    /// hard on `/leader` and `/metrics`.
    private func pause(_ target: UInt64, for length: Double, wasLeader: Bool) async throws {
        let before = await cluster.probeLeader(target)
        let pausedAt = ContinuousClock.now
        cluster.pause(target)
        await hold(length, skipping: target)
        if wasLeader, let oldTerm = before?.term {
            // Give the others up to 10 T to elect someone newer, so that the resume is the interesting one.
            let others = cluster.ids.filter { $0 != target }
            for _ in 0..<200 where ContinuousClock.now - pausedAt < options.electionTimeout * 10 {
                var newer = false
                for id in others { if let view = await cluster.probeLeader(id), view.isLeader, view.term > oldTerm { newer = true } }
                if newer { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        // Requests sent now are answered first thing after SIGCONT.
        let cluster = self.cluster
        let queued = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await cluster.probeLeader(target, timeout: .seconds(3)) }
                group.addTask { await cluster.probeMetrics(target, timeout: .seconds(3)) }
                group.addTask { await cluster.probeLeader(target, timeout: .seconds(3)) }
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        cluster.resume(target)
        let end = ContinuousClock.now + .milliseconds(Int64(timeout * 2))
        for _ in 0..<500 where ContinuousClock.now < end {
            await cluster.probeLeader(target, timeout: .milliseconds(500))
            await cluster.probeMetrics(target, timeout: .milliseconds(500))
        }
        await queued.value
    }

    /// Polls `/status` of a restarted node until it answers (bounded), recording term and vote.
    private func awaitStatus(of id: UInt64) async {
        for _ in 0..<250 {
            if await cluster.probeStatus(id) != nil { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension SplitMix64 {
    mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }

    mutating func milliseconds(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * Double(next() >> 11) / Double(1 << 53)
    }
}
