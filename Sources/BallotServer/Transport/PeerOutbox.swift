import BallotCore
import BallotWire
import Synchronization

/// Per-peer bounded queues between the node and its outbound connections.
///
/// The node never waits for the network: a frame for a peer without an established connection, or
/// whose queue is full, is dropped at once and counted. Raft tolerates the loss; a slow or dead peer
/// never delays the others.
public final class PeerOutbox: Sendable {
    public enum Outcome: Hashable, Sendable {
        case queued
        case droppedNotConnected
        case droppedQueueFull
    }

    private struct Lane {
        var continuation: AsyncStream<PeerFrame>.Continuation?
        var generation = 0
    }

    public let capacity: Int
    private let lanes: Mutex<[NodeID: Lane]>

    public init(peers: [NodeID], capacity: Int = 256) {
        self.capacity = capacity
        lanes = Mutex(Dictionary(uniqueKeysWithValues: peers.map { ($0, Lane()) }))
    }

    public func send(_ frame: PeerFrame, to peer: NodeID) -> Outcome {
        let continuation = lanes.withLock { $0[peer]?.continuation }
        guard let continuation else { return .droppedNotConnected }
        switch continuation.yield(frame) {
        case .enqueued: return .queued
        case .dropped: return .droppedQueueFull
        case .terminated: return .droppedNotConnected
        @unknown default: return .droppedNotConnected
        }
    }

    /// Opens a fresh queue for a newly established connection; frames queued for an earlier
    /// connection are discarded (they are stale by now). Returns the queue and a handle for ``detach``.
    func attach(_ peer: NodeID) -> (frames: AsyncStream<PeerFrame>, generation: Int) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PeerFrame.self, bufferingPolicy: .bufferingOldest(capacity))
        let (old, generation) = lanes.withLock { lanes -> (AsyncStream<PeerFrame>.Continuation?, Int) in
            var lane = lanes[peer] ?? Lane()
            let old = lane.continuation
            lane.continuation = continuation
            lane.generation += 1
            lanes[peer] = lane
            return (old, lane.generation)
        }
        old?.finish()
        return (stream, generation)
    }

    /// Closes the queue of a connection that ended, unless a newer one replaced it.
    func detach(_ peer: NodeID, generation: Int) {
        let old = lanes.withLock { lanes -> AsyncStream<PeerFrame>.Continuation? in
            guard var lane = lanes[peer], lane.generation == generation else { return nil }
            let old = lane.continuation
            lane.continuation = nil
            lanes[peer] = lane
            return old
        }
        old?.finish()
    }

    public func isConnected(_ peer: NodeID) -> Bool {
        lanes.withLock { $0[peer]?.continuation != nil }
    }
}
