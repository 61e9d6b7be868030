import Foundation
import Glibc

/// Real etcd members from Debian's `etcd-server` package (`apt-get install etcd-server etcd-client`),
/// for the etcd backend's tests, the failover benchmark and the fault suite.
///
/// Each member is `etcd` with its own data directory, free ports and a generated command line: on
/// 127.0.0.1 by default, or on an address inside a network namespace (``EtcdCluster/Settings/namespace``)
/// so the fault suite can cut Ballot nodes off from it. Beside each runs a one-line `sh` watchdog
/// that reads a pipe from this process and SIGKILLs the member when the pipe closes —
/// ``EtcdMember/stop()``, or this process dying — so no test leaves an etcd behind.
public final class EtcdMember: @unchecked Sendable {
    public let name: String
    public let host: String
    public let clientPort: Int
    public let peerPort: Int
    /// Holds `data/` and `etcd.log`.
    public let directory: String
    let arguments: [String]
    let namespace: String?
    private let lock = NSLock()
    private var process: ChildProcess?
    private var watchdog: ChildProcess?

    init(name: String, host: String, clientPort: Int, peerPort: Int, directory: String, arguments: [String], namespace: String?) {
        self.name = name
        self.host = host
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.directory = directory
        self.arguments = arguments
        self.namespace = namespace
    }

    public var logPath: String { directory + "/etcd.log" }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The etcd process ID while it runs (for SIGSTOP/SIGCONT faults; ``stop()`` kills).
    public var pid: pid_t? { lock.withLock { process?.isRunning == true ? process?.pid : nil } }
    public var isRunning: Bool { pid != nil }

    /// Starts the member (again after ``stop()``: its data directory is kept, so it rejoins).
    public func start() throws {
        try lock.withLock {
            guard process?.isRunning != true else { return }
            guard let etcd = Subprocess.locate("etcd") else {
                throw EtcdHarnessError("`etcd` not found: install it with `apt-get install -y etcd-server etcd-client` (scripts/test.sh does)")
            }
            let process = if let namespace {
                try ChildProcess(Subprocess.locate("ip") ?? "/usr/sbin/ip", arguments: ["netns", "exec", namespace, etcd] + arguments,
                                 output: .file(logPath), error: .standardOutput)
            } else {
                try ChildProcess(etcd, arguments: arguments, output: .file(logPath), error: .standardOutput)
            }
            let watchdog: ChildProcess
            do {
                watchdog = try ChildProcess(
                    "/bin/sh", arguments: ["-c", "read -r _; kill -9 \"$1\" 2>/dev/null", "etcd-watchdog", "\(process.pid)"],
                    input: .pipe, output: .null, error: .null)
            } catch {
                process.signal(SIGKILL)
                throw error
            }
            self.process = process
            self.watchdog = watchdog
        }
    }

    public func signal(_ signal: Int32) {
        if let pid { Glibc.kill(pid, signal) }
    }

    /// SIGKILL — a crash as a fault, and how tests end it — then waits (at most 10 s) until it is gone.
    public func stop() async {
        let (process, watchdog) = lock.withLock { () -> (ChildProcess?, ChildProcess?) in
            defer {
                self.process = nil
                self.watchdog = nil
            }
            return (self.process, self.watchdog)
        }
        process?.signal(SIGCONT)
        watchdog?.standardInput?.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, watchdog?.isRunning == true || process?.isRunning == true {
            if watchdog?.isRunning != true { process?.signal(SIGKILL) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        watchdog?.signal(SIGKILL)
        process?.signal(SIGKILL)
    }
}

/// One etcd member, or a cluster of three (or any number).
public final class EtcdCluster: Sendable {
    public struct Settings: Sendable {
        /// etcd's own Raft timing. etcd raises lease TTLs below ⌈1.5 × election timeout⌉: with 500 ms,
        /// a TTL of 1 s is honoured.
        public var heartbeatInterval: Duration = .milliseconds(50)
        public var electionTimeout: Duration = .milliseconds(500)
        public var startupTimeout: Duration = .seconds(60)
        /// Serve clients over TLS with these files (and require client certificates if `clientCA` is set).
        public var tls: TLSFiles?
        /// Run every member inside this network namespace, on `host` (default: 127.0.0.1, no namespace).
        public var namespace: String?
        public var host = "127.0.0.1"
        /// Where ports are looked for (free on 127.0.0.1; in a fresh namespace every port is free).
        public var basePort: Int?

        public init() {}
    }

    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        /// With a CA, members require client certificates signed by it.
        public var clientCA: String?
        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    public let members: [EtcdMember]
    public let settings: Settings
    public let directory: String

    /// `http(s)://host:port,…`: every member's client URL.
    public var endpoints: String { members.map(clientURL).joined(separator: ",") }

    public func clientURL(_ member: EtcdMember) -> String {
        "\(settings.tls == nil ? "http" : "https")://\(member.host):\(member.clientPort)"
    }

    private init(members: [EtcdMember], settings: Settings, directory: String) {
        self.members = members
        self.settings = settings
        self.directory = directory
    }

    /// Starts `count` members (1, or 3 to survive one failure) and waits until all are healthy.
    public static func start(members count: Int, settings: Settings = Settings()) async throws -> EtcdCluster {
        precondition(count >= 1, "a cluster has at least one member")
        var attempt = 1
        while true {
            let directory = NSTemporaryDirectory() + "ballot-etcd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let base = settings.basePort ?? LoopbackPorts.consecutiveFree(2 * count, from: Int.random(in: 20_000...50_000))
            let scheme = settings.tls == nil ? "http" : "https"
            let host = settings.host
            let cluster = (0..<count).map { "m\($0 + 1)=http://\(host):\(base + 2 * $0 + 1)" }.joined(separator: ",")
            let token = "ballot-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let members = try (0..<count).map { index -> EtcdMember in
                let name = "m\(index + 1)"
                let memberDirectory = "\(directory)/\(name)"
                try FileManager.default.createDirectory(atPath: memberDirectory, withIntermediateDirectories: true)
                let client = base + 2 * index
                let peer = client + 1
                var arguments = [
                    "--name", name, "--data-dir", memberDirectory + "/data",
                    "--listen-client-urls", "\(scheme)://\(host):\(client)", "--advertise-client-urls", "\(scheme)://\(host):\(client)",
                    "--listen-peer-urls", "http://\(host):\(peer)", "--initial-advertise-peer-urls", "http://\(host):\(peer)",
                    "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", token,
                    "--heartbeat-interval", "\(Int(settings.heartbeatInterval.milliseconds))",
                    "--election-timeout", "\(Int(settings.electionTimeout.milliseconds))",
                    "--logger", "zap", "--log-level", "warn", "--enable-v2=false",
                ]
                if let tls = settings.tls {
                    arguments += ["--cert-file", tls.certificate, "--key-file", tls.key]
                    if let ca = tls.clientCA { arguments += ["--client-cert-auth", "--trusted-ca-file", ca] }
                }
                return EtcdMember(name: name, host: host, clientPort: client, peerPort: peer, directory: memberDirectory,
                                  arguments: arguments, namespace: settings.namespace)
            }
            let started = EtcdCluster(members: members, settings: settings, directory: directory)
            do {
                for member in members { try member.start() }
                try await started.waitUntilHealthy(timeout: settings.startupTimeout)
                return started
            } catch let error as EtcdHarnessError where attempt < 3 && error.description.contains("exited") {
                await started.stop()
                attempt += 1
            } catch {
                await started.stop()
                throw error
            }
        }
    }

    /// Starts a cluster, runs `body`, and stops it afterwards, also when `body` throws.
    public static func whileRunning<T>(members count: Int, settings: Settings = Settings(),
                                       _ body: (EtcdCluster) async throws -> T) async throws -> T {
        let cluster = try await start(members: count, settings: settings)
        do {
            let result = try await body(cluster)
            await cluster.stop()
            return result
        } catch {
            await cluster.stop()
            throw error
        }
    }

    /// Runs `etcdctl` against `members` (default: all running ones), inside the namespace if there is one.
    @discardableResult
    public func etcdctl(_ arguments: [String], members chosen: [EtcdMember]? = nil,
                        timeout: Duration = .seconds(10)) async -> Subprocess.Result {
        let targets = (chosen ?? members.filter(\.isRunning)).map(clientURL).joined(separator: ",")
        var command = ["etcdctl", "--endpoints", targets, "--command-timeout", "3s", "--dial-timeout", "2s"]
        if let tls = settings.tls {
            command += ["--cacert", tls.clientCA ?? tls.certificate]
            if tls.clientCA != nil { command += ["--cert", tls.certificate, "--key", tls.key] }
        }
        command += arguments
        if let namespace = settings.namespace {
            command = ["ip", "netns", "exec", namespace] + command.map { $0 == "etcdctl" ? (Subprocess.locate("etcdctl") ?? $0) : $0 }
        }
        return await Subprocess.run(command, timeout: timeout)
    }

    /// Waits until every running member reports itself healthy.
    public func waitUntilHealthy(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            if let dead = members.first(where: { !$0.isRunning }) {
                throw EtcdHarnessError("etcd member \(dead.name) exited at start-up; its log:\n\(dead.log.suffix(4000))")
            }
            let result = await etcdctl(["endpoint", "health"], members: members, timeout: .seconds(5))
            if result.succeeded { return }
            last = result.error
            try await Task.sleep(for: .milliseconds(100))
        }
        throw EtcdHarnessError("etcd did not become healthy within \(timeout): \(last)\n\(members.first?.log.suffix(4000) ?? "")")
    }

    /// The member leading etcd's own Raft group, if the running members agree on one.
    public func leader() async -> EtcdMember? {
        let result = await etcdctl(["endpoint", "status", "--write-out", "json"])
        guard let data = result.output.data(using: .utf8),
              let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return nil }
        for entry in list {
            guard let endpoint = entry["Endpoint"] as? String, let status = entry["Status"] as? [String: Any],
                  let header = status["header"] as? [String: Any],
                  let member = (header["member_id"] as? NSNumber)?.uint64Value,
                  let leader = (status["leader"] as? NSNumber)?.uint64Value, member == leader
            else { continue }
            return members.first { clientURL($0) == endpoint }
        }
        return nil
    }

    /// Kills every member and removes the cluster's directory.
    public func stop() async {
        await withTaskGroup(of: Void.self) { group in
            for member in members { group.addTask { await member.stop() } }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

public struct EtcdHarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
