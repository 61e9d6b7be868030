import BallotCore
import BallotWire
import Synchronization

/// What the members say about themselves (protocol version 2's `member_info`): this node's own
/// advertised HTTP URL, and the latest each peer sent. `GET /leader` answers `leader_http` from it,
/// and a cluster-wide status can reach every member through it.
///
/// Safe from any thread; the transport writes it on the node's loop, HTTP routes read it anywhere.
public final class MemberDirectory: Sendable {
    public let local: NodeID
    /// What this node advertises (`--advertise-http`), sent to every peer after the handshakes.
    public let localInfo: MemberInfo
    private let peers: Mutex<[NodeID: MemberInfo]> = Mutex([:])

    public init(local: NodeID, localInfo: MemberInfo) {
        self.local = local
        self.localInfo = localInfo
    }

    /// Keeps what `peer` said about itself (the newest wins).
    func record(_ info: MemberInfo, from peer: NodeID) {
        peers.withLock { $0[peer] = info }
    }

    /// The advertised HTTP URL of `member` (this node's own for itself); `nil` if it advertises
    /// none, or has not said so yet (a version-1 peer never does).
    public func advertisedHTTP(of member: NodeID) -> String? {
        if member == local { return localInfo.advertisedHTTP }
        return peers.withLock { $0[member]?.advertisedHTTP }
    }

    /// Every member's advertised URL that is known, this node's included.
    public var advertisedHTTPByMember: [NodeID: String] {
        var result = peers.withLock { $0.compactMapValues(\.advertisedHTTP) }
        if let own = localInfo.advertisedHTTP { result[local] = own }
        return result
    }
}
