import BallotCore

extension ClusterSimulator {
    /// Picks an enabled fault that fits the cluster, applies it, and schedules its undo.
    func injectFault() {
        let kinds = FaultKind.allCases.filter { options.faults.contains($0) && fits($0) }
        guard let kind = kinds.randomElement(using: &random) else { return }
        let number = nextFaultNumber
        nextFaultNumber += 1
        let duration = faultDuration()
        var undo: Undo?
        switch kind {
        case .crash:
            guard let index = randomNode(where: { $0.isUp }) else { return }
            crash(index)
            undo = .restart(nodes[index].id)
        case .pause:
            guard let index = randomNode(where: { $0.isUp }) else { return }
            pause(index)
            undo = .resume(nodes[index].id)
        case .partition:
            let (a, b) = randomSplit()
            network.cuts[number] = links(between: a, and: b, bothWays: true)
            trace("partition \(a) | \(b)")
            undo = .network(number)
        case .asymmetric:
            let (a, b) = randomSplit()
            network.cuts[number] = links(between: a, and: b, bothWays: false)
            trace("asymmetric partition: \(a) cannot reach \(b)")
            undo = .network(number)
        case .bridge:
            var (a, b) = randomSplit()
            let bridge = a.count > 1 ? a.removeLast() : b.removeLast()
            network.cuts[number] = links(between: a, and: b, bothWays: true)
            trace("partition \(a) | \(b), node \(bridge) sees both sides")
            undo = .network(number)
        case .loss:
            network.lossBursts[number] = Double.random(in: 0.2...0.8, using: &random)
            trace("message loss burst")
            undo = .network(number)
        case .duplicate:
            network.duplicationBursts[number] = Double.random(in: 0.2...0.6, using: &random)
            trace("message duplication burst")
            undo = .network(number)
        case .delay:
            network.delayBursts[number] = UInt64.random(in: 5...30, using: &random)
            trace("message delay burst")
            undo = .network(number)
        case .transfer:
            requestTransfer()
        case .disk:
            guard let index = randomNode(where: { $0.isUp && !$0.disk.failing }) else { return }
            nodes[index].disk.failing = true
            trace("node \(nodes[index].id)'s disk fails writes")
            undo = .repairDisk(nodes[index].id)
        case .resign:
            requestResignation()
        case .candidacy:
            guard let index = randomNode(where: { $0.isUp && $0.eligible }) else { return }
            setEligible(index, false)
            undo = .eligible(nodes[index].id)
        case .flap:
            // The TCP connection between two nodes breaks and is re-established: what was in flight
            // is lost, briefly, both ways. Reconnecting succeeds, so no shell reports a dead process.
            guard nodes.count >= 2 else { return }
            let pair = membership.members.shuffled(using: &random).prefix(2)
            network.cuts[number] = links(between: [pair.first!], and: [pair.last!], bothWays: true)
            trace("connection \(pair.first!)<->\(pair.last!) flaps")
            queue.schedule(.undo(.network(number)), at: now + UInt64.random(in: 1_000...30_000, using: &random))
        case .serverKill, .impostor, .foreignCertificate, .wrongIdentity, .replay:
            return  // Never picked: `fits` refuses them (FaultKind.isSimulated).
        }
        result.faultsInjected[kind, default: 0] += 1
        if let undo { queue.schedule(.undo(undo), at: now + duration) }
    }

    private func fits(_ kind: FaultKind) -> Bool {
        switch kind {
        case .partition, .asymmetric, .flap: nodes.count >= 2
        case .bridge: nodes.count >= 3
        case .serverKill, .impostor, .foreignCertificate, .wrongIdentity, .replay: false
        default: true
        }
    }

    /// Fault lengths from a short blip to several election timeouts.
    private func faultDuration() -> UInt64 {
        let t = options.electionTimeoutMicroseconds
        return UInt64.random(in: (t / 4)...(t * 6), using: &random)
    }

    private func randomNode(where predicate: (SimulatedNode) -> Bool) -> Int? {
        nodes.indices.filter { predicate(nodes[$0]) }.randomElement(using: &random)
    }

    /// Two non-empty groups of members.
    private func randomSplit() -> ([NodeID], [NodeID]) {
        var shuffled = membership.members.shuffled(using: &random)
        let cut = Int.random(in: 1..<shuffled.count, using: &random)
        let b = Array(shuffled[cut...]).sorted()
        shuffled.removeSubrange(cut...)
        return (shuffled.sorted(), b)
    }

    private func links(between a: [NodeID], and b: [NodeID], bothWays: Bool) -> Set<Link> {
        var cut = Set<Link>()
        for x in a {
            for y in b {
                cut.insert(Link(from: x, to: y))
                if bothWays { cut.insert(Link(from: y, to: x)) }
            }
        }
        return cut
    }

    /// Issue 15: the leader resigns with a hold-off from a short blip to three election timeouts.
    private func requestResignation() {
        guard let leader = nodes.indices.first(where: { nodes[$0].isUp && statuses[$0].role == .leader }) else { return }
        let holdOff = options.tickMicroseconds * UInt64.random(in: 1...(3 * options.electionTimeoutTicks), using: &random)
        trace("node \(nodes[leader].id) resigns, holding off \(holdOff / 1000) ms")
        do {
            try nodes[leader].driver.resign(holdOff: .microseconds(Int64(holdOff)))
        } catch {
            trace("resignation refused: \(error)")
        }
        settle(leader)
    }

    /// Issue 15: `PUT /candidacy`. The setting is durable at once (a crash keeps it); a running node
    /// acts on it now, a paused one when it resumes, a crashed one when it restarts.
    func setEligible(_ index: Int, _ eligible: Bool) {
        nodes[index].eligible = eligible
        trace("node \(nodes[index].id) made \(eligible ? "eligible" : "ineligible")")
        applyEligibility(index)
    }

    /// Tells a running node's driver the stored eligibility, if it does not know it yet.
    func applyEligibility(_ index: Int) {
        guard nodes[index].isUp, nodes[index].driver.halt == nil, nodes[index].driverEligible != nodes[index].eligible
        else { return }
        nodes[index].driverEligible = nodes[index].eligible
        try? nodes[index].driver.setEligible(nodes[index].eligible)
        settle(index)
    }

    private func requestTransfer() {
        guard let leader = nodes.indices.first(where: { nodes[$0].isUp && statuses[$0].role == .leader }),
              let target = membership.peers(of: nodes[leader].id).randomElement(using: &random)
        else { return }
        trace("node \(nodes[leader].id) asked to transfer leadership to \(target)")
        do {
            try nodes[leader].driver.transferLeadership(to: target)
        } catch {
            trace("transfer refused: \(error)")
        }
        settle(leader)
    }

    /// Crash-stop. The kernel closes the dead process's sockets, so every live peer's shell sees
    /// the connection drop and reconnecting refused within a millisecond or two — unless a
    /// partition stands between them, in which case nothing arrives (issue 7's evidence model).
    func crash(_ index: Int) {
        nodes[index].condition = .crashed
        // Its holders stop by the deadline they saw at the latest, which the lease checks keep.
        for holder in nodes[index].holders.holders.indices { nodes[index].holders.holders[holder].acting = false }
        nodes[index].inbox.removeAll()
        nodes[index].wakeAt = nil
        trace("node \(nodes[index].id) crashed (durable: \(nodes[index].disk.state))")
        let crashed = nodes[index].id
        for peer in nodes.indices where peer != index && nodes[peer].condition != .crashed {
            let link = Link(from: crashed, to: nodes[peer].id)
            guard !network.isCut(link) else { continue }
            let delay = UInt64.random(in: 200...2_000, using: &random)
            queue.schedule(.peerUnreachable(crashed, to: nodes[peer].id, incarnation: nodes[peer].incarnation),
                           at: now + delay)
        }
    }

    /// Restarts a crashed (or halted) node from its durable state, with fresh volatile state: a new
    /// driver and core, on the same host clock.
    func restart(_ index: Int) {
        guard nodes[index].condition == .crashed || nodes[index].driver.halt != nil else { return }
        nodes[index].incarnation += 1
        nodes[index].condition = .up
        nodes[index].wakeAt = nil
        nodes[index].inbox.removeAll()
        let node = nodes[index]
        nodes[index].driver = Self.makeDriver(
            node.id, options: options, membership: membership, disk: node.disk, outbox: node.outbox, clock: node.clock,
            observer: node.observer, eligible: node.eligible, random: random.split())
        nodes[index].driverEligible = node.eligible
        nodes[index].holders = SimulatedHolders(count: node.holders.holders.count, view: nodes[index].driver.view)
        trace("node \(node.id) restarted (durable: \(node.disk.state))")
        nodes[index].driver.startClock()
        settle(index)
    }

    /// Stops a node's process (SIGSTOP): its timer stops and arriving messages queue for it.
    func pause(_ index: Int) {
        guard nodes[index].isUp else { return }
        nodes[index].condition = .paused
        trace("node \(nodes[index].id) paused")
    }

    /// Resumes a paused node as the server resumes: every input first delivers the ticks due by
    /// now, so the missed ticks run before the messages that queued. `ticksFirst: false` handles
    /// the messages first — the shell's old, unsafe order — to show that the lease check catches it
    /// (PausedVoterTests).
    func resume(_ index: Int, ticksFirst: Bool = true) {
        guard nodes[index].condition == .paused else { return }
        nodes[index].condition = .up
        trace("node \(nodes[index].id) resumed")
        let inbox = nodes[index].inbox
        nodes[index].inbox.removeAll()
        let driver = nodes[index].driver
        driver.deliversDueTicksBeforeInputs = ticksFirst
        if ticksFirst { driver.deliverDueTicks() }
        for (message, from) in inbox where driver.halt == nil {
            trace("\(from)->\(nodes[index].id) \(describe(message)) (queued)")
            driver.receive(message, from: from)
        }
        driver.deliversDueTicksBeforeInputs = true
        driver.deliverDueTicks()
        settle(index)
        applyEligibility(index)
    }

    func perform(_ undo: Undo) {
        switch undo {
        case .restart(let id): restart(Self.index(of: id))
        case .resume(let id): resume(Self.index(of: id))
        case .network(let number): network.undo(fault: number)
        case .repairDisk(let id): repairDisk(Self.index(of: id))
        case .eligible(let id): setEligible(Self.index(of: id), true)
        }
    }

    /// Makes a node's disk work again and restarts the node if the failure halted it.
    func repairDisk(_ index: Int) {
        guard nodes[index].disk.failing else { return }
        nodes[index].disk.failing = false
        trace("node \(nodes[index].id)'s disk works again")
        if nodes[index].condition != .crashed && nodes[index].driver.halt != nil { restart(index) }
    }

    /// Ends the fault phase: every node up, every link whole, no more loss or duplication.
    func healAll() {
        healedAt = now
        network.healAll()
        trace("all faults healed")
        for index in nodes.indices {
            repairDisk(index)
            switch nodes[index].condition {
            case .crashed: restart(index)
            case .paused: resume(index)
            case .up: break
            }
            if !nodes[index].eligible { setEligible(index, true) }
        }
    }
}
