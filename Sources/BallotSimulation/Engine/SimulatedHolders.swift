import BallotCore
import BallotRuntime
import Synchronization

/// Issue 15: what acts under one node's lease, as `whileLeader` bodies or sidecars' children do.
///
/// Each holder acts from the moment its node announces a lease until it stops, a random while after
/// it saw the lease end (mostly a few milliseconds, sometimes longer than the lease, as a stalled
/// sidecar would), and then confirms to the node's view — which is what lets the node release the
/// lease early. The simulator checks that no node releases a lease while one of its holders acts.
final class SimulatedHolders {
    struct Holder {
        var token: LeadershipView.HolderToken
        var acting = false
        /// The view index of the newest lease beginning this holder saw.
        var lastBegin: UInt64 = 0
    }

    var holders: [Holder]
    /// Lease events of the node's view not yet handled by the simulator (the listener fills it).
    private let pending = EventInbox()

    /// Registers `count` holders with `view`.
    init(count: Int, view: LeadershipView) {
        holders = (0..<count).map { _ in Holder(token: view.registerHolder()) }
        attach(to: view)
    }

    private init(copying other: SimulatedHolders) {
        holders = other.holders
        pending.events.withLock { $0 = other.pending.events.withLock { $0 } }
    }

    /// The same holders, watching `view` (a forked node's copy of the registry).
    func fork(onto view: LeadershipView) -> SimulatedHolders {
        let copy = SimulatedHolders(copying: self)
        copy.attach(to: view)
        return copy
    }

    private func attach(to view: LeadershipView) {
        guard !holders.isEmpty else { return }
        view.addListener { [pending] event in
            if case .lease = event { pending.events.withLock { $0.append(event) } }
        }
    }

    /// Takes the lease events seen since the last call.
    func takeEvents() -> [LeadershipEvent] {
        pending.events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }

    var anyActing: Bool { holders.contains { $0.acting } }
}

/// Where a view's listener leaves events for the simulator (listeners must be `Sendable`).
private final class EventInbox: Sendable {
    let events = Mutex<[LeadershipEvent]>([])
}

extension ClusterSimulator {
    /// How many holders a node has: ``SimulationOptions/leaseHolders``, or 0 to 2 drawn per node.
    func holderCount() -> Int {
        options.leaseHolders ?? Int(holderRandom.next() % 3)
    }

    /// Handles the lease events the node's holders saw: a beginning sets them acting; an end has
    /// each stop after its own delay.
    func noteHolderEvents(of index: Int) {
        let set = nodes[index].holders
        let events = set.takeEvents()
        for case .lease(let change, let eventIndex) in events {
            for holder in set.holders.indices {
                if change.ends {
                    let delay = holderStopDelay()
                    queue.schedule(.holderStops(nodes[index].id, incarnation: nodes[index].incarnation, holder: holder,
                                                through: eventIndex), at: now + delay)
                } else if !set.holders[holder].acting {
                    set.holders[holder].acting = true
                    set.holders[holder].lastBegin = eventIndex
                }
            }
        }
    }

    /// Mostly within two ticks; one time in five up to two election timeouts.
    private func holderStopDelay() -> UInt64 {
        let tick = options.tickMicroseconds
        if holderRandom.next() % 5 == 0 {
            return UInt64.random(in: 0...(2 * options.electionTimeoutTicks * tick), using: &holderRandom)
        }
        return UInt64.random(in: 0...(2 * tick), using: &holderRandom)
    }

    /// Holder `holder` of node `id` stopped after the lease end at view index `through` and says so.
    func holderStops(_ id: NodeID, holder: Int, through: UInt64) {
        let index = Self.index(of: id)
        let set = nodes[index].holders
        guard holder < set.holders.count else { return }
        if set.holders[holder].lastBegin <= through { set.holders[holder].acting = false }
        trace("node \(id)'s holder \(holder) stopped (through index \(through))")
        nodes[index].driver.view.holderStopped(set.holders[holder].token, through: through)
        nodes[index].driver.releaseLeaseIfHoldersStopped()
        settle(index)
    }
}
