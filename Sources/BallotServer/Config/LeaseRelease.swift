/// Issue 15, released hand-overs: when a lease that ended may stop binding this node's successors.
public enum LeaseRelease: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// As soon as every registered holder (`whileLeader` bodies, `ballot run` sidecars connected to
    /// `GET /holder`) confirmed it stopped: a hand-over's successor begins its lease at once.
    case holders
    /// Only at the deadline the node published: for applications that act on `/events`, `/primary`
    /// or a grant until that deadline without registering as holders.
    case deadline

    public var description: String { rawValue }
}
