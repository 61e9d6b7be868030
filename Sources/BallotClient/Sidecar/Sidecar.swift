import BallotRuntime
import CProcessSupport
import Dispatch
import Glibc
import Synchronization

/// The shell of `ballot run`: follows the node's `/holder` (its `/events`, as a lease holder), feeds
/// ``SidecarMachine`` and carries its actions out through the keeper process (``GroupKeeper``),
/// which is the parent of CMD's group.
///
/// It makes no timing decision of its own: the machine decides, the keeper executes.
public enum Sidecar {
    public struct Options: Sendable {
        /// The node's HTTP endpoint (on this machine: lease deadlines are its CLOCK_MONOTONIC), with
        /// its TLS and bearer token (`POST /resign` needs it where the node asks for one).
        public var target: HTTPTarget
        /// CMD and its arguments.
        public var command: [String]
        /// How to start the keeper; CMD follows after `--`. `ballot run` uses its own executable:
        /// `["/proc/self/exe", "sidecar-keeper"]`.
        public var keeperCommand: [String]
        public var machine = SidecarMachine.Configuration()
        public var metrics: SidecarMetrics?
        public var subscription: LeadershipSubscription.Options

        public init(target: HTTPTarget, command: [String], keeperCommand: [String]) {
            self.target = target
            self.command = command
            self.keeperCommand = keeperCommand
            subscription = LeadershipSubscription.Options(target: target)
            // The events of GET /events, as a lease holder: the node then releases an ended lease as
            // soon as this sidecar says CMD's group is gone (released hand-overs).
            subscription.path = "/holder"
        }
    }

    /// Runs until the machine exits; returns the process's exit status.
    public static func run(_ options: Options, log: @escaping @Sendable (String) -> Void) async -> Int32 {
        let metrics = options.metrics ?? SidecarMetrics()
        let (inputs, continuation) = AsyncStream<SidecarMachine.Input>.makeStream()

        // The keeper: control pipe to it on its fd 3, report pipe from it on its fd 4.
        var control: [Int32] = [0, 0]
        var reports: [Int32] = [0, 0]
        guard ballot_pipe_cloexec(&control) == 0, ballot_pipe_cloexec(&reports) == 0 else {
            log("cannot create the keeper's pipes (errno \(errno))")
            return SidecarMachine.ExitStatus.supervisionLost
        }
        var request = ProcessSpawn.Request(
            executable: options.keeperCommand[0],
            arguments: options.keeperCommand
                + ["--node-host", options.target.address.hostString, "--node-port", "\(options.target.address.port)"]
                + (options.target.isSecure ? [] : ["--read-events"]) + ["--"] + options.command,
            environment: ProcessSpawn.inheritedEnvironment())
        request.descriptors = [(control[0], GroupKeeper.controlDescriptor), (reports[1], GroupKeeper.reportDescriptor)]
        let keeper: pid_t
        do {
            keeper = try ProcessSpawn.spawn(request)
        } catch {
            log("cannot start the keeper: \(error)")
            return SidecarMachine.ExitStatus.supervisionLost
        }
        close(control[0])
        close(reports[1])
        let orders = control[1]
        readReports(from: reports[0], into: continuation)

        // SIGTERM and SIGINT become inputs (the keeper ignores them; the machine forwards them).
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(.signal(number)) }
            source.resume()
            sources.append(source)
        }

        let subscriptionOptions = options.subscription
        let subscription = Task {
            let lastProblem = LastLine()
            await LeadershipSubscription.run(subscriptionOptions) { update in
                switch update {
                case .connected(let holder):
                    metrics.streamConnected.set(to: 1)
                    lastProblem.clear()
                    continuation.yield(.connected(holder: holder))
                case .event(let event):
                    continuation.yield(.event(event))
                case .skipped(let detail):
                    metrics.eventsSkipped.increment()
                    log("skipped: \(detail)")
                case .disconnected(let disconnect):
                    metrics.disconnected(disconnect)
                    if lastProblem.changed(to: disconnect.description) {
                        log("\(options.target): \(disconnect); reconnecting")
                    }
                    if disconnect == .refused { continuation.yield(.nodeGone) }
                }
            }
        }

        var machine = SidecarMachine(configuration: options.machine)
        var timer: Task<Void, Never>?
        var timerWake: MonotonicInstant?
        var group: pid_t?
        var status = SidecarMachine.ExitStatus.supervisionLost
        var keeperLost = false
        var pendingConfirmations: [Task<Void, Never>] = []
        run: for await input in inputs {
            let now = SystemMonotonicClock.now
            switch input {
            case .keeper(.started(let pid, _)): group = pid
            case .keeper(.gone): group = nil
            case .keeper(.signalled(let signal, _)): metrics.signals[signal]?.increment()
            case .keeperLost: keeperLost = true
            default: break
            }
            for action in machine.handle(input, at: now) {
                switch action {
                case .spawn(let grant):
                    send(.spawn(node: grant.node, term: grant.term, deadline: grant.deadline, schedule: grant.schedule), to: orders)
                case .extend(let term, let deadline, let schedule):
                    send(.lease(term: term, deadline: deadline, schedule: schedule), to: orders)
                case .terminate(let term, let announce, let killAt):
                    send(.stop(term: term, announce: announce, killAt: killAt), to: orders)
                case .kill:
                    send(.kill, to: orders)
                case .confirmStopped(let holder, let index, let leaving):
                    let target = options.target
                    let confirmation = Task {
                        if let problem = await confirmStopped(target, holder: holder, index: index, leaving: leaving) {
                            log("could not tell the node CMD stopped (it waits for the lease deadline instead): \(problem)")
                        }
                    }
                    if leaving { pendingConfirmations.append(confirmation) }
                case .resign:
                    let target = options.target
                    Task {
                        let outcome = await resign(target)
                        metrics.resignations[outcome.succeeded]?.increment()
                        continuation.yield(.resignFinished(succeeded: outcome.succeeded, detail: outcome.detail))
                    }
                case .childStarted:
                    metrics.childRunning.set(to: 1)
                    metrics.childStarts.increment()
                case .childGone(let margin):
                    metrics.childRunning.set(to: 0)
                    if let margin { metrics.childMargin.record(margin.seconds) }
                case .exit(let code):
                    status = code
                    break run
                case .log(let line):
                    log(line)
                }
            }
            metrics.leaseHeld.set(to: machine.holdsLease(at: now) ? 1 : 0)
            let wake = machine.nextWake
            if wake != timerWake {
                timer?.cancel()
                timerWake = wake
                timer = wake.map { wake in
                    Task {
                        let delay = wake - SystemMonotonicClock.now
                        if delay > .zero { try? await Task.sleep(for: delay) }
                        if !Task.isCancelled { continuation.yield(.tick) }
                    }
                }
            }
        }

        timer?.cancel()
        // The last confirmation goes out before the stream closes, or the node would take the
        // closed stream for a holder that may still act.
        for confirmation in pendingConfirmations { await confirmation.value }
        subscription.cancel()
        for source in sources { source.cancel() }
        // Closing the control pipe tells the keeper to kill whatever is left and exit.
        close(orders)
        if keeperLost, let group { kill(-group, SIGKILL) }
        for _ in 0..<3000 {
            var keeperStatus: Int32 = 0
            let result = waitpid(keeper, &keeperStatus, WNOHANG)
            if result == keeper || (result == -1 && errno == ECHILD) { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        _ = await subscription.result
        continuation.finish()
        return status
    }

    /// `POST /holder/stopped` on the node; the problem, if it did not take.
    static func confirmStopped(_ target: HTTPTarget, holder: String, index: UInt64, leaving: Bool) async -> String? {
        do {
            let response = try await HTTPClient.request(
                .POST, target, path: "/holder/stopped?id=\(holder)&index=\(index)\(leaving ? "&leaving=true" : "")",
                timeout: .seconds(2))
            return response.status == 200 ? nil : "HTTP \(response.status): \(response.text.trimmingSpaces)"
        } catch {
            return "\(error)"
        }
    }

    /// `POST /resign` on the node.
    static func resign(_ target: HTTPTarget) async -> (succeeded: Bool, detail: String) {
        do {
            let response = try await HTTPClient.request(.POST, target, path: "/resign", timeout: .seconds(5))
            let body = response.text.trimmingSpaces
            return (response.status == 200, "HTTP \(response.status)\(body.isEmpty ? "" : ": \(body)")")
        } catch {
            return (false, "\(error)")
        }
    }

    private static func send(_ order: KeeperOrder, to descriptor: Int32) {
        let bytes = Array((order.line + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if result > 0 { written += result } else if result < 0 && errno == EINTR { continue } else { return }
        }
    }

    /// Reads the keeper's reports on a thread of their own; the pipe's end is ``SidecarMachine/Input/keeperLost``.
    private static func readReports(from descriptor: Int32, into continuation: AsyncStream<SidecarMachine.Input>.Continuation) {
        DispatchQueue(label: "ballot-run-keeper-reports").async {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending += buffer[..<count]
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if let report = KeeperReport(line: line) { continuation.yield(.keeper(report)) }
                }
            }
            close(descriptor)
            continuation.yield(.keeperLost)
        }
    }
}

/// Remembers the last problem line logged, so a node that stays unreachable is reported once.
private final class LastLine: Sendable {
    private let line = Mutex<String?>(nil)

    func changed(to new: String) -> Bool {
        line.withLock { line in
            defer { line = new }
            return line != new
        }
    }

    func clear() { line.withLock { $0 = nil } }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
