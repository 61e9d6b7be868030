import BallotSimulation
import ArgumentParser
import BallotHarness
import BallotClient
import BallotServer
import Foundation

/// `ballot faults`: the fault-injection suite on real processes, with the history checker.
struct FaultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Inject faults into real `ballot serve` clusters and check the recorded history.",
        discussion: """
            Starts real clusters (each node in its own Linux network namespace when possible, else on
            127.0.0.1), injects one bounded fault at a time — SIGKILL and restart, SIGSTOP/SIGCONT longer
            than the election timeout, symmetric, asymmetric and bridge partitions, packet loss, delay —
            and checks every node's leadership and lease lines: one leader per term, no overlapping
            leases, no stale leader after a pause, monotonic terms, durable term and vote, recovery after
            each heal. Needs root for namespaces: without them the network faults are SKIPPED, which
            fails the run unless --no-namespaces (or --kinds kill,pause) asked for it.
            Exits non-zero on any violation, on any heal without a stable leader within the bound, and
            on a run that proves nothing: no fault injected, no election after the faults began, a
            stopped leader not followed by an election, or a fault during which no probe was answered.
            See docs/reliability.md.
            """
    )

    @Option(help: "Faults to inject in total, spread over the cluster sizes.")
    var faults: Int = 40

    @Option(help: "Cluster sizes, comma-separated, e.g. 3,5.")
    var nodes: String = "3,5"

    @Option(help: "Fault kinds, comma-separated (kill,pause,partition,asymmetric,bridge,loss,delay); default all.")
    var kinds: String?

    @Option(help: "Seed of the fault schedule.")
    var seed: UInt64 = 1

    @Option(help: "Election timeout of every node.")
    var electionTimeout: String = "300ms"

    @Option(help: "Heartbeat interval of every node.")
    var heartbeatInterval: String = "50ms"

    @Option(help: "The ballot binary to run as nodes (default: this executable).")
    var binary: String?

    @Flag(help: "Run every node on 127.0.0.1 and skip the network faults.")
    var noNamespaces = false

    @Flag(help: """
        Sidecar mode: every node runs `ballot run -- <writer>`; faults hit the leading node, its sidecar or the \
        writer (--kinds crash-node,pause-node,crash-sidecar,pause-sidecar,crash-child,pause-child,partition,transfer,\
        resign); checks that no two writers ever run at once and each ran under a lease of its term.
        """)
    var sidecar = false

    func run() async throws {
        let sizes = nodes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ (3...9).contains($0) }) else {
            throw ValidationError("--nodes takes sizes from 3 to 9 (a bridge needs three nodes), e.g. 3,5")
        }
        guard (1...100_000).contains(faults) else { throw ValidationError("--faults must be between 1 and 100000") }
        let executable = binary ?? CommandLine.arguments[0]
        let resolved = executable.hasPrefix("/") ? executable
            : FileManager.default.currentDirectoryPath + "/" + executable
        var options = FaultSuite.Options(
            binary: URL(fileURLWithPath: resolved).standardizedFileURL.path,
            workDirectory: NSTemporaryDirectory() + "ballot-faults-\(getpid())")
        options.faults = faults
        options.nodeCounts = sizes
        options.seed = seed
        options.namespaces = !noNamespaces
        do {
            options.electionTimeout = try DurationParser.parse(electionTimeout)
            options.heartbeatInterval = try DurationParser.parse(heartbeatInterval)
        } catch {
            throw ValidationError("\(error)")
        }
        if sidecar { return try await runSidecarSuite(options) }
        if let kinds {
            options.kinds = try kinds.split(separator: ",").map { name in
                guard let kind = FaultKind(named: String(name)) else { throw ValidationError("unknown fault kind '\(name)'") }
                return kind
            }
        }
        Self.say("ballot faults: seed \(seed), \(faults) faults on \(sizes.map(String.init).joined(separator: ",")) nodes, "
              + "T=\(electionTimeout), heartbeat \(heartbeatInterval)")
        let report = try await FaultSuite.run(options) { Self.say($0) }
        Self.say("\n" + report.summary)
        // Node logs and timelines are evidence only of a violation or an unrecovered heal.
        if report.violations.isEmpty && report.unrecovered == 0 {
            try? FileManager.default.removeItem(atPath: options.workDirectory)
        } else {
            Self.say("node logs and the recorded timeline are kept under \(options.workDirectory)")
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }

    /// Writes a line at once (unbuffered), so progress shows when the output is a pipe.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
