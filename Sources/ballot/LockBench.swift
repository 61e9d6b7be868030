import ArgumentParser
import BallotHarness
import BallotSimulation
import Foundation

/// `ballot bench lock`: `etcdctl lock` with the sidecar suite's writer and faults, for the side-by-side
/// comparison with `ballot run` (docs/applications.md).
struct LockBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Run the leader-only writer under `etcdctl lock` and SIGKILL or SIGSTOP the lock holder: overlap and gap.",
        discussion: """
            Starts a real etcd server on loopback (its own data directory, heartbeat 50 ms, election timeout 300 ms) \
            and --contenders `etcdctl lock --ttl TTL ballot-bench -- ballot-writer` processes (the writer built next \
            to this ballot, `swift build --product ballot-writer`), then per trial \
            kills (crash) or stops (pause) the etcdctl whose writer runs. Reports, from the writers' own \
            CLOCK_MONOTONIC records, the time two writers ran at once and the time none ran. Ballot's side: \
            ballot faults --sidecar --kinds crash-node,pause-node,crash-sidecar,pause-sidecar. Needs etcd-server \
            and etcd-client (Debian).
            """)

    @Option(help: "crash (SIGKILL of the holder's etcdctl) or pause (SIGSTOP, then SIGCONT).")
    var fault: String = "crash"

    @Option(help: "Trials.")
    var trials: Int = 20

    @Option(help: "Contending etcdctl processes.")
    var contenders: Int = 3

    @Option(help: "Session TTL of etcdctl lock, in seconds (1 is etcd's minimum with a 300 ms election timeout).")
    var ttl: Int = 1

    @Option(help: "Seed of the fault offsets.")
    var seed: UInt64 = 1

    func run() async throws {
        guard let kind = FaultKind(named: fault), kind == .crash || kind == .pause else {
            throw ValidationError("--fault takes crash or pause")
        }
        guard (1...10_000).contains(trials), (2...9).contains(contenders), (1...60).contains(ttl) else {
            throw ValidationError("--trials 1…10000, --contenders 2…9, --ttl 1…60")
        }
        var options = EtcdLockBenchmark.Options(binary: ballotExecutable(),
                                                workDirectory: NSTemporaryDirectory() + "ballot-bench-lock-\(getpid())")
        options.trials = trials
        options.fault = kind
        options.contenders = contenders
        options.ttlSeconds = ttl
        options.pauseFor = .seconds(Int64(3 * ttl))
        options.seed = seed
        let results = try await EtcdLockBenchmark.run(options) { FaultsCommand.say($0) }
        FaultsCommand.say("\n" + EtcdLockBenchmark.summary(results))
        try? FileManager.default.removeItem(atPath: options.workDirectory)
    }
}
