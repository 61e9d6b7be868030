// The peer-connection lines `ballot serve --events` prints for connections other nodes (or anyone
// else) dialled to this node, so that a supervisor can check that nothing from an unauthenticated
// connection reached the node (`ballot faults`' intruders):
//
//   event=peer_accepted node=1 peer=2 remote=10.213.0.12:40112 auth=tls+secret mono_ns=…
//   event=peer_refused node=1 remote=10.213.0.12:40114 reason=auth established=false delivered=0 mono_ns=…
//   event=peer_closed node=1 peer=2 remote=10.213.0.12:40112 delivered=1234 mono_ns=…
//
// `delivered` counts the election messages the connection handed to the node, counted where they
// are handed over; a connection refused before it was established must show 0.

/// One `event=peer_…` line of `ballot serve --events`.
public struct PeerEventLine: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// An accepted connection completed its handshake: the peer authenticated.
        case accepted = "peer_accepted"
        /// An accepted connection was refused and closed (`reason` says why).
        case refused = "peer_refused"
        /// An established accepted connection ended.
        case closed = "peer_closed"
    }

    public var kind: Kind
    public var node: UInt64
    /// The authenticated peer (accepted and closed lines).
    public var peer: UInt64?
    /// The connection's remote address, `ip:port`.
    public var remote: String
    /// The metric label of a refusal.
    public var reason: String?
    /// Election messages the connection delivered to the node (refused and closed lines).
    public var delivered: Int?
    /// Whether a refused connection had been established before (a member that then misbehaved).
    public var wasEstablished: Bool
    public var monotonicNanoseconds: UInt64

    public init?(parsing line: String) {
        let fields = eventFields(line)
        guard let kindText = fields["event"], let kind = Kind(rawValue: String(kindText)),
              let node = fields["node"].flatMap({ UInt64($0) }), let remote = fields["remote"],
              let mono = fields["mono_ns"].flatMap({ UInt64($0) })
        else { return nil }
        self.kind = kind
        self.node = node
        self.peer = fields["peer"].flatMap { UInt64($0) }
        self.remote = String(remote)
        self.reason = fields["reason"].map(String.init)
        self.delivered = fields["delivered"].flatMap { Int($0) }
        self.wasEstablished = fields["established"] == "true"
        self.monotonicNanoseconds = mono
    }
}
