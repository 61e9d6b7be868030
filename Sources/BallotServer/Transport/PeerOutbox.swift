import BallotCore
import BallotRuntime
import BallotWire
import NIOCore
import Synchronization

/// The node's way out to each peer: the established connection it dialled, if there is one.
///
/// The node never waits for the network: a frame for a peer without an established connection, or
/// whose connection already holds more unsent bytes than its high-water mark (a slow or stuck
/// peer), is dropped at once and counted. Raft tolerates the loss; a slow or dead peer never
/// delays the others. The node and its connections share one event loop, so a frame that is sent
/// goes to the socket right away, with no queue or thread in between.
public final class PeerOutbox: MessageOutbox, Sendable {
    /// Unsent bytes a connection may hold before frames to that peer are dropped: a few hundred
    /// frames, far more than an election needs, and stale long before they would be sent.
    public static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 4 * 1024, high: 16 * 1024)

    private struct Lane {
        var channel: (any Channel)?
        var generation = 0
        /// The protocol version the connection negotiated.
        var version = WireVersion.setup
    }

    private let lanes: Mutex<[NodeID: Lane]>
    /// Counts messages sent (with their framed bytes) and dropped.
    let recorder: MetricsRecorder?

    public init(peers: [NodeID], recorder: MetricsRecorder? = nil) {
        lanes = Mutex(Dictionary(uniqueKeysWithValues: peers.map { ($0, Lane()) }))
        self.recorder = recorder
    }

    /// Sends an election message as a frame, counting it (or its drop) in the metrics.
    public func send(_ message: Message, to peer: NodeID) -> SendOutcome {
        let frame = PeerFrame.message(message)
        switch send(frame, to: peer) {
        case .queued(let bytes):
            recorder?.messageSent(message.kind, bytes: bytes)
            return .queued
        case .droppedNotConnected, .droppedQueueFull:
            recorder?.peerQueueDropped(peer)
            return .dropped
        case .notInPeerVersion:
            return .dropped  // A peer of an older release: it would not understand, and needs not.
        }
    }

    /// What became of one frame.
    public enum FrameOutcome: Hashable, Sendable {
        /// Written, as `bytes` bytes in the connection's protocol version.
        case queued(bytes: Int)
        case droppedNotConnected
        case droppedQueueFull
        /// The frame type is newer than the connection's protocol version (see
        /// ``FrameType/introducedIn``); not sent, not counted as a drop.
        case notInPeerVersion
    }

    /// Writes `frame` on the connection to `peer`, in the version that connection negotiated.
    public func send(_ frame: PeerFrame, to peer: NodeID) -> FrameOutcome {
        guard let lane = lanes.withLock({ $0[peer] }), let channel = lane.channel else { return .droppedNotConnected }
        guard frame.frameType.introducedIn <= lane.version else { return .notInPeerVersion }
        guard channel.isWritable else { return .droppedQueueFull }
        channel.writeAndFlush(OutboundFrame(frame, version: lane.version), promise: nil)
        return .queued(bytes: FrameEncoder.encodedByteCount(of: frame, version: lane.version))
    }

    /// Makes `channel` the way to `peer` (replacing an older connection, whose unsent frames are
    /// stale by now), speaking protocol `version`. Returns a handle for ``detach(_:generation:)``.
    func attach(_ peer: NodeID, channel: any Channel, version: UInt8) -> Int {
        lanes.withLock { lanes in
            var lane = lanes[peer] ?? Lane()
            lane.channel = channel
            lane.version = version
            lane.generation += 1
            lanes[peer] = lane
            return lane.generation
        }
    }

    /// Forgets the connection to `peer` that ended, unless a newer one replaced it.
    func detach(_ peer: NodeID, generation: Int) {
        lanes.withLock { lanes in
            guard var lane = lanes[peer], lane.generation == generation else { return }
            lane.channel = nil
            lanes[peer] = lane
        }
    }

    public func isConnected(_ peer: NodeID) -> Bool {
        lanes.withLock { $0[peer]?.channel != nil }
    }
}
