/// The protocol versions this implementation speaks, carried in byte 4 of every frame.
///
/// Version 1 is the only one so far. The handshake frame's layout and its version byte (1) are
/// frozen for good, so that a node of any later version can still introduce itself to a node of
/// any earlier one; see `docs/protocol.md`, "Versioning".
public enum WireVersion {
    /// The version this implementation writes into every frame it sends.
    public static let current: UInt8 = 1
    /// The versions this implementation accepts in a frame header; anything else is rejected and
    /// the connection closed.
    public static let supported: ClosedRange<UInt8> = 1...1

    /// The version two peers speak after the handshake: the lower of their advertised maxima.
    ///
    /// Both sides compute it from the two handshakes alone, so no extra round trip is needed. With
    /// version 1 as the only version, the result is always 1.
    public static func negotiated(local: UInt8, remote: UInt8) -> UInt8 { min(local, remote) }
}
