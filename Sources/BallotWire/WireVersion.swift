/// The protocol versions this implementation speaks, carried in byte 4 of every frame.
///
/// Version 2 (issue 15) is version 1 plus the follower's candidacy in `heartbeat_response` and the
/// `member_info` frame; version 3 adds `lease_released` (released hand-overs), which is never sent
/// on a connection that negotiated less. The frames that open a connection (handshake and reply) are frozen in
/// version 1 for good, so that a node of any later version can still introduce itself to a node of
/// any earlier one; after the handshakes both sides write every frame in the negotiated version.
/// See `docs/protocol.md`, "Versioning".
public enum WireVersion {
    /// The newest version: what a handshake advertises as `max_version`.
    public static let current: UInt8 = 3
    /// The version every connection-opening frame (handshake, handshake reply) is written in.
    public static let setup: UInt8 = 1
    /// The versions this implementation accepts in a frame header; anything else is rejected and
    /// the connection closed.
    public static let supported: ClosedRange<UInt8> = 1...3

    /// The version two peers speak after the handshake: the lower of their advertised maxima.
    ///
    /// Both sides compute it from the two handshakes alone, so no extra round trip is needed.
    public static func negotiated(local: UInt8, remote: UInt8) -> UInt8 { min(local, remote) }
}
