import Foundation
import Glibc

/// Real ZooKeeper servers from Debian's `zookeeper` package (`apt-get install zookeeper`), for
/// the ZooKeeper client's tests, the backend's end-to-end tests and the fault suite.
///
/// Each server is `java … org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg` with a
/// generated configuration: 127.0.0.1 only, free ports, its own data directory, no admin HTTP
/// server. Beside each JVM runs a one-line `sh` watchdog that reads a pipe from this process:
/// when the pipe closes — ``ZooKeeperServer/stop()``, or this process dying for whatever
/// reason — it SIGKILLs the JVM, so no test leaves a Java process behind.
public final class ZooKeeperServer: @unchecked Sendable {
    /// The server's `myid` in its ensemble (1-based).
    public let id: Int
    public let clientPort: Int
    /// Followers' connection to the leader, and leader election (unused by a single server).
    public let quorumPort: Int
    public let electionPort: Int
    /// Holds `zoo.cfg`, `data/` and `server.log` (the JVM's output).
    public let directory: String
    /// The address clients reach it at, and the network namespace it runs in (nil: this one).
    public let host: String
    let namespace: String?
    private let lock = NSLock()
    private var java: ChildProcess?
    private var watchdog: ChildProcess?

    init(id: Int, clientPort: Int, quorumPort: Int, electionPort: Int, directory: String, host: String = "127.0.0.1",
         namespace: String? = nil) {
        self.id = id
        self.host = host
        self.namespace = namespace
        self.clientPort = clientPort
        self.quorumPort = quorumPort
        self.electionPort = electionPort
        self.directory = directory
    }

    /// `<host>:<client port>`, as a ZooKeeper connect string entry.
    public var address: String { "\(host):\(clientPort)" }
    public var logPath: String { directory + "/server.log" }

    /// The JVM's process ID while it runs (for SIGSTOP and SIGCONT faults; ``stop()`` kills).
    public var pid: pid_t? {
        lock.withLock { java?.isRunning == true ? java?.pid : nil }
    }

    public var isRunning: Bool { pid != nil }

    /// Starts the JVM (again, after ``stop()``: the data directory is kept). Returns once the
    /// process runs; ``ZooKeeperEnsemble/waitUntilServing(timeout:)`` waits for it to serve.
    public func start() throws {
        try lock.withLock {
            guard java?.isRunning != true else { return }
            var classPath = [ZooKeeperInstallation.serverJar]
            // Optional: the server's log lines (else SLF4J's no-op logger keeps it silent).
            if FileManager.default.fileExists(atPath: ZooKeeperInstallation.simpleLoggerJar) {
                classPath.append(ZooKeeperInstallation.simpleLoggerJar)
            }
            let javaPath = try ZooKeeperInstallation.java()
            var executable = javaPath
            var arguments = [
                "-Xms16m", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.admin.enableServer=false",
                "-Dzookeeper.jmx.log4j.disable=true", "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-cp", classPath.joined(separator: ":"),
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", directory + "/zoo.cfg",
            ]
            if let namespace {
                // `ip netns exec` enters the namespace and execs java: the same process ID.
                arguments = ["netns", "exec", namespace, javaPath] + arguments
                executable = Subprocess.locate("ip") ?? "/usr/sbin/ip"
            }
            let process = try ChildProcess(executable, arguments: arguments, output: .file(logPath), error: .standardOutput)
            // The watchdog only reads: at end of file it kills the JVM, which is still this
            // process's unreaped child then, so its PID cannot have been reused.
            let watchdog: ChildProcess
            do {
                watchdog = try ChildProcess(
                    "/bin/sh", arguments: ["-c", "read -r _; kill -9 \"$1\" 2>/dev/null", "zookeeper-watchdog", "\(process.pid)"],
                    input: .pipe, output: .null, error: .null)
            } catch {
                process.signal(SIGKILL)
                throw error
            }
            java = process
            self.watchdog = watchdog
        }
    }

    /// Sends `signal` to the JVM: SIGSTOP and SIGCONT for pause faults. Kill with ``stop()``.
    public func signal(_ signal: Int32) {
        if let pid { Glibc.kill(pid, signal) }
    }

    /// Kills the JVM with SIGKILL — a crash, as a fault, and the way tests end it, since they need
    /// no graceful shutdown — and its watchdog, and waits (at most 10 s) until both are gone.
    public func stop() async {
        let (java, watchdog) = lock.withLock { () -> (ChildProcess?, ChildProcess?) in
            defer {
                self.java = nil
                self.watchdog = nil
            }
            return (self.java, self.watchdog)
        }
        java?.signal(SIGCONT)
        // Closing the pipe makes the watchdog kill the JVM and exit.
        watchdog?.standardInput?.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, watchdog?.isRunning == true || java?.isRunning == true {
            if watchdog?.isRunning != true { java?.signal(SIGKILL) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        watchdog?.signal(SIGKILL)
        java?.signal(SIGKILL)
    }

    /// Sends a four-letter command (`srvr`, `ruok`, `mntr`…) to the client port and returns the
    /// answer, or nil if the server does not answer within 2 s.
    public func fourLetterWord(_ word: String) -> String? {
        guard let fd = LoopbackPorts.socket(connectedTo: clientPort) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(word.utf8)
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return nil }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while answer.count < 1 << 20 {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return count == 0 ? String(decoding: answer, as: UTF8.self) : nil }
            answer += chunk[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// `standalone`, `leader` or `follower` while the server serves clients, else nil. Also for a
    /// server in a network namespace (asked from inside it).
    public func currentMode() async -> String? {
        guard let namespace else { return mode() }
        let script = "exec 3<>/dev/tcp/\(host)/\(clientPort) && printf srvr >&3 && cat <&3"
        let result = await Subprocess.run(["ip", "netns", "exec", namespace, "bash", "-c", script], timeout: .seconds(3))
        return Self.mode(in: result.output)
    }

    /// `standalone`, `leader` or `follower` while the server serves clients, else nil.
    public func mode() -> String? {
        guard let answer = fourLetterWord("srvr") else { return nil }
        return Self.mode(in: answer)
    }

    private static func mode(in answer: String) -> String? {
        for line in answer.split(separator: "\n") where line.hasPrefix("Mode: ") {
            return String(line.dropFirst("Mode: ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// What the server logged so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// One ZooKeeper server, or an ensemble of three (or any number), on loopback.
public final class ZooKeeperEnsemble: Sendable {
    /// Settings every server of the ensemble shares.
    public struct Settings: Sendable {
        /// ZooKeeper's time unit: session timeouts, heartbeats and limits count in ticks.
        public var tickTime: Duration = .milliseconds(200)
        /// The bounds the servers clamp a client's requested session timeout to.
        public var minSessionTimeout: Duration = .milliseconds(500)
        public var maxSessionTimeout: Duration = .seconds(30)
        /// How many ticks a follower may lag its leader before it drops out (it serves clients
        /// meanwhile): the follower lag the ZooKeeper backend's claim margin covers.
        public var syncLimit = 10
        /// How long ``start(servers:settings:)`` waits for every server to serve.
        public var startupTimeout: Duration = .seconds(90)
        /// Run every server inside this network namespace, on `host` (default: 127.0.0.1 here).
        public var namespace: String?
        public var host = "127.0.0.1"
        /// Where ports are looked for (in a fresh namespace every port is free).
        public var basePort: Int?

        public init() {}
    }

    public let servers: [ZooKeeperServer]
    public let settings: Settings
    /// The ensemble's directory: one subdirectory per server. Removed by ``stop()``.
    public let directory: String

    /// `127.0.0.1:p1,127.0.0.1:p2,…`: the connect string of the whole ensemble.
    public var connectString: String { servers.map(\.address).joined(separator: ",") }

    private init(servers: [ZooKeeperServer], settings: Settings, directory: String) {
        self.servers = servers
        self.settings = settings
        self.directory = directory
    }

    /// Starts `count` servers (1: standalone; 3: an ensemble that tolerates one failure) and waits
    /// until every one serves clients. Throws, with every server stopped, if they do not. A server
    /// that exits at once (a port taken since it was found free) costs a retry on other ports.
    public static func start(servers count: Int, settings: Settings = Settings()) async throws -> ZooKeeperEnsemble {
        precondition(count >= 1, "an ensemble has at least one server")
        var attempt = 1
        while true {
            let directory = NSTemporaryDirectory() + "ballot-zookeeper-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let base = settings.basePort ?? LoopbackPorts.consecutiveFree(3 * count, from: Int.random(in: 20_000...50_000))
            let servers = (0..<count).map { index in
                ZooKeeperServer(id: index + 1, clientPort: base + 3 * index, quorumPort: base + 3 * index + 1,
                                electionPort: base + 3 * index + 2, directory: "\(directory)/server\(index + 1)",
                                host: settings.host, namespace: settings.namespace)
            }
            let ensemble = ZooKeeperEnsemble(servers: servers, settings: settings, directory: directory)
            do {
                try ensemble.writeConfiguration()
                for server in servers { try server.start() }
                try await ensemble.waitUntilServing(timeout: settings.startupTimeout)
                if let dead = servers.first(where: { !$0.isRunning }) {
                    throw ZooKeeperHarnessError("ZooKeeper server \(dead.id) exited at start-up; its log:\n\(dead.log.suffix(4000))")
                }
                return ensemble
            } catch let error as ZooKeeperHarnessError where attempt < 3 && error.description.contains("exited at start-up") {
                await ensemble.stop()
                attempt += 1
            } catch {
                await ensemble.stop()
                throw error
            }
        }
    }

    /// Starts an ensemble, runs `body`, and stops it afterwards, also when `body` throws.
    public static func whileRunning<T>(servers count: Int, settings: Settings = Settings(),
                                       _ body: (ZooKeeperEnsemble) async throws -> T) async throws -> T {
        let ensemble = try await start(servers: count, settings: settings)
        do {
            let result = try await body(ensemble)
            await ensemble.stop()
            return result
        } catch {
            await ensemble.stop()
            throw error
        }
    }

    /// Waits until every running server serves clients (as `standalone`, `leader` or `follower`).
    public func waitUntilServing(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var waiting: [Int] = []
        while ContinuousClock.now < deadline {
            waiting = []
            for server in servers where server.isRunning {
                if await server.currentMode() == nil { waiting.append(server.id) }
            }
            if waiting.isEmpty { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ZooKeeperHarnessError("ZooKeeper servers \(waiting) did not serve within \(timeout); server \(waiting.first ?? 0)'s log:\n"
            + (servers.first { $0.id == waiting.first }?.log.suffix(4000) ?? ""))
    }

    /// The server currently leading the ensemble (or the standalone server), if any serves.
    public func leader() -> ZooKeeperServer? {
        servers.first { ["leader", "standalone"].contains($0.mode() ?? "") }
    }

    /// ``leader()``, also for servers in a network namespace.
    public func currentLeader() async -> ZooKeeperServer? {
        for server in servers where server.isRunning {
            if ["leader", "standalone"].contains(await server.currentMode() ?? "") { return server }
        }
        return nil
    }

    /// Kills every server and removes the ensemble's directory.
    public func stop() async {
        await withTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { await server.stop() } }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func writeConfiguration() throws {
        let ms = { (duration: Duration) in duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000 }
        for server in servers {
            let data = server.directory + "/data"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            var lines = [
                "tickTime=\(ms(settings.tickTime))", "initLimit=50", "syncLimit=\(settings.syncLimit)",
                "dataDir=\(data)", "clientPort=\(server.clientPort)", "clientPortAddress=\(server.host)",
                "minSessionTimeout=\(ms(settings.minSessionTimeout))", "maxSessionTimeout=\(ms(settings.maxSessionTimeout))",
                "admin.enableServer=false", "4lw.commands.whitelist=srvr,ruok,mntr,cons,stat",
                "maxClientCnxns=0", "autopurge.purgeInterval=0",
            ]
            if servers.count > 1 {
                lines += ["standaloneEnabled=false", "reconfigEnabled=false", "quorumListenOnAllIPs=false"]
                for member in servers {
                    lines.append("server.\(member.id)=\(member.host):\(member.quorumPort):\(member.electionPort)")
                }
                try "\(server.id)\n".write(toFile: data + "/myid", atomically: true, encoding: .utf8)
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: server.directory + "/zoo.cfg", atomically: true, encoding: .utf8)
        }
    }
}

/// Where Debian's `zookeeper` package puts things.
enum ZooKeeperInstallation {
    static let serverJar = "/usr/share/java/zookeeper.jar"
    static let simpleLoggerJar = "/usr/share/java/slf4j-simple.jar"

    /// The system's `java` (the runtime the package pulled in, as its own scripts use), else
    /// `$JAVA_HOME/bin/java`; throws with the fix if ZooKeeper or Java is missing.
    static func java() throws -> String {
        guard FileManager.default.fileExists(atPath: serverJar) else {
            throw ZooKeeperHarnessError("\(serverJar) not found: install ZooKeeper with `apt-get install -y zookeeper` "
                + "(scripts/test.sh does)")
        }
        if let java = Subprocess.locate("java") { return java }
        guard let home = ProcessInfo.processInfo.environment["JAVA_HOME"], !home.isEmpty,
            let java = Optional(home + "/bin/java"), FileManager.default.isExecutableFile(atPath: java)
        else {
            throw ZooKeeperHarnessError("no `java` found: `apt-get install -y zookeeper` installs a Java runtime")
        }
        return java
    }
}

public struct ZooKeeperHarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
