import NIOCore
import Synchronization

/// The connection cap of one listener, shared by the connections of every event loop.
///
/// At the cap a new connection first takes the place of the connection that has been idle the
/// longest (waiting for its next request, or a new one that has sent nothing yet); only when no
/// connection is idle is the new one refused (503). So connections that merely sit open — a flood
/// of them, or many keep-alive clients — can never lock `/healthz` and `/metrics` out; what can
/// fill the cap is connections with requests in progress, each bounded by the request timeout
/// or by what its route does.
final class ConnectionLimiter: Sendable {
    typealias ID = UInt64

    let capacity: Int
    private let metrics: HTTPMetrics
    private let state = Mutex(State())

    private struct State {
        var nextID: ID = 0
        /// Every admitted connection that has not been released or evicted, for closing them all
        /// when the listener stops (an HTTP/1.1 connection has no task that would).
        var members: [ID: any Channel] = [:]
        /// Admitted connections that are idle now, with when they became idle and how to close them.
        var idle: [ID: (since: NIODeadline, channel: any Channel)] = [:]
    }

    init(capacity: Int, metrics: HTTPMetrics) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.metrics = metrics
    }

    /// Admits a new connection, closing the longest-idle one if the cap is reached; nil when the
    /// cap is reached and nothing is idle.
    func admit(_ channel: any Channel) -> ID? {
        let (id, evicted) = state.withLock { state -> (ID?, (any Channel)?) in
            var evicted: (any Channel)?
            if state.members.count >= capacity {
                guard let oldest = state.idle.min(by: { $0.value.since < $1.value.since }) else { return (nil, nil) }
                state.idle[oldest.key] = nil
                state.members[oldest.key] = nil
                evicted = oldest.value.channel
            }
            state.nextID += 1
            state.members[state.nextID] = channel
            return (state.nextID, evicted)
        }
        if let evicted {
            metrics.closedConnection(.evicted)
            metrics.connections.decrement()
            evicted.close(promise: nil)
        }
        if id != nil { metrics.connections.increment() } else { metrics.closedConnection(.overLimit) }
        return id
    }

    /// The connection waits for a request from now on, and may be evicted.
    func becameIdle(_ id: ID, at instant: NIODeadline, channel: any Channel) {
        state.withLock { state in
            if state.members[id] != nil { state.idle[id] = (instant, channel) }
        }
    }

    /// The connection has a request in progress and must not be evicted.
    func becameBusy(_ id: ID) {
        _ = state.withLock { $0.idle.removeValue(forKey: id) }
    }

    /// The connection closed. Releasing an evicted connection does nothing (it was counted then).
    func release(_ id: ID) {
        let wasMember = state.withLock { state in
            state.idle[id] = nil
            return state.members.removeValue(forKey: id) != nil
        }
        if wasMember { metrics.connections.decrement() }
    }

    /// Closes every connection still open (the listener stopped); each releases itself as it closes.
    func closeAll() {
        for channel in state.withLock({ Array($0.members.values) }) { channel.close(promise: nil) }
    }

    var openConnections: Int { state.withLock { $0.members.count } }
}
