import BallotRuntime
import CProcessSupport
import Glibc

/// The keeper of `ballot run`: the parent of CMD's process group, a small single-threaded process
/// that the sidecar starts once and commands over a pipe (``KeeperOrder``, ``KeeperReport``).
///
/// Why a second process: a sidecar killed with SIGKILL cannot kill its child, and a stopped one
/// cannot keep time. The keeper has no network, no threads and no allocations on its hot path, and:
///
/// - executes the last armed ``KillSchedule`` by itself (SIGTERM + SIGCONT at `stopAt`, SIGKILL at
///   `killAt`), so CMD's group dies in time even while the sidecar is stopped;
/// - kills the whole group when the sidecar's pipe closes (the sidecar died), then exits;
/// - is a child subreaper: CMD's orphaned descendants are re-parented to it and reaped, so "no
///   process of the group is left" (`kill(-pgid, 0)` fails with ESRCH) is a fact, not a guess;
/// - when CMD exits, kills what it left in its group (as systemd's `KillMode=control-group` does);
/// - holds a TCP connection of its own to the node's HTTP port (``NodeLink``) and kills the group
///   the instant the node's process is gone (its connection ends and a reconnect is refused), in the
///   same wake-up, without waiting for the sidecar to read it from its stream.
///
/// Descendants that leave the group (`setsid`) escape it; docs/applications.md says so.
public enum GroupKeeper {
    /// Where the sidecar puts the keeper's pipes.
    public static let controlDescriptor: Int32 = 3
    public static let reportDescriptor: Int32 = 4
    /// Where CMD finds its lease pipe (`BALLOT_LEASE_FD`).
    public static let leaseDescriptor: Int32 = 3

    /// Runs the keeper for `command` until the sidecar's pipe closes; returns the process's exit status.
    /// `nodeHost`/`nodePort`: the node's HTTP endpoint, watched for the death of its process.
    /// `readEvents`: the endpoint is plain HTTP, so the keeper reads `GET /events` itself too.
    public static func run(command: [String], nodeHost: String?, nodePort: Int?, readEvents: Bool) -> Int32 {
        var keeper = State(command: command)
        if let nodeHost, let nodePort {
            keeper.link = NodeLink(host: nodeHost, port: nodePort, readEvents: readEvents)
            if keeper.link == nil { keeper.say("cannot resolve \(nodeHost):\(nodePort); the node's death is learnt from the sidecar only") }
        }
        return keeper.loop()
    }

    private struct Child {
        var pid: pid_t
        /// The term CMD was started under.
        var term: UInt64
        var leaseWriter: Int32
        var schedule: KillSchedule
        var terminated = false
        var killed = false
        var exited = false
    }

    private struct State {
        let command: [String]
        var child: Child?
        var pending: [UInt8] = []
        var sidecarGone = false
        var link: NodeLink?

        init(command: [String]) { self.command = command }

        mutating func loop() -> Int32 {
            for descriptor in [GroupKeeper.controlDescriptor, GroupKeeper.reportDescriptor] {
                _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            }
            // Orders are drained before the schedule is judged: see ``readOrders()``.
            _ = fcntl(GroupKeeper.controlDescriptor, F_SETFL, fcntl(GroupKeeper.controlDescriptor, F_GETFL) | O_NONBLOCK)
            // The sidecar forwards SIGTERM/SIGINT itself; the keeper must outlive them to finish the job.
            for ignored in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT] { signal(ignored, SIG_IGN) }
            if ballot_become_subreaper() != 0 { say("cannot become a child subreaper (errno \(errno)); orphans go to init") }
            // The keeper sleeps almost always and must wake on time: on a busy machine an ordinary
            // process can wait tens of milliseconds for a CPU. Real-time priority, when the process
            // may have it (CAP_SYS_NICE or RLIMIT_RTPRIO), not inherited by CMD.
            if ballot_realtime_scheduling(1) != 0 {
                say("runs at normal priority (real-time scheduling refused: \(String(cString: strerror(errno)))); "
                    + "on a busy machine its signals may come late; grant CAP_SYS_NICE or RLIMIT_RTPRIO to ballot run")
            }
            // SIGCHLD stays blocked except inside ppoll, which it then interrupts: no lost wake-up.
            signal(SIGCHLD) { _ in }
            var blocked = sigset_t()
            sigemptyset(&blocked)
            sigaddset(&blocked, SIGCHLD)
            sigprocmask(SIG_BLOCK, &blocked, nil)
            var waitMask = sigset_t()
            sigemptyset(&waitMask)

            report(.ready(pid: getpid()))
            while true {
                var descriptors = [pollfd(fd: GroupKeeper.controlDescriptor, events: Int16(POLLIN), revents: 0)]
                if let entry = link?.pollEntry { descriptors.append(entry) }
                var timeout = nextTimeout()
                if let due = link?.nextDue {
                    let now = SystemMonotonicClock.now
                    let untilDue = due > now ? due.nanoseconds - now.nanoseconds : 0
                    timeout = min(timeout ?? .max, untilDue)
                }
                let result: Int32
                if let timeout {
                    var spec = timespec(tv_sec: Int(timeout / 1_000_000_000), tv_nsec: Int(timeout % 1_000_000_000))
                    result = ballot_ppoll(&descriptors, nfds_t(descriptors.count), &spec, &waitMask)
                } else {
                    result = ballot_ppoll(&descriptors, nfds_t(descriptors.count), nil, &waitMask)
                }
                if result < 0 && errno != EINTR {
                    say("ppoll failed (errno \(errno))")
                }
                // Every order already sent comes first: a schedule the sidecar has re-armed since must
                // not fire (a spawn or a wake-up late on a loaded machine would otherwise act on it).
                if result > 0 && descriptors[0].revents != 0 { readOrders() }
                if link != nil {
                    let revents = result > 0 && descriptors.count > 1 ? descriptors[1].revents : 0
                    for event in link!.service(revents: revents, at: SystemMonotonicClock.now) {
                        switch event {
                        case .refused: nodeGone()
                        case .leadership(let event): judge(event)
                        }
                    }
                }
                reap()
                fireSchedule()
                if sidecarGone { return finish() }
            }
        }

        /// Nanoseconds until something is due, or nil to wait for input only.
        func nextTimeout() -> UInt64? {
            guard let child else { return nil }
            // A dying group is checked every millisecond until no member is left.
            if child.killed || child.exited { return 1_000_000 }
            let now = SystemMonotonicClock.now
            var due: [MonotonicInstant] = []
            if !child.terminated, let stopAt = child.schedule.stopAt { due.append(stopAt) }
            if let killAt = child.schedule.killAt { due.append(killAt) }
            guard let next = due.min() else { return nil }
            return next > now ? next.nanoseconds - now.nanoseconds : 0
        }

        mutating func fireSchedule() {
            guard var child, !child.killed else { return }
            let now = SystemMonotonicClock.now
            if let killAt = child.schedule.killAt, now >= killAt {
                signalGroup(&child, SIGKILL)
            } else if !child.terminated, let stopAt = child.schedule.stopAt, now >= stopAt {
                signalGroup(&child, SIGTERM)
            }
            self.child = child
        }

        /// An event of the node's own stream: one written while the node did not lead in CMD's term,
        /// or one of a newer term, ends CMD's group now. (Events of older terms are stale news.)
        mutating func judge(_ event: LeadershipStreamEvent) {
            guard var child, !child.killed, !child.exited, event.term >= child.term else { return }
            guard event.term > child.term || !event.isLeader else { return }
            signalGroup(&child, SIGKILL)
            self.child = child
            say("the node's own stream says it does not lead in term \(child.term) (\(event.kind.rawValue) event, index \(event.index)): "
                + "SIGKILL to CMD's group")
        }

        /// The node's process is gone: fast failover may elect another leader before this lease's
        /// deadline, so CMD's group dies now.
        mutating func nodeGone() {
            guard var child, !child.killed, !child.exited else { return }
            signalGroup(&child, SIGKILL)
            self.child = child
            say("the node's process is gone (its connection ended, a new one was refused): SIGKILL to CMD's group")
        }

        mutating func signalGroup(_ child: inout Child, _ signal: Int32) {
            kill(-child.pid, signal)
            if signal == SIGKILL {
                child.killed = true
                report(.signalled(.kill, at: SystemMonotonicClock.now))
            } else {
                // A stopped member would hold SIGTERM pending forever; SIGCONT lets it act on it.
                kill(-child.pid, SIGCONT)
                child.terminated = true
                report(.signalled(.terminate, at: SystemMonotonicClock.now))
            }
        }

        /// Reaps every ended child (CMD and re-parented descendants); reports CMD's end and, once no
        /// member of its group is left, the group's.
        mutating func reap() {
            var status: Int32 = 0
            while true {
                let pid = waitpid(-1, &status, WNOHANG)
                guard pid > 0 else { break }
                if var child, pid == child.pid, !child.exited {
                    child.exited = true
                    report(.exited(ProcessSpawn.decode(status), at: SystemMonotonicClock.now))
                    // What CMD left behind in its group goes with it.
                    kill(-child.pid, SIGKILL)
                    self.child = child
                }
            }
            guard let child, child.exited else { return }
            if kill(-child.pid, 0) == -1 && errno == ESRCH {
                report(.gone(at: SystemMonotonicClock.now))
                close(child.leaseWriter)
                self.child = nil
            }
        }

        /// Reads and obeys every order the pipe holds (it is non-blocking), including those sent
        /// while an earlier one was carried out; the pipe's end means the sidecar is gone.
        mutating func readOrders() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !sidecarGone {
                let count = read(GroupKeeper.controlDescriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count < 0 && errno == EAGAIN { return }
                guard count > 0 else {
                    sidecarGone = true
                    return
                }
                pending += buffer[..<count]
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    guard let order = KeeperOrder(line: line) else {
                        say("ignoring an order it does not understand: \(line)")
                        continue
                    }
                    obey(order)
                }
            }
        }

        mutating func obey(_ order: KeeperOrder) {
            switch order {
            case .spawn(let node, let term, let deadline, let schedule):
                guard child == nil else {
                    say("ignoring a spawn order while CMD's group still exists")
                    return
                }
                spawn(node: node, term: term, deadline: deadline, schedule: schedule)
            case .lease(let term, let deadline, let schedule):
                guard var child, !child.killed, !child.exited else { return }
                announce(child, term: term, deadline: deadline)
                child.schedule = schedule
                child.terminated = false
                self.child = child
            case .stop(let term, let announce, let killAt):
                guard var child, !child.killed, !child.exited else { return }
                if let announce { self.announce(child, term: term, deadline: announce) }
                child.schedule = KillSchedule(stopAt: nil, killAt: killAt)
                signalGroup(&child, SIGTERM)
                self.child = child
            case .kill:
                guard var child, !child.killed, !child.exited else { return }
                signalGroup(&child, SIGKILL)
                self.child = child
            }
        }

        mutating func spawn(node: UInt64, term: UInt64, deadline: MonotonicInstant?, schedule: KillSchedule) {
            var pipe: [Int32] = [0, 0]
            guard ballot_pipe_cloexec(&pipe) == 0 else {
                report(.spawnFailed(errno: errno, message: "cannot create the lease pipe"))
                return
            }
            // The child may never read: a full pipe must drop lines, never block the keeper.
            _ = fcntl(pipe[1], F_SETFL, fcntl(pipe[1], F_GETFL) | O_NONBLOCK)
            _ = write(pipe[1], leasePipeLine(term: term, deadline: deadline))
            var request = ProcessSpawn.Request(executable: command[0], arguments: command,
                                               environment: Self.environment(node: node, term: term))
            request.newProcessGroup = true
            request.descriptors = [(pipe[0], GroupKeeper.leaseDescriptor)]
            do {
                let pid = try ProcessSpawn.spawn(request)
                close(pipe[0])
                child = Child(pid: pid, term: term, leaseWriter: pipe[1], schedule: schedule)
                report(.started(pid: pid, at: SystemMonotonicClock.now))
            } catch {
                close(pipe[0])
                close(pipe[1])
                report(.spawnFailed(errno: error.errno, message: error.description))
            }
        }

        func announce(_ child: Child, term: UInt64, deadline: MonotonicInstant?) {
            _ = write(child.leaseWriter, leasePipeLine(term: term, deadline: deadline))
        }

        /// The keeper's environment, with the grant's variables set.
        static func environment(node: UInt64, term: UInt64) -> [String] {
            ProcessSpawn.inheritedEnvironment(overriding: [
                "BALLOT_NODE_ID=\(node)", "BALLOT_TERM=\(term)", "BALLOT_FENCING_TOKEN=\(term)",
                "BALLOT_LEASE_FD=\(GroupKeeper.leaseDescriptor)",
            ])
        }

        /// The sidecar is gone: kill the group, wait (bounded) until no member is left, exit.
        mutating func finish() -> Int32 {
            if var child, !child.killed {
                kill(-child.pid, SIGKILL)
                child.killed = true
                self.child = child
            }
            for _ in 0..<10_000 where child != nil {
                reap()
                if child != nil { usleep(1000) }
            }
            if child != nil { say("CMD's group did not die within 10 s of SIGKILL") }
            return 0
        }

        func report(_ report: KeeperReport) {
            _ = write(GroupKeeper.reportDescriptor, report.line + "\n")
        }

        func say(_ text: String) {
            _ = write(2, "ballot run (keeper): \(text)\n")
        }
    }
}

/// Writes all of `text` (short writes retried), ignoring errors: the keeper never blocks on them.
@discardableResult
private func write(_ descriptor: Int32, _ text: String) -> Int {
    var bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
        if result > 0 { written += result } else if result < 0 && errno == EINTR { continue } else { break }
    }
    return written
}
