import BallotClient
import CProcessSupport
import Foundation
import Glibc
import Synchronization

/// A child process of the harness or of a test, started with `posix_spawn` (``ProcessSpawn``).
/// Not Foundation's `Process`: its launch in this toolchain over-reads `struct dirent` and can crash
/// the whole run (swift-corelibs-foundation #5472; docs/reliability.md).
///
/// The child gets no descriptor of this process but its standard input, output and error, default
/// signal dispositions and mask, and by default a process group of its own, as `Process` gave it (a
/// terminal's Ctrl-C reaches the harness, which stops its children itself). A thread per child reaps
/// it with the only `waitpid` for its PID: no zombie stays, and no other process's child is taken.
public final class ChildProcess: Sendable {
    /// Where the child's standard input comes from.
    public enum Input: Sendable {
        /// `/dev/null`: the child reads end of file at once.
        case null
        /// A pipe this process writes to: ``standardInput``.
        case pipe
    }

    /// Where the child's standard output or error goes.
    public enum Output: Sendable {
        /// `/dev/null`.
        case null
        /// This process's own standard output or error.
        case inherit
        /// A pipe this process reads: ``standardOutput`` or ``standardError``.
        case pipe
        /// A file, created or emptied first.
        case file(String)
        /// Standard error only: wherever standard output goes (`2>&1`).
        case standardOutput
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public let pid: pid_t
    /// This process's ends of the pipes asked for with `.pipe`, else nil.
    public let standardInput: ChildPipe?
    public let standardOutput: ChildPipe?
    public let standardError: ChildPipe?
    private let reaper: Reaper

    /// Starts `executable` (looked up on `PATH` when it has no `/`) with `arguments` (not counting the
    /// program name), this process's environment with `environment` replacing or adding variables,
    /// in `directory` (nil: this process's). Throws if it cannot start (not found, not executable).
    public init(_ executable: String, arguments: [String] = [], environment: [String: String] = [:],
                directory: String? = nil, input: Input = .null, output: Output = .inherit, error: Output = .inherit,
                newProcessGroup: Bool = true) throws {
        var descriptors: [(source: Int32, target: Int32)] = []
        // The child's ends, closed here once it has its copies (or the launch failed).
        var childEnds: [Int32] = []
        defer { for descriptor in childEnds { _ = Glibc.close(descriptor) } }

        switch input {
        case .null:
            let null = try Self.open("/dev/null", O_RDONLY)
            childEnds.append(null)
            descriptors.append((null, STDIN_FILENO))
            standardInput = nil
        case .pipe:
            let (read, write) = try Self.pipe()
            childEnds.append(read)
            descriptors.append((read, STDIN_FILENO))
            standardInput = ChildPipe(descriptor: write)
        }
        func redirect(_ output: Output, to target: Int32) throws -> ChildPipe? {
            switch output {
            case .inherit:
                return nil
            case .null, .file:
                let path = if case .file(let path) = output { path } else { "/dev/null" }
                let file = try Self.open(path, O_WRONLY | O_CREAT | O_TRUNC)
                childEnds.append(file)
                descriptors.append((file, target))
                return nil
            case .pipe:
                let (read, write) = try Self.pipe()
                childEnds.append(write)
                descriptors.append((write, target))
                return ChildPipe(descriptor: read)
            case .standardOutput:
                precondition(target == STDERR_FILENO, "only standard error can go to standard output")
                descriptors.append((STDOUT_FILENO, STDERR_FILENO))
                return nil
            }
        }
        standardOutput = try redirect(output, to: STDOUT_FILENO)
        standardError = try redirect(error, to: STDERR_FILENO)

        var request = ProcessSpawn.Request(
            executable: executable, arguments: [executable] + arguments,
            environment: ProcessSpawn.inheritedEnvironment(overriding: environment.map { "\($0.key)=\($0.value)" }))
        request.descriptors = descriptors
        request.directory = directory
        request.newProcessGroup = newProcessGroup
        pid = try ProcessSpawn.spawn(request)
        reaper = Reaper(pid: pid)
        let reaper = self.reaper
        Thread.detachNewThread { reaper.reap() }
    }

    /// Whether the child has not been reaped yet (a stopped child, or a zombie about to be reaped, runs).
    public var isRunning: Bool { reaper.exit == nil }

    /// How the child ended, once it has been reaped.
    public var exit: ChildExit? { reaper.exit }

    /// Sends `signal` to the child unless it has been reaped (so never to a process that took its PID
    /// since); whether it was sent.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        reaper.whileUnreaped { Glibc.kill(pid, signal) == 0 } ?? false
    }

    /// Waits until the child has been reaped, at most `timeout`; how it ended, or nil if it still runs.
    /// Suspends the task: no thread of the cooperative pool is blocked.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> ChildExit? {
        if let exit = reaper.exit { return exit }
        let reaper = self.reaper
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reaper.exited() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return reaper.exit
    }

    /// ``waitForExit(timeout:)`` blocking the calling thread, for code that cannot suspend (a `defer`,
    /// a `deinit`, a synchronous probe).
    @discardableResult
    public func waitForExitBlocking(timeout: Duration) -> ChildExit? {
        reaper.waitBlocking(timeout: timeout)
    }

    /// Ends the child as `Process.terminate()` and `waitUntilExit()` did, bounded: SIGTERM, then
    /// SIGKILL if it still runs after `grace`; waits (blocking) until it is reaped.
    @discardableResult
    public func terminate(grace: Duration = .seconds(10)) -> ChildExit? {
        signal(SIGTERM)
        if let exit = waitForExitBlocking(timeout: grace) { return exit }
        signal(SIGKILL)
        return waitForExitBlocking(timeout: .seconds(10))
    }

    private static func open(_ path: String, _ flags: Int32) throws -> Int32 {
        let descriptor = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure("cannot open \(path): \(String(cString: strerror(errno)))") }
        return descriptor
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard ballot_pipe_cloexec(&ends) == 0 else { throw Failure("cannot make a pipe: \(String(cString: strerror(errno)))") }
        return (ends[0], ends[1])
    }
}

/// Waits for one child on a thread of its own and reaps it, and tells whoever waits.
///
/// It first waits with WNOWAIT, leaving the child a zombie, then reaps it under the lock that
/// ``whileUnreaped(_:)`` holds: a signal sent under that lock cannot reach a process that reused the PID.
private final class Reaper: Sendable {
    private struct State {
        var exit: ChildExit?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    let pid: pid_t
    private let state = Mutex(State())
    /// Signalled once reaped; a blocking waiter passes it on to the next.
    private let reaped = DispatchSemaphore(value: 0)

    init(pid: pid_t) {
        self.pid = pid
    }

    var exit: ChildExit? { state.withLock { $0.exit } }

    /// Blocks until the child has ended, reaps it and wakes the waiters. Runs once, on its own thread.
    func reap() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        let waiters = state.withLock { state in
            // -1: the status is lost, which only happens if something else in this process reaped it.
            state.exit = ProcessSpawn.wait(pid) ?? .exited(-1)
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
        reaped.signal()
    }

    /// `body`'s result if the child has not been reaped, else nil; the child stays unreaped meanwhile.
    func whileUnreaped<T: Sendable>(_ body: () -> T) -> T? {
        state.withLock { $0.exit == nil ? body() : nil }
    }

    /// Returns once the child has been reaped, or the task is cancelled.
    func exited() async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    // A cancellation before this registration finds no waiter; it is seen here instead.
                    guard state.exit == nil, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    func waitBlocking(timeout: Duration) -> ChildExit? {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        guard reaped.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else { return exit }
        reaped.signal()
        return exit
    }
}
