import ArgumentParser
import BallotClient
import BallotRuntime
import BallotServer
import Foundation

/// `ballot run`: the sidecar. Runs CMD only while the node at --http holds the lease.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command only while the node holds the leader lease, and stop it before the lease ends.",
        discussion: """
            Follows the node at --http as a lease holder (GET /holder, the /events stream; on this machine: lease \
            deadlines are its CLOCK_MONOTONIC), and tells it (POST /holder/stopped) once CMD's group is gone after \
            a lease ended, so a hand-over's successor starts its CMD within milliseconds. \
            While the node holds the lease, CMD runs in a process group of its own with BALLOT_NODE_ID, BALLOT_TERM, \
            BALLOT_FENCING_TOKEN (the term: fence every write with it) and BALLOT_LEASE_FD, a pipe carrying one line \
            "<term> <deadline>" per lease move (deadline in CLOCK_MONOTONIC nanoseconds, or "inf"), so CMD can stop \
            itself at the deadline.

            Without a lease extension, the group gets SIGTERM (as much of --grace as fits) and then SIGKILL, so that \
            it is dead --margin before the lease deadline; when the lease ends, the leader is lost or the node's \
            process is gone, it gets SIGKILL at once. A keeper process carries the schedule out even if this process \
            is stopped, and kills the group if this process dies. SIGTERM/SIGINT are forwarded to the group; a second \
            one sends SIGKILL.

            Exit statuses: 0 stopped by SIGTERM/SIGINT (CMD's group is gone); CMD's own status with \
            --on-exit exit (128+N if killed by signal N); 64 bad usage; 70 the keeper died (the group was killed); \
            127 CMD cannot be started. See docs/applications.md.
            """
    )

    @Option(name: .customLong("http"), help: "HTTP address of the node on this machine: HOST:PORT, http://HOST:PORT or https://HOST:PORT.")
    var http: String = "127.0.0.1:9101"

    @OptionGroup var client: HTTPClientOptions

    @Option(help: "SIGTERM-to-SIGKILL time CMD gets when it fits before the lease deadline, e.g. 2s.")
    var grace: String = "2s"

    @Option(help: "When CMD exits on its own while leading: resign (POST /resign), restart, or exit.")
    var onExit: String = "resign"

    @Option(help: "CMD's group is dead at least this long before the lease deadline, e.g. 20ms.")
    var margin: String = "20ms"

    @Option(help: "Serve this sidecar's Prometheus metrics on HOST:PORT (GET /metrics).")
    var metrics: String?

    @Argument(parsing: .postTerminator, help: "The command to run while leading, after --.")
    var command: [String] = []

    func run() async throws {
        guard !command.isEmpty else { throw ValidationError("give the command to run after --, e.g. ballot run -- ./worker") }
        guard let onExit = SidecarMachine.OnExit(rawValue: onExit) else {
            throw ValidationError("--on-exit takes resign, restart or exit, not '\(self.onExit)'")
        }
        let target = try client.target(http)
        var configuration = SidecarMachine.Configuration()
        do {
            configuration.grace = try DurationParser.parse(grace)
            configuration.margin = try DurationParser.parse(margin)
        } catch {
            throw ValidationError("\(error)")
        }
        configuration.onExit = onExit
        let sidecarMetrics = SidecarMetrics()
        var listener: SidecarMetrics.Listener?
        if let metrics {
            let spec = try SocketAddressSpec(parsing: metrics)
            do {
                listener = try await sidecarMetrics.serve(host: spec.hostString, port: spec.port)
            } catch {
                throw ValidationError("--metrics \(metrics): cannot listen (\(error))")
            }
        }
        var options = Sidecar.Options(target: target, command: command,
                                      keeperCommand: ["/proc/self/exe", SidecarKeeperCommand.configuration.commandName!])
        options.machine = configuration
        options.metrics = sidecarMetrics
        let status = await Sidecar.run(options) { line in
            // Stamped with CLOCK_MONOTONIC, the clock of the node's event lines and lease deadlines.
            let now = SystemMonotonicClock.now.nanoseconds
            let stamp = "\(now / 1_000_000_000).\(String(now % 1_000_000_000 / 1000).leftPadded(to: 6))"
            FileHandle.standardError.write(Data("ballot run [\(stamp)]: \(line)\n".utf8))
        }
        await listener?.close()
        if status != 0 { throw ExitCode(status) }
    }
}

/// The keeper half of `ballot run` (started by it, never by hand): parent of CMD's process group.
struct SidecarKeeperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar-keeper", abstract: "Internal: the process-group keeper of `ballot run`.",
        shouldDisplay: false)

    @Option(help: "Host of the node's HTTP endpoint, watched for the death of the node's process.")
    var nodeHost: String?

    @Option(help: "Port of the node's HTTP endpoint.")
    var nodePort: Int?

    @Flag(help: "Read the node's GET /events on its own connection too (a plain-HTTP endpoint).")
    var readEvents = false

    @Argument(parsing: .postTerminator)
    var command: [String] = []

    func run() throws {
        guard !command.isEmpty else { throw ValidationError("the keeper needs the command after --") }
        throw ExitCode(GroupKeeper.run(command: command, nodeHost: nodeHost, nodePort: nodePort, readEvents: readEvents))
    }
}

extension String {
    /// Left-padded with zeros to `width` characters.
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
