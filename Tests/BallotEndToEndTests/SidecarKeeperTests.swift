import BallotClient
import BallotRuntime
import Foundation
import Glibc
import Testing

/// `ballot run`'s keeper on real processes, commanded over its pipes exactly as the sidecar does:
/// the whole group dies on schedule — a child that ignores SIGTERM, its children, and a grandchild
/// orphaned by a double fork — and nothing survives the sidecar's death.
@Suite(.serialized)
struct SidecarKeeperTests {
    /// A script that ignores SIGTERM, starts a child that ignores it too, orphans a grandchild
    /// (double fork), writes every PID to `$D/pids` and its grant to `$D/grant`, then waits.
    static let stubborn = """
        trap '' TERM
        read -r line <&3
        echo "$BALLOT_NODE_ID $BALLOT_TERM $BALLOT_FENCING_TOKEN $BALLOT_LEASE_FD $line" > "$D/grant"
        chrt -p $$ > "$D/policy" 2>&1
        echo $$ >> "$D/pids"
        sleep 1000 & echo $! >> "$D/pids"
        sh -c 'trap "" TERM; sleep 1000 & echo $! >> "$D/pids"; wait' & echo $! >> "$D/pids"
        ( sleep 1000 & echo $! >> "$D/pids" )
        wait
        """

    @Test func aChildIgnoringSIGTERMAndEveryDescendantAreDeadOnScheduleBeforeTheDeadline() throws {
        let directory = temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keeper = try KeeperUnderTest(script: Self.stubborn, directory: directory)
        defer { keeper.finish() }
        #expect(keeper.next() == .ready(pid: keeper.pid))
        let now = SystemMonotonicClock.now
        let stopAt = now + .milliseconds(400)
        let killAt = now + .milliseconds(700)
        let deadline = now + .milliseconds(730)
        keeper.send(.spawn(node: 3, term: 7, deadline: deadline, schedule: KillSchedule(stopAt: stopAt, killAt: killAt)))
        guard case .started(let pid, _) = keeper.next() else {
            Issue.record("the keeper did not start the command")
            return
        }
        let pids = try waitForLines("\(directory)/pids", count: 5)
        #expect(pids.first == pid)
        #expect(pids.allSatisfy { kill($0, 0) == 0 }, "every process runs before the schedule fires")
        let grant = try String(contentsOfFile: "\(directory)/grant", encoding: .utf8)
        #expect(grant == "3 7 7 3 7 \(deadline.nanoseconds)\n")
        // The keeper may run at real-time priority; CMD never inherits it.
        let policy = (try? String(contentsOfFile: "\(directory)/policy", encoding: .utf8)) ?? ""
        #expect(policy.contains("SCHED_OTHER"), "\(policy)")

        guard case .signalled(.terminate, let terminated) = keeper.next() else { Issue.record("no SIGTERM"); return }
        #expect(terminated >= stopAt)
        #expect(pids.allSatisfy { kill($0, 0) == 0 }, "SIGTERM is ignored by all of them")
        guard case .signalled(.kill, let killed) = keeper.next() else { Issue.record("no SIGKILL"); return }
        #expect(killed >= killAt)
        #expect(keeper.next().map { if case .exited(.signalled(SIGKILL), _) = $0 { true } else { false } } == true)
        guard case .gone(let gone) = keeper.next() else { Issue.record("the group was never reported gone"); return }
        // Generous: the keeper must act on its schedule, not merely eventually.
        #expect(gone < killAt + .seconds(1))
        print("keeper: SIGKILL \((killed - killAt).milliseconds) ms after kill_at, group gone \((deadline - gone).milliseconds) ms before the deadline")
        for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "pid \(pid) survived") }
    }

    @Test func whenTheSidecarDiesTheKeeperKillsTheWholeGroupAndExits() throws {
        let directory = temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keeper = try KeeperUnderTest(script: Self.stubborn, directory: directory)
        defer { keeper.finish() }
        _ = keeper.next()
        keeper.send(.spawn(node: 1, term: 2, deadline: nil, schedule: .never))
        _ = keeper.next()
        let pids = try waitForLines("\(directory)/pids", count: 5)
        keeper.closeOrders()
        #expect(keeper.waitForExit() == .exited(0))
        for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "pid \(pid) survived the sidecar") }
    }

    @Test func whatACommandLeavesBehindInItsGroupDiesWithIt() throws {
        let directory = temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keeper = try KeeperUnderTest(script: "sleep 1000 & echo $! >> \"$D/pids\"; exit 3", directory: directory)
        defer { keeper.finish() }
        _ = keeper.next()
        keeper.send(.spawn(node: 1, term: 2, deadline: nil, schedule: .never))
        _ = keeper.next()
        #expect(keeper.next().map { if case .exited(.exited(3), _) = $0 { true } else { false } } == true)
        #expect(keeper.next().map { if case .gone = $0 { true } else { false } } == true)
        let pids = try waitForLines("\(directory)/pids", count: 1)
        #expect(kill(pids[0], 0) == -1 && errno == ESRCH)
    }

    @Test func theLeasePipeCarriesEveryMoveAndTheEndToACooperatingChild() throws {
        let directory = temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Copies each lease line to a file, ignoring SIGTERM so that it also copies the line announcing the end.
        let keeper = try KeeperUnderTest(
            script: "trap '' TERM; while read -r term deadline <&3; do echo \"$term $deadline\" >> \"$D/lines\"; done",
            directory: directory)
        defer { keeper.finish() }
        _ = keeper.next()
        let base = SystemMonotonicClock.now + .seconds(30)
        keeper.send(.spawn(node: 1, term: 4, deadline: base, schedule: .never))
        _ = keeper.next()
        keeper.send(.lease(term: 4, deadline: base + .milliseconds(50), schedule: .never))
        _ = try waitForLines("\(directory)/lines", count: 2, raw: true)
        let end = SystemMonotonicClock.now
        keeper.send(.stop(term: 4, announce: end, killAt: end + .seconds(5)))
        #expect(keeper.next().map { if case .signalled(.terminate, _) = $0 { true } else { false } } == true)
        let lines = try waitForLines("\(directory)/lines", count: 3, raw: true)
        #expect(lines == ["4 \(base.nanoseconds)", "4 \((base + .milliseconds(50)).nanoseconds)", "4 \(end.nanoseconds)"])
        keeper.send(.kill)
        #expect(keeper.next().map { if case .signalled(.kill, _) = $0 { true } else { false } } == true)
        #expect(keeper.next().map { if case .exited = $0 { true } else { false } } == true)
    }

    @Test func theGroupDiesTheMomentTheNodesProcessIsGone() throws {
        let directory = temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A listener standing in for the node's HTTP port: closing it is what a dying process's kernel does.
        let (listener, port) = try loopbackListener()
        let keeper = try KeeperUnderTest(script: Self.stubborn, directory: directory,
                                         keeperArguments: ["--node-host", "127.0.0.1", "--node-port", "\(port)"])
        defer { keeper.finish() }
        _ = keeper.next()
        keeper.send(.spawn(node: 1, term: 2, deadline: SystemMonotonicClock.now + .seconds(60), schedule: .never))
        _ = keeper.next()
        let pids = try waitForLines("\(directory)/pids", count: 5)
        // The keeper's connection waits in the listener's queue; closing the listener resets it.
        close(listener)
        let closedAt = SystemMonotonicClock.now
        guard case .signalled(.kill, let killed) = keeper.next() else { Issue.record("no SIGKILL when the node went"); return }
        #expect(keeper.next().map { if case .exited(.signalled(SIGKILL), _) = $0 { true } else { false } } == true)
        #expect(keeper.next().map { if case .gone = $0 { true } else { false } } == true)
        print("keeper: SIGKILL \((killed - closedAt).milliseconds) ms after the node's port closed")
        for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "pid \(pid) survived") }
    }

    @Test func theGroupDiesWhenTheNodesOwnStreamSaysItNoLongerLeads() throws {
        let directory = temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (listener, port) = try loopbackListener()
        defer { close(listener) }
        let keeper = try KeeperUnderTest(script: Self.stubborn, directory: directory,
                                         keeperArguments: ["--node-host", "127.0.0.1", "--node-port", "\(port)", "--read-events"])
        defer { keeper.finish() }
        _ = keeper.next()
        keeper.send(.spawn(node: 1, term: 4, deadline: SystemMonotonicClock.now + .seconds(60), schedule: .never))
        _ = keeper.next()
        let pids = try waitForLines("\(directory)/pids", count: 5)
        // Play the node: accept the keeper's GET /events and answer it, chunked, as a node does.
        let connection = try accept(listener, timeout: .seconds(10))
        defer { close(connection) }
        var request = [UInt8](repeating: 0, count: 1024)
        let count = read(connection, &request, request.count)
        #expect(String(decoding: request[..<max(0, count)], as: UTF8.self).hasPrefix("GET /events HTTP/1.1\r\n"))
        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) } }
        func chunk(_ text: String) -> String { String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n" }
        send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        send(chunk("id: 7\nevent: state\ndata: {\"node\":1,\"term\":4,\"index\":7,\"leader\":1,\"mono_ns\":1,\"lease_until_mono_ns\":null,\"lease_unbounded\":true,\"is_leader\":true}\n\n"))
        // Still leading: nothing happens.
        #expect(keeper.next(timeout: .milliseconds(300)) == nil)
        let endedAt = SystemMonotonicClock.now
        send(chunk("id: 8\nevent: lease\ndata: {\"node\":1,\"term\":4,\"index\":8,\"leader\":1,\"mono_ns\":2,\"from_mono_ns\":2,\"until_mono_ns\":2,\"ends\":true,\"is_leader\":false}\n\n"))
        guard case .signalled(.kill, let killed) = keeper.next() else { Issue.record("no SIGKILL when the lease ended"); return }
        #expect(keeper.next().map { if case .exited(.signalled(SIGKILL), _) = $0 { true } else { false } } == true)
        #expect(keeper.next().map { if case .gone = $0 { true } else { false } } == true)
        print("keeper: SIGKILL \((killed - endedAt).milliseconds) ms after the node wrote the lease's end")
        for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "pid \(pid) survived") }
    }

    @Test func aChildThatNeverReadsItsLeasePipeCannotBlockTheKeeper() throws {
        let directory = temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keeper = try KeeperUnderTest(script: "exec sleep 1000", directory: directory)
        defer { keeper.finish() }
        _ = keeper.next()
        let deadline = SystemMonotonicClock.now + .seconds(60)
        keeper.send(.spawn(node: 1, term: 4, deadline: deadline, schedule: .never))
        _ = keeper.next()
        // About 30 bytes a line: far more than a pipe holds (64 KiB).
        for step in 0..<5000 { keeper.send(.lease(term: 4, deadline: deadline + .milliseconds(Int64(step)), schedule: .never)) }
        keeper.send(.kill)
        #expect(keeper.next().map { if case .signalled(.kill, _) = $0 { true } else { false } } == true)
        #expect(keeper.next().map { if case .exited(.signalled(SIGKILL), _) = $0 { true } else { false } } == true)
        #expect(keeper.next().map { if case .gone = $0 { true } else { false } } == true)
    }
}

/// `ballot sidecar-keeper -- /bin/sh -c SCRIPT` with `D` set to `directory`, its pipes held by the test.
final class KeeperUnderTest {
    let pid: pid_t
    private var orders: Int32
    private let reports: Int32
    private var pending: [UInt8] = []
    /// Set once the keeper was reaped (its PID may be reused after that).
    private var exit: ChildExit?

    init(script: String, directory: String, keeperArguments: [String] = []) throws {
        var control: [Int32] = [0, 0]
        var report: [Int32] = [0, 0]
        guard pipe(&control) == 0, pipe(&report) == 0 else { throw HarnessError("pipe failed") }
        for descriptor in control + report { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var request = ProcessSpawn.Request(
            executable: try ballotBinary(), arguments: ["ballot", "sidecar-keeper"] + keeperArguments + ["--", "/bin/sh", "-c", script],
            environment: ProcessSpawn.inheritedEnvironment(overriding: ["D=\(directory)"]))
        request.descriptors = [(control[0], 3), (report[1], 4)]
        pid = try ProcessSpawn.spawn(request)
        close(control[0])
        close(report[1])
        orders = control[1]
        reports = report[0]
    }

    func send(_ order: KeeperOrder) {
        let bytes = Array((order.line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(orders, $0.baseAddress, $0.count) }
    }

    /// The next report, or nil after `timeout`.
    func next(timeout: Duration = .seconds(10)) -> KeeperReport? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return KeeperReport(line: line)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            var descriptor = pollfd(fd: reports, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(max(1, left.milliseconds))) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(reports, &buffer, buffer.count)
            guard count > 0 else { return nil }
            pending += buffer[..<count]
        }
    }

    func closeOrders() {
        if orders >= 0 { close(orders) }
        orders = -1
    }

    /// Waits (bounded) for the keeper to exit.
    func waitForExit(timeout: Duration = .seconds(10)) -> ChildExit? {
        if let exit { return exit }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                exit = ProcessSpawn.decode(status)
                return exit
            }
            usleep(2000)
        }
        return nil
    }

    /// Ends the keeper (and so its group) whatever the test did.
    func finish() {
        closeOrders()
        if waitForExit(timeout: .seconds(10)) == nil {
            kill(pid, SIGKILL)
            _ = waitForExit()
        }
        close(reports)
    }
}

/// Waits (bounded) until `path` has `count` lines; returns them as PIDs.
func waitForLines(_ path: String, count: Int) throws -> [Int32] {
    try waitForLines(path, count: count, raw: true).map {
        guard let pid = Int32($0) else { throw HarnessError("\(path): not a PID: \($0)") }
        return pid
    }
}

/// Waits (bounded) until `path` has `count` lines; returns them.
func waitForLines(_ path: String, count: Int, raw: Bool) throws -> [String] {
    for _ in 0..<1000 {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").map(String.init)
        if lines.count >= count { return lines }
        usleep(10_000)
    }
    throw HarnessError("\(path) did not reach \(count) lines within 10 s")
}

/// A listening TCP socket on 127.0.0.1 and its port.
func loopbackListener() throws -> (Int32, Int) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
    guard listener >= 0, bound == 0, listen(listener, 4) == 0 else { throw HarnessError("cannot listen on 127.0.0.1") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
    return (listener, Int(UInt16(bigEndian: address.sin_port)))
}

/// Accepts one connection, waiting at most `timeout`.
func accept(_ listener: Int32, timeout: Duration) throws -> Int32 {
    var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, Int32(timeout.milliseconds)) == 1 else { throw HarnessError("no connection within \(timeout)") }
    return accept(listener, nil, nil)
}
