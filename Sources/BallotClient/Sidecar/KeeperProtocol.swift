import BallotRuntime

// `ballot run` is two processes: the sidecar (watches the node's /holder stream, decides) and its keeper
// (parent of CMD's process group, carries the decisions out). They talk over two pipes, one line
// per message, instants as CLOCK_MONOTONIC nanoseconds and `-` for "never":
//
//   sidecar → keeper   spawn <node> <term> <deadline> <stop_at> <kill_at>
//                      lease <term> <deadline> <stop_at> <kill_at>
//                      stop <term> <announce> <kill_at>
//                      kill
//   keeper → sidecar   ready <pid>
//                      started <pid> <at>
//                      failed <errno> <message…>
//                      signalled <TERM|KILL> <at>
//                      exited <code|signal> <n> <at>
//                      gone <at>
//
// The keeper executes the last schedule it was given on its own (SIGTERM at stop_at, SIGKILL at
// kill_at), so a sidecar that stops being scheduled (SIGSTOP, a stall) still has its group killed
// in time; and it kills the group when the sidecar's pipe closes, so a sidecar killed with SIGKILL
// leaves no orphans.

/// When the keeper signals CMD's group unless told otherwise first: SIGTERM (then SIGCONT) at
/// `stopAt`, SIGKILL at `killAt`. `nil` is never (an unbounded lease).
public struct KillSchedule: Sendable, Equatable {
    public var stopAt: MonotonicInstant?
    public var killAt: MonotonicInstant?

    public init(stopAt: MonotonicInstant?, killAt: MonotonicInstant?) {
        self.stopAt = stopAt
        self.killAt = killAt
    }

    public static let never = KillSchedule(stopAt: nil, killAt: nil)
}

/// How CMD ended.
public enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    /// The status a shell would report: the code, or 128 + the signal number.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        }
    }
}

/// The signals the keeper sends to the group on its schedule.
public enum GroupSignal: String, Sendable, Equatable {
    case terminate = "TERM"
    case kill = "KILL"
}

/// An order from the sidecar to its keeper.
public enum KeeperOrder: Sendable, Equatable {
    /// Start CMD in a new process group for `term` (node `node`), announce `deadline` on its lease
    /// pipe and arm `schedule`.
    case spawn(node: UInt64, term: UInt64, deadline: MonotonicInstant?, schedule: KillSchedule)
    /// The lease moved: announce it on the pipe and re-arm.
    case lease(term: UInt64, deadline: MonotonicInstant?, schedule: KillSchedule)
    /// SIGTERM (and SIGCONT) to the group now, SIGKILL at `killAt`; `announce` (if any) is written
    /// on the lease pipe first, so a cooperating child learns the lease's end.
    case stop(term: UInt64, announce: MonotonicInstant?, killAt: MonotonicInstant?)
    /// SIGKILL to the group now.
    case kill

    public var line: String {
        switch self {
        case .spawn(let node, let term, let deadline, let schedule):
            "spawn \(node) \(term) \(encode(deadline)) \(encode(schedule.stopAt)) \(encode(schedule.killAt))"
        case .lease(let term, let deadline, let schedule):
            "lease \(term) \(encode(deadline)) \(encode(schedule.stopAt)) \(encode(schedule.killAt))"
        case .stop(let term, let announce, let killAt):
            "stop \(term) \(encode(announce)) \(encode(killAt))"
        case .kill:
            "kill"
        }
    }

    public init?(line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        switch (words.first, words.count) {
        case ("spawn", 6):
            guard let node = UInt64(words[1]), let term = UInt64(words[2]), let deadline = decode(words[3]),
                  let stopAt = decode(words[4]), let killAt = decode(words[5])
            else { return nil }
            self = .spawn(node: node, term: term, deadline: deadline, schedule: KillSchedule(stopAt: stopAt, killAt: killAt))
        case ("lease", 5):
            guard let term = UInt64(words[1]), let deadline = decode(words[2]), let stopAt = decode(words[3]),
                  let killAt = decode(words[4])
            else { return nil }
            self = .lease(term: term, deadline: deadline, schedule: KillSchedule(stopAt: stopAt, killAt: killAt))
        case ("stop", 4):
            guard let term = UInt64(words[1]), let announce = decode(words[2]), let killAt = decode(words[3])
            else { return nil }
            self = .stop(term: term, announce: announce, killAt: killAt)
        case ("kill", 1):
            self = .kill
        default:
            return nil
        }
    }
}

/// A report from the keeper to the sidecar.
public enum KeeperReport: Sendable, Equatable {
    /// The keeper runs and is ready for orders.
    case ready(pid: Int32)
    /// CMD started; its process group ID is `pid`.
    case started(pid: Int32, at: MonotonicInstant)
    /// CMD could not be started (`errno` from posix_spawn).
    case spawnFailed(errno: Int32, message: String)
    /// The keeper signalled the group on its schedule or on an order.
    case signalled(GroupSignal, at: MonotonicInstant)
    /// CMD itself ended (its group may still have members, which the keeper kills).
    case exited(ChildExit, at: MonotonicInstant)
    /// No process of CMD's group is left.
    case gone(at: MonotonicInstant)

    public var line: String {
        switch self {
        case .ready(let pid): "ready \(pid)"
        case .started(let pid, let at): "started \(pid) \(at.nanoseconds)"
        case .spawnFailed(let errno, let message): "failed \(errno) \(message)"
        case .signalled(let signal, let at): "signalled \(signal.rawValue) \(at.nanoseconds)"
        case .exited(.exited(let code), let at): "exited code \(code) \(at.nanoseconds)"
        case .exited(.signalled(let signal), let at): "exited signal \(signal) \(at.nanoseconds)"
        case .gone(let at): "gone \(at.nanoseconds)"
        }
    }

    public init?(line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        func instant(_ word: Substring) -> MonotonicInstant? { UInt64(word).map(MonotonicInstant.init(nanoseconds:)) }
        switch (words.first, words.count) {
        case ("ready", 2):
            guard let pid = Int32(words[1]) else { return nil }
            self = .ready(pid: pid)
        case ("started", 3):
            guard let pid = Int32(words[1]), let at = instant(words[2]) else { return nil }
            self = .started(pid: pid, at: at)
        case ("failed", let count) where count >= 2:
            guard let errno = Int32(words[1]) else { return nil }
            self = .spawnFailed(errno: errno, message: words.dropFirst(2).joined(separator: " "))
        case ("signalled", 3):
            guard let signal = GroupSignal(rawValue: String(words[1])), let at = instant(words[2]) else { return nil }
            self = .signalled(signal, at: at)
        case ("exited", 4):
            guard let number = Int32(words[2]), let at = instant(words[3]) else { return nil }
            switch words[1] {
            case "code": self = .exited(.exited(number), at: at)
            case "signal": self = .exited(.signalled(number), at: at)
            default: return nil
            }
        case ("gone", 2):
            guard let at = instant(words[1]) else { return nil }
            self = .gone(at: at)
        default:
            return nil
        }
    }
}

/// One line of the child's lease pipe (`BALLOT_LEASE_FD`): `<term> <deadline>` with the deadline
/// as CLOCK_MONOTONIC nanoseconds, or `inf` for a lease without end (a cluster of one).
public func leasePipeLine(term: UInt64, deadline: MonotonicInstant?) -> String {
    "\(term) \(deadline.map { "\($0.nanoseconds)" } ?? "inf")\n"
}

private func encode(_ instant: MonotonicInstant?) -> String {
    instant.map { "\($0.nanoseconds)" } ?? "-"
}

/// `-` is nil (never); a number is an instant; anything else fails (the outer optional).
private func decode(_ word: Substring) -> MonotonicInstant?? {
    if word == "-" { return .some(nil) }
    guard let value = UInt64(word) else { return nil }
    return .some(MonotonicInstant(nanoseconds: value))
}
