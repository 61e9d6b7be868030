/// The faults Ballot is tested against: one vocabulary for the simulator and for real processes
/// (`ballot faults`, the failover benchmark), each kind meaning the same in both. Every fault is
/// undone when it heals. Not every kind can be injected everywhere: see ``onRealProcesses``.
public enum FaultKind: String, Hashable, Sendable, CaseIterable, Codable, Comparable {
    /// Crash-stop: volatile state is lost, durable state survives, the node restarts later. On a
    /// real process: SIGKILL, then a restart from the data directory (spelt `kill` in older flags).
    case crash
    /// The process freezes (SIGSTOP, a long GC pause) for longer than the election timeout, then
    /// resumes: no ticks, messages queue up.
    case pause
    /// The cluster splits into two groups that cannot talk.
    case partition
    /// Messages flow one way only between two groups.
    case asymmetric
    /// Two groups cannot talk, but one node sees both sides.
    case bridge
    /// A burst of heavy message loss.
    case loss
    /// A burst of message duplication.
    case duplicate
    /// A burst of long delays, which also reorders messages.
    case delay
    /// The leader is asked to hand leadership to a random member.
    case transfer
    /// The connection between two nodes breaks and is re-established at once (messages in flight
    /// are lost). Reconnecting succeeds, so no shell reports the peer's process gone.
    case flap
    /// A node's disk fails its writes (a failed write or fsync). The node halts at its next
    /// persist, exactly as the server does, and is restarted when the fault heals (as a supervisor
    /// restarts a process whose health check fails).
    case disk
    /// An intruder with no credentials dials a member's peer port claiming to be another member and
    /// sends forged election messages (a higher term, vote requests). Real processes only.
    case impostor
    /// An intruder with a certificate from another CA that names a member (`ballot://<cluster>/<id>`).
    /// Real processes only.
    case foreignCertificate = "foreign-cert"
    /// An intruder with a valid certificate from the cluster's CA, but for another node than the
    /// one its handshake claims: a member speaking for another. Real processes only.
    case wrongIdentity = "wrong-identity"
    /// An eavesdropper replays, byte for byte, a recorded connection of a real member. Real
    /// processes only.
    case replay
    /// SIGKILL of one server of the coordination service's ensemble (etcd, ZooKeeper), restarted
    /// after a while: only for real processes run with `--backend etcd|zookeeper` (the simulator has
    /// no coordination service, and never picks it).
    case serverKill = "server-kill"

    /// Issue 15: the leader resigns (`POST /resign`) with a random hold-off. Opt-in (not in
    /// ``standard``); simulator-only so far (the end-to-end tests resign real leaders).
    case resign
    /// Issue 15: a node is made ineligible (`PUT /candidacy`), and eligible again when the fault
    /// heals; it keeps the setting across a crash, as its data directory would. Opt-in.
    case candidacy

    /// The faults a schedule injects unless told otherwise: all but issue 15's operator actions,
    /// so that default schedules (and the regression seeds) keep the histories they always had.
    public static let standard: Set<FaultKind> = Set(allCases.filter(\.isSimulated)).subtracting([.resign, .candidacy])

    /// The kinds the real-process fault suite injects (the others are simulator-only: their real
    /// counterparts are covered elsewhere — transfers and flapping links by the end-to-end tests,
    /// disk failures by the storage tests).
    public static let onRealProcesses: [FaultKind] = [
        .crash, .pause, .partition, .asymmetric, .bridge, .loss, .delay,
        .impostor, .foreignCertificate, .wrongIdentity, .replay,
    ]

    /// An intruder at the peer port: refused only where peers authenticate (mutual TLS and/or the
    /// cluster secret), so the fault suite injects these only into clusters that do.
    public var isIntruder: Bool {
        switch self {
        case .impostor, .foreignCertificate, .wrongIdentity, .replay: true
        default: false
        }
    }

    /// Whether injecting it into real processes needs network namespaces.
    public var needsNetwork: Bool {
        switch self {
        case .partition, .asymmetric, .bridge, .loss, .delay, .duplicate, .flap: true
        case .crash, .pause, .transfer, .disk, .resign, .candidacy, .serverKill, .impostor, .foreignCertificate, .wrongIdentity,
             .replay: false
        }
    }

    /// Whether the simulator injects it: it has no coordination service to kill a server of, and
    /// the intruders act on the transport's authentication, which it does not model (its network
    /// carries election messages, not connections).
    public var isSimulated: Bool { self != .serverKill && !isIntruder }

    /// Parses a kind as flags spell it, accepting the older `kill` for ``crash``.
    public init?(named name: String) {
        if name == "kill" {
            self = .crash
        } else {
            self.init(rawValue: name)
        }
    }

    public static func < (a: FaultKind, b: FaultKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
